using Ember.Nn.Utils;
using Ember.Ops;

namespace Ember.Nn.Layers.Recurrent;

/// <summary>
/// Gated recurrent unit (torch.nn.GRU). Per layer and step, with gates [r, z, n]:
/// r = σ(W_ir·x + b_ir + W_hr·h + b_hr), z = σ(W_iz·x + b_iz + W_hz·h + b_hz), n = tanh(W_in·x + b_in + r⊙(W_hn·h + b_hn)),
/// h' = (1 − z)⊙n + z⊙h. <c>var (output, hN) = gru.Forward(x, h0)</c>, shapes as <see cref="RNN"/>.
/// </summary>
public sealed class GRU : RNNBase
{
    /// <summary>Creates the layers, drawing the weights from <paramref name="generator"/> (or the global default), which also draws the dropout masks.</summary>
    public GRU(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, Generator? generator = null)
        : base(RecurrentMode.Gru, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 0, generator) { }

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
}
