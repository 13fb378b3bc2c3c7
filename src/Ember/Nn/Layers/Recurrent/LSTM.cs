using Ember.Nn.Utils;
using Ember.Ops;

namespace Ember.Nn.Layers.Recurrent;

/// <summary>
/// Long short-term memory (torch.nn.LSTM). Per layer and step, with gates [i, f, g, o] = x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh:
/// c_t = σ(f)⊙c_{t−1} + σ(i)⊙tanh(g), h_t = σ(o)⊙tanh(c_t), then h_t = h_t·W_hrᵀ when proj_size &gt; 0.
/// <c>var (output, (hN, cN)) = lstm.Forward(x, (h0, c0))</c> with x (L, N, H_in) / (N, L, H_in) / (L, H_in) or a
/// <see cref="PackedSequence"/>; h0 (D·num_layers, N, H_out), c0 (D·num_layers, N, H), or null for zeros;
/// output (L, N, D·H_out). H_out = proj_size or hidden_size.
/// </summary>
public sealed class LSTM : RNNBase
{
    /// <summary>Creates the layers, drawing the weights from <paramref name="generator"/> (or the global default), which also draws the dropout masks.</summary>
    public LSTM(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, int projSize = 0, Generator? generator = null)
        : base(RecurrentMode.Lstm, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize, generator) { }

    /// <summary>The output only (what <see cref="Module.Call"/> and containers use).</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).Output;

    /// <summary>Runs the sequence from (h_0, c_0) (zeros when null); returns (output, (h_n, c_n)).</summary>
    public (Tensor Output, (Tensor HN, Tensor CN) State) Forward(Tensor input, (Tensor H0, Tensor C0)? hx = null)
    {
        var (output, hN, cN) = ForwardPadded(input, hx?.H0, hx?.C0);
        return (output, (hN, cN!));
    }

    /// <summary>Runs a packed batch; the output is packed the same way, the states are in the original batch order.</summary>
    public (PackedSequence Output, (Tensor HN, Tensor CN) State) Forward(PackedSequence input, (Tensor H0, Tensor C0)? hx = null)
    {
        var (output, hN, cN) = ForwardPacked(input, hx?.H0, hx?.C0);
        return (output, (hN, cN!));
    }
}
