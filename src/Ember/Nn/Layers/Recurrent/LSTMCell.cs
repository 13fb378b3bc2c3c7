using Ember.Nn.Functional;

namespace Ember.Nn.Layers.Recurrent;

/// <summary>
/// One LSTM step (torch.nn.LSTMCell): gates [i, f, g, o] = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh, c' = σ(f)⊙c + σ(i)⊙tanh(g),
/// h' = σ(o)⊙tanh(c'). <c>var (h1, c1) = cell.Forward(x, (h0, c0))</c>; x (N, H_in) or (H_in), states (N, H) or (H).
/// </summary>
public sealed class LSTMCell : RNNCellBase
{
    /// <summary>Creates the cell, drawing the weights from <paramref name="generator"/> (or the global default).</summary>
    public LSTMCell(int inputSize, int hiddenSize, bool bias = true, Generator? generator = null)
        : base(inputSize, hiddenSize, bias, 4, generator) { }

    /// <summary>h' only (what <see cref="Module.Call"/> uses).</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).H;

    /// <summary>(h', c') from the input and (h, c) (zeros when null).</summary>
    public (Tensor H, Tensor C) Forward(Tensor input, (Tensor H, Tensor C)? hx = null)
    {
        var (x, batched) = CheckInput(input);
        var h = State("h", hx?.H, x, batched);
        var c = State("c", hx?.C, x, batched);
        var (wIh, wHh, bIh, bHh) = Weights();
        var (h1, c1) = F.LstmCell(x, h, c, wIh, wHh, bIh, bHh);
        return batched ? (h1, c1) : (h1.Squeeze(0), c1.Squeeze(0));
    }
}
