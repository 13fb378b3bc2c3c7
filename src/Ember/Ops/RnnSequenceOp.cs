using System.Numerics;
using System.Numerics.Tensors;
using Ember.Autograd;
using Ember.Kernels.Threading;

namespace Ember.Ops;

/// <summary>
/// The Elman RNN time loop (tanh or relu) of one layer and direction as one op with its own backward, shaped like
/// <see cref="LstmSequenceOp"/>: one GEMM per step each way, dW_hh in one GEMM over all steps. First order only.
/// </summary>
internal static class RnnSequenceOp
{
    /// <summary>gx [T, H] (x·W_ihᵀ + b_ih + b_hh), h0 [N, H], wHh [H, H]. Returns output [T, H] and h_n [N, H].</summary>
    public static (Tensor Output, Tensor HN) Run(Tensor gx, int[] sizes, Tensor h0, Tensor wHh, bool relu, bool reverse)
        => gx.DType switch
        {
            DType.Float32 => Run<float>(gx, sizes, h0, wHh, relu, reverse),
            DType.Float64 => Run<double>(gx, sizes, h0, wHh, relu, reverse),
            _ => throw new ArgumentException($"rnn: expected float32 or float64 inputs, got {gx.DType.TorchName()}"),
        };

    static (Tensor, Tensor) Run<T>(Tensor gx, int[] sizes, Tensor h0, Tensor wHh, bool relu, bool reverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = sizes.Length, rows = gx.Size(0), hidden = gx.Size(1), batch = h0.Size(0);
        var dtype = gx.DType;
        var offsets = new int[steps];
        for (int t = 1; t < steps; t++) offsets[t] = offsets[t - 1] + sizes[t - 1];
        var hAll = Torch.Empty([rows, hidden], dtype);       // h_t, whose derivative the backward needs
        var hPrev = Torch.Empty([rows, hidden], dtype);
        var result = Torch.Empty([rows * hidden + batch * hidden], dtype);
        var output = result.Narrow(0, 0, rows * hidden).Reshape(rows, hidden);
        var hCur = result.Narrow(0, rows * hidden, batch * hidden).Reshape(batch, hidden);
        using (Torch.NoGrad())
        {
            hCur.CopyFrom(h0);
            var gxc = gx.Detach().Contiguous();
            var wHhT = wHh.Detach().T;
            for (int s = 0; s < steps; s++)
            {
                int t = reverse ? steps - 1 - s : s, r0 = offsets[t], bs = sizes[t];
                var recurrent = hCur.Narrow(0, 0, bs).Mm(wHhT);
                // the rows of a step are independent: one pass per row saves h_{t−1}, adds the projections, applies the
                // nonlinearity and writes h_t to the saved rows, the output and the state, split over the threads
                // (the GEMM already is; with a single hidden-size GEMM per step this part is a large share of the step)
                ParallelRange.For(bs, RowGrain, new ForwardRows<T>(gxc, recurrent, hAll, hPrev, output, hCur, r0, hidden, relu));
            }
        }
        Recording.Many(result, relu ? "RnnReluSequenceBackward" : "RnnTanhSequenceBackward", [gx, h0, wHh],
            (gY, _) => Backward<T>(gY, sizes, offsets, reverse, hAll, hPrev, wHh, relu, batch), wHh);
        if (!result.RequiresGrad) return (output, hCur);
        return (result.Narrow(0, 0, rows * hidden).Reshape(rows, hidden), result.Narrow(0, rows * hidden, batch * hidden).Reshape(batch, hidden));
    }

