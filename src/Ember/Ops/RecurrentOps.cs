using Ember.Nn.Functional;

namespace Ember.Ops;

/// <summary>The cell kind a recurrent loop runs (PyTorch's RNN_TANH, RNN_RELU, LSTM, GRU modes).</summary>
internal enum RecurrentMode { RnnTanh, RnnRelu, Lstm, Gru }

/// <summary>
/// The time loop of RNN, LSTM and GRU over one layer and direction of a packed, time-major sequence, composed from
/// differentiable ops (so backward, and backward of backward, come from the ops themselves). One GEMM projects the
/// inputs of every step at once; each step adds one GEMM of the hidden state. A packed sequence's batch shrinks
/// (or, backwards, grows) at each step, so a finished sequence's state is never touched by its padding.
/// </summary>
internal static class RecurrentOps
{
    /// <summary>Gates per hidden unit: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n).</summary>
    public static int GateCount(RecurrentMode mode) => mode switch { RecurrentMode.Lstm => 4, RecurrentMode.Gru => 3, _ => 1 };

    /// <summary>
    /// Runs one direction. <paramref name="x"/>: [T, H_in], the steps' rows one after the other (step t holds
    /// batchSizes[t] rows, non-increasing); <paramref name="h0"/>: [N, H_out], <paramref name="c0"/>: [N, H] (LSTM).
    /// Returns the output [T, H_out] in the same row order and the final states [N, H_out] / [N, H]. Runs the fused
    /// <see cref="LstmSequenceOp"/>, <see cref="GruSequenceOp"/> or <see cref="RnnSequenceOp"/> unless <paramref name="fused"/>
    /// is false: then the loop composed from differentiable ops, kept as their oracle (and for double backward).
    /// </summary>
    public static (Tensor Output, Tensor HN, Tensor? CN) RunDirection(RecurrentMode mode, Tensor x, int[] batchSizes,
        Tensor wIh, Tensor wHh, Tensor? bIh, Tensor? bHh, Tensor? wHr, Tensor h0, Tensor? c0, bool reverse, bool fused = true)
    {
        int steps = batchSizes.Length;
        var offsets = new int[steps];
        for (int t = 1; t < steps; t++) offsets[t] = offsets[t - 1] + batchSizes[t - 1];
        // RNN and LSTM add both biases before the nonlinearity, so they join the input projection; GRU keeps b_hn
        // inside the reset gate's product, so its hidden bias stays with the per-step GEMM.
        Tensor? inputBias = mode == RecurrentMode.Gru || bIh is null || bHh is null ? bIh : bIh + bHh;
        Tensor? stepBias = mode == RecurrentMode.Gru ? bHh : null;
        var gx = F.Linear(x, wIh, inputBias);
        if (fused)
        {
            switch (mode)
            {
                case RecurrentMode.Lstm:
                    return LstmSequenceOp.Run(gx, batchSizes, h0, c0!, wHh, wHr, reverse);
                case RecurrentMode.Gru:
                    {
                        var (o, hn) = GruSequenceOp.Run(gx, batchSizes, h0, wHh, bHh, reverse);
                        return (o, hn, null);
                    }
                default:
                    {
                        var (o, hn) = RnnSequenceOp.Run(gx, batchSizes, h0, wHh, mode == RecurrentMode.RnnRelu, reverse);
                        return (o, hn, null);
                    }
            }
        }
        var wHhT = wHh.T;
        var wHrT = wHr?.T;
        var outputs = new Tensor[steps];
        Tensor h, hN;
        Tensor? c, cN;
        if (!reverse)
        {
            (h, c) = (h0, c0);
            List<Tensor>? doneH = null, doneC = null;
            for (int t = 0; t < steps; t++)
            {
                int bs = batchSizes[t], current = h.Size(0);
                if (bs < current)
                {
                    // the rows from bs on have ended: their state after step t−1 is final
                    (doneH ??= []).Add(h.Narrow(0, bs, current - bs));
                    h = h.Narrow(0, 0, bs);
                    if (c is not null) { (doneC ??= []).Add(c.Narrow(0, bs, current - bs)); c = c.Narrow(0, 0, bs); }
                }
                (h, c) = Step(mode, gx.Narrow(0, offsets[t], bs), h, c, wHhT, stepBias, wHrT);
                outputs[t] = h;
            }
            hN = Finish(h, doneH);
            cN = c is null ? null : Finish(c, doneC);
        }
        else
        {
            int last = batchSizes[steps - 1];
            h = last == h0.Size(0) ? h0 : h0.Narrow(0, 0, last);
            c = c0 is null ? null : last == c0.Size(0) ? c0 : c0.Narrow(0, 0, last);
            for (int t = steps - 1; t >= 0; t--)
            {
                int bs = batchSizes[t], current = h.Size(0);
                if (bs > current)
                {
                    // sequences that are shorter start here, from their own initial state
                    h = Torch.Cat([h, h0.Narrow(0, current, bs - current)]);
                    if (c is not null) c = Torch.Cat([c, c0!.Narrow(0, current, bs - current)]);
                }
                (h, c) = Step(mode, gx.Narrow(0, offsets[t], bs), h, c, wHhT, stepBias, wHrT);
                outputs[t] = h;
            }
            (hN, cN) = (h, c);
        }
        return (steps == 1 ? outputs[0] : Torch.Cat(outputs), hN, cN);
    }

