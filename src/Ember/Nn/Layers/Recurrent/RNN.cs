using Ember.Nn.Utils;
using Ember.Ops;

namespace Ember.Nn.Layers.Recurrent;

/// <summary>
/// Elman RNN (torch.nn.RNN): per layer and step h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh) (or relu).
/// <c>var (output, hN) = rnn.Forward(x, h0)</c> with x (L, N, H_in) / (N, L, H_in) / (L, H_in) or a
/// <see cref="PackedSequence"/>, h0 (D·num_layers, N, H) or null for zeros; output (L, N, D·H), hN (D·num_layers, N, H).
/// Parameters and defaults as <see cref="RNNBase"/> describes.
/// </summary>
public sealed class RNN : RNNBase
{
    /// <summary>tanh (default) or relu.</summary>
    public RNNNonlinearity Nonlinearity { get; }

    /// <summary>Creates the layers, drawing the weights from <paramref name="generator"/> (or the global default), which also draws the dropout masks.</summary>
    public RNN(int inputSize, int hiddenSize, int numLayers = 1, RNNNonlinearity nonlinearity = RNNNonlinearity.Tanh, bool bias = true,
        bool batchFirst = false, double dropout = 0, bool bidirectional = false, Generator? generator = null)
        : base(nonlinearity == RNNNonlinearity.Relu ? RecurrentMode.RnnRelu : RecurrentMode.RnnTanh,
            inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 0, generator)
        => Nonlinearity = nonlinearity;

    /// <summary>The output only (what <see cref="Module.Call"/> and containers use).</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).Output;

    /// <summary>Runs the sequence from <paramref name="hx"/> (h_0, zeros when null); returns (output, h_n).</summary>
    public (Tensor Output, Tensor HN) Forward(Tensor input, Tensor? hx = null)
    {
        var (output, hN, _) = ForwardPadded(input, hx, null);
        return (output, hN);
    }

    /// <summary>Runs a packed batch; the output is packed the same way, h_n is in the original batch order.</summary>
    public (PackedSequence Output, Tensor HN) Forward(PackedSequence input, Tensor? hx = null)
    {
        var (output, hN, _) = ForwardPacked(input, hx, null);
        return (output, hN);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => base.ExtraRepr() + (Nonlinearity == RNNNonlinearity.Relu ? ", nonlinearity='relu'" : "");
}
