using System.Numerics;
using System.Numerics.Tensors;
using Ember.Autograd;
using Ember.Kernels.Threading;

namespace Ember.Ops;

/// <summary>
/// The LSTM time loop of one layer and direction as one op with its own backward (what PyTorch's fused CPU/cuDNN
/// kernels do): the forward keeps the gate activations, cell states and previous hidden states of every step in
/// [T, ·] buffers, so the backward runs the steps in reverse with one GEMM each for dh and sums the weight gradients
/// over all steps in one GEMM (dW_hh = dGatesᵀ·H_prev). Composing the loop from ops instead made every step's slice of
/// the input projection send back a full-size gradient, and that dominated the time. The backward is first order only
/// (like cuDNN's RNN in PyTorch); <see cref="RecurrentOps.LstmGates"/> stays as the composed form and the test oracle.
/// </summary>
internal static class LstmSequenceOp
{
    /// <summary>
    /// gx [T, 4H] (x·W_ihᵀ + b_ih + b_hh, rows of step t at offset Σ sizes[&lt;t]), h0 [N, P], c0 [N, H], wHh [4H, P],
    /// wHr [P, H] or null (P = H). Returns output [T, P] and the final states [N, P], [N, H].
    /// </summary>
    public static (Tensor Output, Tensor HN, Tensor CN) Run(Tensor gx, int[] sizes, Tensor h0, Tensor c0, Tensor wHh, Tensor? wHr, bool reverse)
        => gx.DType switch
        {
            DType.Float32 => Run<float>(gx, sizes, h0, c0, wHh, wHr, reverse),
            DType.Float64 => Run<double>(gx, sizes, h0, c0, wHh, wHr, reverse),
            _ => throw new ArgumentException($"lstm: expected float32 or float64 inputs, got {gx.DType.TorchName()}"),
        };

    static (Tensor, Tensor, Tensor) Run<T>(Tensor gx, int[] sizes, Tensor h0, Tensor c0, Tensor wHh, Tensor? wHr, bool reverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = sizes.Length, rows = gx.Size(0), gates4 = gx.Size(1), hidden = gates4 / 4, batch = h0.Size(0), p = h0.Size(1);
        var dtype = gx.DType;
        var offsets = new int[steps];
        for (int t = 1; t < steps; t++) offsets[t] = offsets[t - 1] + sizes[t - 1];
        var gates = Torch.Empty([rows, gates4], dtype);      // σ(i), σ(f), tanh(g), σ(o) per row
        var cAll = Torch.Empty([rows, hidden], dtype);       // c_t
        var cPrev = Torch.Empty([rows, hidden], dtype);      // c_{t−1} of the same rows
        var hPrev = Torch.Empty([rows, p], dtype);           // h_{t−1} of the same rows (for dW_hh)
        var hPre = wHr is null ? null : Torch.Empty([rows, hidden], dtype); // σ(o)⊙tanh(c) before the projection
        // one result holds output, h_n and c_n, so a single node carries the backward of all three
        var result = Torch.Empty([rows * p + batch * p + batch * hidden], dtype);
        var output = result.Narrow(0, 0, rows * p).Reshape(rows, p);
        var hCur = result.Narrow(0, rows * p, batch * p).Reshape(batch, p);
        var cCur = result.Narrow(0, rows * p + batch * p, batch * hidden).Reshape(batch, hidden);
        using (Torch.NoGrad())
        {
            hCur.CopyFrom(h0);
            cCur.CopyFrom(c0);
            var gxc = gx.Detach().Contiguous();
            var wHhT = wHh.Detach().T;
            var wHrT = wHr?.Detach().T;
            for (int s = 0; s < steps; s++)
            {
                int t = reverse ? steps - 1 - s : s, r0 = offsets[t], bs = sizes[t];
                hCur.Span<T>()[..(bs * p)].CopyTo(hPrev.Span<T>().Slice(r0 * p, bs * p));
                cCur.Span<T>()[..(bs * hidden)].CopyTo(cPrev.Span<T>().Slice(r0 * hidden, bs * hidden));
                var recurrent = hCur.Narrow(0, 0, bs).Mm(wHhT);
                // the rows of a step are independent: split them over the threads (the GEMMs already are; this
                // elementwise part ran on one thread and was what kept the wall time from the CPU time)
                ParallelRange.For(bs, RowGrain, new ForwardRows<T>(gxc, recurrent, gates, cAll, cPrev, hPre ?? hCur, r0, hPre is null ? 0 : r0, hidden));
                var cs = cAll.Span<T>().Slice(r0 * hidden, bs * hidden);
                cs.CopyTo(cCur.Span<T>()[..(bs * hidden)]);
                if (hPre is not null)
                    hPre.Narrow(0, r0, bs).Mm(wHrT!).Span<T>().CopyTo(hCur.Span<T>()[..(bs * p)]);
                hCur.Span<T>()[..(bs * p)].CopyTo(output.Span<T>().Slice(r0 * p, bs * p));
            }
        }
        Tensor[] inputs = wHr is null ? [gx, h0, c0, wHh] : [gx, h0, c0, wHh, wHr];
        Recording.Many(result, "LstmSequenceBackward", inputs,
            (gY, _) => Backward<T>(gY, sizes, offsets, reverse, gates, cAll, cPrev, hPrev, hPre, wHh, wHr, batch),
            wHr is null ? [wHh] : [wHh, wHr]);
        if (!result.RequiresGrad) return (output, hCur, cCur);
        return (result.Narrow(0, 0, rows * p).Reshape(rows, p), result.Narrow(0, rows * p, batch * p).Reshape(batch, p),
            result.Narrow(0, rows * p + batch * p, batch * hidden).Reshape(batch, hidden));
    }

