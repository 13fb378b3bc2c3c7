using Ember.Nn.Functional;

namespace Ember.Nn.Layers.Recurrent;

/// <summary>
/// One GRU step (torch.nn.GRUCell): r = σ(W_ir·x + b_ir + W_hr·h + b_hr), z = σ(W_iz·x + b_iz + W_hz·h + b_hz),
/// n = tanh(W_in·x + b_in + r⊙(W_hn·h + b_hn)), h' = (1 − z)⊙n + z⊙h. x (N, H_in) or (H_in), h (N, H) or (H) → h'.
/// </summary>
public sealed class GRUCell : RNNCellBase
{
    /// <summary>Creates the cell, drawing the weights from <paramref name="generator"/> (or the global default).</summary>
    public GRUCell(int inputSize, int hiddenSize, bool bias = true, Generator? generator = null)
        : base(inputSize, hiddenSize, bias, 3, generator) { }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, null);

    /// <summary>h' from the input and <paramref name="hx"/> (zeros when null).</summary>
    public Tensor Forward(Tensor input, Tensor? hx = null)
    {
        var (x, batched) = CheckInput(input);
        var h = State("hx", hx, x, batched);
        var (wIh, wHh, bIh, bHh) = Weights();
        var y = F.GruCell(x, h, wIh, wHh, bIh, bHh);
        return batched ? y : y.Squeeze(0);
    }
}
