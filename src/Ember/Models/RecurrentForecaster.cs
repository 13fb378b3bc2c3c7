using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Nn.Layers.Recurrent;

namespace Ember.Models;

/// <summary>
/// A direct multi-step forecaster: an LSTM or GRU (batch-first) reads the input window x (N, L, 1), a linear head maps
/// its last hidden state to <see cref="Horizon"/> values, and the result is added to the window's last value:
/// ŷ_{t+h} = x_t + head(h_L)_h, output (N, Horizon, 1). Predicting the change from the last value (the naive
/// forecast) lets a model trained on a trending series extrapolate past the levels it saw in training, which a
/// recurrent net reading normalized levels cannot do by itself (its tanh saturates).
/// </summary>
public sealed class RecurrentForecaster : Module
{
    readonly Module rnn;
    readonly Linear head;

    /// <summary>A forecaster with a <paramref name="cell"/> layer of <paramref name="hiddenSize"/> units and <paramref name="numLayers"/> layers.</summary>
    public RecurrentForecaster(RecurrentCellType cell, int horizon, int hiddenSize = 64, int numLayers = 1, double dropout = 0, int inputSize = 1)
    {
        if (horizon <= 0 || hiddenSize <= 0 || numLayers <= 0)
            throw new ArgumentException($"RecurrentForecaster: horizon, hidden size and layers must be positive, got {horizon}, {hiddenSize}, {numLayers}");
        Cell = cell; Horizon = horizon;
        rnn = cell == RecurrentCellType.Lstm
            ? RegisterModule(nameof(rnn), new LSTM(inputSize, hiddenSize, numLayers, batchFirst: true, dropout: dropout))
            : RegisterModule(nameof(rnn), new GRU(inputSize, hiddenSize, numLayers, batchFirst: true, dropout: dropout));
        head = RegisterModule(nameof(head), new Linear(hiddenSize, horizon));
    }

    /// <summary>The recurrent layer's kind.</summary>
    public RecurrentCellType Cell { get; }
    /// <summary>Steps forecast per window.</summary>
    public int Horizon { get; }

    /// <summary>x (N, L, F) with the forecast variable as feature 0 → (N, Horizon, 1).</summary>
    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 3) throw new ArgumentException($"RecurrentForecaster: expected input (N, L, F), got shape {x.Shape}");
        var output = rnn.Call(x);                                           // (N, L, H)
        var last = output.Select(1, output.Size(1) - 1);                    // (N, H)
        var level = x.Select(1, x.Size(1) - 1).Narrow(1, 0, 1);             // (N, 1): the naive forecast
        return (head.Call(last) + level).Unsqueeze(2);
    }
}