    /// <summary>Rows still running at the end come first, then those that ended, latest-ending first (batch order).</summary>
    static Tensor Finish(Tensor running, List<Tensor>? done)
    {
        if (done is null) return running;
        var parts = new Tensor[done.Count + 1];
        parts[0] = running;
        for (int i = 0; i < done.Count; i++) parts[i + 1] = done[done.Count - 1 - i];
        return Torch.Cat(parts);
    }

    /// <summary>One step from precomputed input gates <paramref name="gx"/> [B, G·H] (biases included, except GRU's b_hh).</summary>
    static (Tensor H, Tensor? C) Step(RecurrentMode mode, Tensor gx, Tensor h, Tensor? c, Tensor wHhT, Tensor? bHh, Tensor? wHrT)
    {
        switch (mode)
        {
            case RecurrentMode.RnnTanh: return (gx.AddMm(h, wHhT).Tanh(), null);
            case RecurrentMode.RnnRelu: return (gx.AddMm(h, wHhT).Relu(), null);
            case RecurrentMode.Lstm:
                {
                    var (hNew, cNew) = LstmGates(gx.AddMm(h, wHhT), c!);
                    return (wHrT is null ? hNew : hNew.Mm(wHrT), cNew);
                }
            default:
                {
                    var gh = h.Mm(wHhT);
                    if (bHh is not null) gh = gh + bHh;
                    return (GruGates(gx, gh, h), null);
                }
        }
    }

    /// <summary>
    /// LSTM from pre-activations [B, 4H] in PyTorch's order i, f, g, o: c' = σ(f)⊙c + σ(i)⊙tanh(g), h' = σ(o)⊙tanh(c').
    /// </summary>
    public static (Tensor H, Tensor C) LstmGates(Tensor gates, Tensor c)
    {
        int hidden = gates.Size(-1) / 4;
        var i = gates.Narrow(-1, 0, hidden).Sigmoid();
        var f = gates.Narrow(-1, hidden, hidden).Sigmoid();
        var g = gates.Narrow(-1, 2 * hidden, hidden).Tanh();
        var o = gates.Narrow(-1, 3 * hidden, hidden).Sigmoid();
        var cNew = f * c + i * g;
        return (o * cNew.Tanh(), cNew);
    }

    /// <summary>
    /// GRU from input gates gx = W_i·x + b_i and hidden gates gh = W_h·h + b_h, both [B, 3H] in order r, z, n:
    /// r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r⊙gh_n), h' = (1 − z)⊙n + z⊙h, written (h − n)⊙z + n as ATen does.
    /// </summary>
    public static Tensor GruGates(Tensor gx, Tensor gh, Tensor h)
    {
        int hidden = gx.Size(-1) / 3;
        var rz = (gx.Narrow(-1, 0, 2 * hidden) + gh.Narrow(-1, 0, 2 * hidden)).Sigmoid();
        var r = rz.Narrow(-1, 0, hidden);
        var z = rz.Narrow(-1, hidden, hidden);
        var n = (gx.Narrow(-1, 2 * hidden, hidden) + r * gh.Narrow(-1, 2 * hidden, hidden)).Tanh();
        return (h - n) * z + n;
    }
}