    static Tensor?[] Backward<T>(Tensor gY, int[] sizes, int[] offsets, bool reverse, Tensor hAll, Tensor hPrev, Tensor wHh, bool relu, int batch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = sizes.Length, rows = hAll.Size(0), hidden = hAll.Size(1);
        // createGraph turns grad mode on during backward; the saved activations are not differentiable, so say so
        if (GradMode.IsEnabled)
            throw new NotSupportedException("rnn: double backward (createGraph: true) through the fused rnn layer is not supported; its backward is first order, like PyTorch's cuDNN RNN");
        using var _ = Torch.NoGrad();
        var gy = gY.Detach().Contiguous();
        var dh = gy.Narrow(0, rows * hidden, batch * hidden).Reshape(batch, hidden).Clone();   // becomes dh_0
        var dPre = Torch.Empty([rows, hidden], hAll.DType);
        var wHhD = wHh.Detach();
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = reverse ? steps - 1 - s : s, r0 = offsets[t], bs = sizes[t];
            ParallelRange.For(bs, RowGrain, new BackwardRows<T>(gy, hAll, dh, dPre, r0, hidden, relu));
            dPre.Narrow(0, r0, bs).Mm(wHhD).Span<T>().CopyTo(dh.Span<T>()[..(bs * hidden)]);
        }
        return [dPre, dh, dPre.T.Mm(hPrev)];
    }

    // rows per parallel chunk: a chunk's boundaries depend only on the batch size, so results are the same on any thread count
    const int RowGrain = 8;

    // Per row j of a step: hPrev ← h_{t−1} (the state row, before it is overwritten), then h_t = act(gx + recurrent)
    // into the saved rows, the output and the state.
    readonly struct ForwardRows<T>(Tensor gx, Tensor recurrent, Tensor hAll, Tensor hPrev, Tensor output, Tensor hCur, int r0, int hidden, bool relu)
        : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            var gxs = gx.Span<T>(); var rec = recurrent.Span<T>(); var hs = hAll.Span<T>();
            var hps = hPrev.Span<T>(); var outs = output.Span<T>(); var cur = hCur.Span<T>();
            for (int j = start; j < end; j++)
            {
                var state = cur.Slice(j * hidden, hidden);
                state.CopyTo(hps.Slice((r0 + j) * hidden, hidden));
                var h = hs.Slice((r0 + j) * hidden, hidden);
                TensorPrimitives.Add<T>(gxs.Slice((r0 + j) * hidden, hidden), rec.Slice(j * hidden, hidden), h);
                if (relu) TensorPrimitives.Max<T>(h, T.Zero, h);
                else TensorPrimitives.Tanh<T>(h, h);
                h.CopyTo(state);
                h.CopyTo(outs.Slice((r0 + j) * hidden, hidden));
            }
        }
    }

    // Per row j of a step in reverse: dh += the output's gradient, dPre = dh ⊙ act'(h_t) (relu' is 1 where the output
    // is positive, PyTorch's threshold backward; tanh' = 1 − h²).
    readonly struct BackwardRows<T>(Tensor gY, Tensor hAll, Tensor dh, Tensor dPre, int r0, int hidden, bool relu)
        : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            var gys = gY.Span<T>(); var hs = hAll.Span<T>(); var dhs = dh.Span<T>(); var dps = dPre.Span<T>();
            for (int j = start; j < end; j++)
            {
                var d = dhs.Slice(j * hidden, hidden);
                TensorPrimitives.Add<T>(d, gys.Slice((r0 + j) * hidden, hidden), d);
                var h = hs.Slice((r0 + j) * hidden, hidden);
                var dp = dps.Slice((r0 + j) * hidden, hidden);
                int k = 0;
                if (Vector.IsHardwareAccelerated)
                    for (; k <= hidden - Vector<T>.Count; k += Vector<T>.Count)
                    {
                        var hv = new Vector<T>(h.Slice(k));
                        var dv = new Vector<T>(d.Slice(k));
                        var r = relu ? Vector.ConditionalSelect(Vector.GreaterThan(hv, Vector<T>.Zero), dv, Vector<T>.Zero) : dv - dv * hv * hv;
                        r.CopyTo(dp.Slice(k));
                    }
                for (; k < hidden; k++)
                    dp[k] = relu ? (h[k] > T.Zero ? d[k] : T.Zero) : d[k] - d[k] * h[k] * h[k];
            }
        }
    }
}
