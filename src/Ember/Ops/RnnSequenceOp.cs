using System.Numerics;
using System.Numerics.Tensors;
using Ember.Autograd;

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
                var h = hCur.Span<T>()[..(bs * hidden)];
                h.CopyTo(hPrev.Span<T>().Slice(r0 * hidden, bs * hidden));
                var pre = hCur.Narrow(0, 0, bs).Mm(wHhT).Span<T>();
                var ha = hAll.Span<T>().Slice(r0 * hidden, bs * hidden);
                TensorPrimitives.Add<T>(pre, gxc.Span<T>().Slice(r0 * hidden, bs * hidden), ha);
                if (relu) TensorPrimitives.Max<T>(ha, T.Zero, ha);
                else TensorPrimitives.Tanh<T>(ha, ha);
                ha.CopyTo(h);
                ha.CopyTo(output.Span<T>().Slice(r0 * hidden, bs * hidden));
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
        var gOut = gy.Span<T>()[..(rows * hidden)].ToArray();
        var dh = gy.Narrow(0, rows * hidden, batch * hidden).Reshape(batch, hidden).Clone();   // becomes dh_0
        var dPre = Torch.Empty([rows, hidden], hAll.DType);
        var wHhD = wHh.Detach();
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = reverse ? steps - 1 - s : s, r0 = offsets[t], bs = sizes[t];
            var dhRows = dh.Span<T>()[..(bs * hidden)];
            TensorPrimitives.Add<T>(dhRows, gOut.AsSpan(r0 * hidden, bs * hidden), dhRows);
            var h = hAll.Span<T>().Slice(r0 * hidden, bs * hidden);
            var dp = dPre.Span<T>().Slice(r0 * hidden, bs * hidden);
            // relu' is 1 where the output is positive (PyTorch's threshold backward), tanh' = 1 − h²
            for (int k = 0; k < dp.Length; k++)
                dp[k] = relu ? (h[k] > T.Zero ? dhRows[k] : T.Zero) : dhRows[k] * (T.One - h[k] * h[k]);
            dPre.Narrow(0, r0, bs).Mm(wHhD).Span<T>().CopyTo(dhRows);
        }
        return [dPre, dh, dPre.T.Mm(hPrev)];
    }
}