    static Tensor?[] Backward<T>(Tensor gY, int[] sizes, int[] offsets, bool reverse, Tensor gates, Tensor cAll, Tensor cPrev,
        Tensor hPrev, Tensor? hPre, Tensor wHh, Tensor? wHr, int batch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = sizes.Length, rows = gates.Size(0), gates4 = gates.Size(1), hidden = gates4 / 4, p = hPrev.Size(1);
        var dtype = gates.DType;
        // createGraph turns grad mode on during backward; the saved activations are not differentiable, so say so
        if (GradMode.IsEnabled)
            throw new NotSupportedException("lstm: double backward (createGraph: true) through the fused lstm layer is not supported; its backward is first order, like PyTorch's cuDNN RNN");
        using var _ = Torch.NoGrad();
        var gy = gY.Detach().Contiguous();
        var gOut = gy.Span<T>()[..(rows * p)].ToArray();
        var dh = gy.Narrow(0, rows * p, batch * p).Reshape(batch, p).Clone();      // becomes dh_0
        var dc = gy.Narrow(0, rows * p + batch * p, batch * hidden).Reshape(batch, hidden).Clone(); // becomes dc_0
        var dGates = Torch.Empty([rows, gates4], dtype);
        var dHPost = hPre is null ? null : Torch.Empty([rows, p], dtype);
        var wHhD = wHh.Detach();
        var wHrD = wHr?.Detach();
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = reverse ? steps - 1 - s : s, r0 = offsets[t], bs = sizes[t];
            var dhRows = dh.Span<T>()[..(bs * p)];
            TensorPrimitives.Add<T>(dhRows, gOut.AsSpan(r0 * p, bs * p), dhRows);
            Tensor? dPreTensor = null;
            if (dHPost is not null)
            {
                dhRows.CopyTo(dHPost.Span<T>().Slice(r0 * p, bs * p));
                dPreTensor = dh.Narrow(0, 0, bs).Mm(wHrD!);
            }
            ParallelRange.For(bs, RowGrain, new BackwardRows<T>(gates, dGates, cAll, cPrev, dc, dHPost is null ? dh : dPreTensor!, r0, hidden));
            dGates.Narrow(0, r0, bs).Mm(wHhD).Span<T>().CopyTo(dhRows);
        }
        var dWhh = dGates.T.Mm(hPrev);
        Tensor? dWhr = dHPost is null ? null : dHPost.T.Mm(hPre!);
        return wHr is null ? [dGates, dh, dc, dWhh] : [dGates, dh, dc, dWhh, dWhr];
    }

    // rows per parallel chunk: a chunk's boundaries depend only on the batch size, so results are the same on any thread count
    const int RowGrain = 8;

    // Per row j of a step: gates ← [σ(i), σ(f), tanh(g), σ(o)] of gx + recurrent, c = σ(f)⊙c_{t−1} + σ(i)⊙tanh(g),
    // h = σ(o)⊙tanh(c) (into hTarget's row, which is h_t or, with a projection, the pre-projection buffer).
    readonly struct ForwardRows<T>(Tensor gx, Tensor recurrent, Tensor gates, Tensor cAll, Tensor cPrev, Tensor hTarget, int r0, int hRow0, int hidden)
        : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            int gates4 = 4 * hidden;
            var gxs = gx.Span<T>(); var rec = recurrent.Span<T>(); var gs = gates.Span<T>();
            var cs = cAll.Span<T>(); var cps = cPrev.Span<T>(); var hs = hTarget.Span<T>();
            for (int j = start; j < end; j++)
            {
                var row = gs.Slice((r0 + j) * gates4, gates4);
                TensorPrimitives.Add(gxs.Slice((r0 + j) * gates4, gates4), rec.Slice(j * gates4, gates4), row);
                var i = row[..hidden]; var f = row.Slice(hidden, hidden); var gg = row.Slice(2 * hidden, hidden); var o = row.Slice(3 * hidden, hidden);
                TensorPrimitives.Sigmoid<T>(row[..(2 * hidden)], row[..(2 * hidden)]);
                TensorPrimitives.Tanh<T>(gg, gg);
                TensorPrimitives.Sigmoid<T>(o, o);
                var c = cs.Slice((r0 + j) * hidden, hidden);
                var cp = cps.Slice((r0 + j) * hidden, hidden);
                for (int k = 0; k < hidden; k++) c[k] = f[k] * cp[k] + i[k] * gg[k];
                var h = hs.Slice((hRow0 + j) * hidden, hidden);
                TensorPrimitives.Tanh<T>(c, h);
                TensorPrimitives.Multiply<T>(o, h, h);
            }
        }
    }

    // Per row j of a step in reverse: the gate gradients from dh (dPre's row) and dc, and dc ← dc_{t−1}. tanh(c) is kept
    // in the row's o-gate slot of dGates until that slot's own gradient overwrites it (each k reads it first).
    readonly struct BackwardRows<T>(Tensor gates, Tensor dGates, Tensor cAll, Tensor cPrev, Tensor dc, Tensor dPre, int r0, int hidden)
        : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            int gates4 = 4 * hidden;
            var gs = gates.Span<T>(); var dgs = dGates.Span<T>(); var cs = cAll.Span<T>(); var cps = cPrev.Span<T>();
            var dcs = dc.Span<T>(); var dps = dPre.Span<T>();
            for (int j = start; j < end; j++)
            {
                var row = gs.Slice((r0 + j) * gates4, gates4);
                var drow = dgs.Slice((r0 + j) * gates4, gates4);
                var cp = cps.Slice((r0 + j) * hidden, hidden);
                var dcr = dcs.Slice(j * hidden, hidden);
                var dhr = dps.Slice(j * hidden, hidden);
                var tanhC = drow.Slice(3 * hidden, hidden);
                TensorPrimitives.Tanh<T>(cs.Slice((r0 + j) * hidden, hidden), tanhC);
                for (int k = 0; k < hidden; k++)
                {
                    T i = row[k], f = row[hidden + k], gg = row[2 * hidden + k], o = row[3 * hidden + k], th = tanhC[k], dhk = dhr[k];
                    T dck = dcr[k] + dhk * o * (T.One - th * th);
                    drow[k] = dck * gg * i * (T.One - i);
                    drow[hidden + k] = dck * cp[k] * f * (T.One - f);
                    drow[2 * hidden + k] = dck * i * (T.One - gg * gg);
                    drow[3 * hidden + k] = dhk * th * o * (T.One - o);
                    dcr[k] = dck * f;
                }
            }
        }
    }
}
