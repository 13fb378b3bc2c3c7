using Ember.Nn.Functional;

namespace Ember.Nn.Layers.Recurrent;

/// <summary>
/// One Elman step (torch.nn.RNNCell): h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (or relu).
/// x (N, H_in) or (H_in), h (N, H) or (H) (zeros when null) → h'.
/// </summary>
public sealed class RNNCell : RNNCellBase
{
    /// <summary>tanh (default) or relu.</summary>
    public RNNNonlinearity Nonlinearity { get; }

    /// <summary>Creates the cell, drawing the weights from <paramref name="generator"/> (or the global default).</summary>
    public RNNCell(int inputSize, int hiddenSize, bool bias = true, RNNNonlinearity nonlinearity = RNNNonlinearity.Tanh, Generator? generator = null)
        : base(inputSize, hiddenSize, bias, 1, generator) => Nonlinearity = nonlinearity;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, null);

    /// <summary>h' from the input and <paramref name="hx"/> (zeros when null).</summary>
    public Tensor Forward(Tensor input, Tensor? hx = null)
    {
        var (x, batched) = CheckInput(input);
        var h = State("hx", hx, x, batched);
        var (wIh, wHh, bIh, bHh) = Weights();
        var y = Nonlinearity == RNNNonlinearity.Relu ? F.RnnReluCell(x, h, wIh, wHh, bIh, bHh) : F.RnnTanhCell(x, h, wIh, wHh, bIh, bHh);
        return batched ? y : y.Squeeze(0);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => base.ExtraRepr() + (Nonlinearity == RNNNonlinearity.Relu ? ", nonlinearity='relu'" : "");
}
