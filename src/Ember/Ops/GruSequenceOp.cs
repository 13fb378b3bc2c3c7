using System.Numerics;
using System.Numerics.Tensors;
using Ember.Autograd;
using Ember.Kernels.Threading;

namespace Ember.Ops;

/// <summary>
/// The GRU time loop of one layer and direction as one op with its own backward, shaped like <see cref="LstmSequenceOp"/>:
/// the forward keeps r, z, n, W_hn·h + b_hn and h_{t−1} of every step, the backward runs the steps in reverse with one
/// GEMM each for dh and sums dW_hh over all steps in one GEMM. First order only; <see cref="RecurrentOps.GruGates"/> is its oracle.
/// </summary>
internal static class GruSequenceOp
{
    /// <summary>gx [T, 3H] (x·W_ihᵀ + b_ih), h0 [N, H], wHh [3H, H], bHh [3H] or null. Returns output [T, H] and h_n [N, H].</summary>
    public static (Tensor Output, Tensor HN) Run(Tensor gx, int[] sizes, Tensor h0, Tensor wHh, Tensor? bHh, bool reverse)
        => gx.DType switch
        {
            DType.Float32 => Run<float>(gx, sizes, h0, wHh, bHh, reverse),
            DType.Float64 => Run<double>(gx, sizes, h0, wHh, bHh, reverse),
            _ => throw new ArgumentException($"gru: expected float32 or float64 inputs, got {gx.DType.TorchName()}"),
        };

    static (Tensor, Tensor) Run<T>(Tensor gx, int[] sizes, Tensor h0, Tensor wHh, Tensor? bHh, bool reverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = sizes.Length, rows = gx.Size(0), g3 = gx.Size(1), hidden = g3 / 3, batch = h0.Size(0);
        var dtype = gx.DType;
        var offsets = new int[steps];
        for (int t = 1; t < steps; t++) offsets[t] = offsets[t - 1] + sizes[t - 1];
        var gates = Torch.Empty([rows, g3], dtype);          // r, z, n per row
        var ghN = Torch.Empty([rows, hidden], dtype);        // W_hn·h + b_hn, which r multiplies
        var hPrev = Torch.Empty([rows, hidden], dtype);
        var result = Torch.Empty([rows * hidden + batch * hidden], dtype);
        var output = result.Narrow(0, 0, rows * hidden).Reshape(rows, hidden);
        var hCur = result.Narrow(0, rows * hidden, batch * hidden).Reshape(batch, hidden);
        using (Torch.NoGrad())
        {
            hCur.CopyFrom(h0);
            var gxc = gx.Detach().Contiguous();
            var wHhT = wHh.Detach().T;
            var bias = bHh?.Detach();
            for (int s = 0; s < steps; s++)
            {
                int t = reverse ? steps - 1 - s : s, r0 = offsets[t], bs = sizes[t];
                var hp = hPrev.Span<T>().Slice(r0 * hidden, bs * hidden);
                hCur.Span<T>()[..(bs * hidden)].CopyTo(hp);
                var gh = hCur.Narrow(0, 0, bs).Mm(wHhT);
                if (bias is not null) gh.AddInPlace(bias);
                // the rows of a step are independent: split them over the threads as the LSTM does (each row's
                // arithmetic is the same whatever the split, so results do not depend on the thread count)
                ParallelRange.For(bs, RowGrain, new ForwardRows<T>(gxc, gh, gates, ghN, hPrev, hCur, r0, hidden));
                var h = hCur.Span<T>()[..(bs * hidden)];
                h.CopyTo(output.Span<T>().Slice(r0 * hidden, bs * hidden));
            }
        }
        Tensor[] inputs = bHh is null ? [gx, h0, wHh] : [gx, h0, wHh, bHh];
        Recording.Many(result, "GruSequenceBackward", inputs,
            (gY, _) => Backward<T>(gY, sizes, offsets, reverse, gates, ghN, hPrev, wHh, bHh is not null, batch),
            bHh is null ? [wHh] : [wHh, bHh]);
        if (!result.RequiresGrad) return (output, hCur);
        return (result.Narrow(0, 0, rows * hidden).Reshape(rows, hidden), result.Narrow(0, rows * hidden, batch * hidden).Reshape(batch, hidden));
    }

    static Tensor?[] Backward<T>(Tensor gY, int[] sizes, int[] offsets, bool reverse, Tensor gates, Tensor ghN, Tensor hPrev,
        Tensor wHh, bool hasBias, int batch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = sizes.Length, rows = gates.Size(0), g3 = gates.Size(1), hidden = g3 / 3;
        var dtype = gates.DType;
        // createGraph turns grad mode on during backward; the saved activations are not differentiable, so say so
        if (GradMode.IsEnabled)
            throw new NotSupportedException("gru: double backward (createGraph: true) through the fused gru layer is not supported; its backward is first order, like PyTorch's cuDNN RNN");
        using var _ = Torch.NoGrad();
        var gy = gY.Detach().Contiguous();
        var gOut = gy.Span<T>()[..(rows * hidden)].ToArray();
        var dh = gy.Narrow(0, rows * hidden, batch * hidden).Reshape(batch, hidden).Clone();   // becomes dh_0
        var dGx = Torch.Empty([rows, g3], dtype);
        var dGh = Torch.Empty([rows, g3], dtype);
        var wHhD = wHh.Detach();
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = reverse ? steps - 1 - s : s, r0 = offsets[t], bs = sizes[t];
            var dhRows = dh.Span<T>()[..(bs * hidden)];
            TensorPrimitives.Add<T>(dhRows, gOut.AsSpan(r0 * hidden, bs * hidden), dhRows);
            ParallelRange.For(bs, RowGrain, new BackwardRows<T>(gates, ghN, hPrev, dGx, dGh, dh, r0, hidden));
            var back = dGh.Narrow(0, r0, bs).Mm(wHhD).Span<T>();
            TensorPrimitives.Add<T>(dhRows, back, dhRows);
        }
        var dWhh = dGh.T.Mm(hPrev);
        return hasBias ? [dGx, dh, dWhh, dGh.Sum(0)] : [dGx, dh, dWhh];
    }

    const int RowGrain = 8;

    // Per row j of a step: r and z, n = tanh(gx_n + r⊙(W_hn·h + b_hn)), h ← (h_prev − n)⊙z + n, as ATen writes it.
    readonly struct ForwardRows<T>(Tensor gx, Tensor gh, Tensor gates, Tensor ghN, Tensor hPrev, Tensor hCur, int r0, int hidden)
        : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            int g3 = 3 * hidden;
            var gxs = gx.Span<T>(); var ghs = gh.Span<T>(); var gs = gates.Span<T>();
            var ghns = ghN.Span<T>(); var hps = hPrev.Span<T>(); var hs = hCur.Span<T>();
            for (int j = start; j < end; j++)
            {
                var row = gs.Slice((r0 + j) * g3, g3);
                var rz = row[..(2 * hidden)];
                TensorPrimitives.Add<T>(gxs.Slice((r0 + j) * g3, 2 * hidden), ghs.Slice(j * g3, 2 * hidden), rz);
                TensorPrimitives.Sigmoid<T>(rz, rz);
                var n = row.Slice(2 * hidden, hidden);
                var ghnRow = ghns.Slice((r0 + j) * hidden, hidden);
                ghs.Slice(j * g3 + 2 * hidden, hidden).CopyTo(ghnRow);
                var gxn = gxs.Slice((r0 + j) * g3 + 2 * hidden, hidden);
                for (int k = 0; k < hidden; k++) n[k] = gxn[k] + rz[k] * ghnRow[k];
                TensorPrimitives.Tanh<T>(n, n);
                var z = rz.Slice(hidden, hidden);
                var hRow = hs.Slice(j * hidden, hidden);
                var hpRow = hps.Slice((r0 + j) * hidden, hidden);
                for (int k = 0; k < hidden; k++) hRow[k] = (hpRow[k] - n[k]) * z[k] + n[k];
            }
        }
    }

    // Per row j of a step in reverse: the gate gradients for the input projection (dGx) and the recurrence (dGh, whose
    // n block carries r), and dh ← dh⊙z before the recurrence's GEMM adds its part.
    readonly struct BackwardRows<T>(Tensor gates, Tensor ghN, Tensor hPrev, Tensor dGx, Tensor dGh, Tensor dh, int r0, int hidden)
        : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            int g3 = 3 * hidden;
            var g = gates.Span<T>(); var ghn = ghN.Span<T>(); var hp = hPrev.Span<T>();
            var dgx = dGx.Span<T>(); var dgh = dGh.Span<T>(); var dhRows = dh.Span<T>();
            for (int j = start; j < end; j++)
                for (int k = 0; k < hidden; k++)
                {
                    int at = (r0 + j) * g3 + k, hk = (r0 + j) * hidden + k, dk = j * hidden + k;
                    T r = g[at], z = g[at + hidden], n = g[at + 2 * hidden], dhk = dhRows[dk];
                    T dn = dhk * (T.One - z) * (T.One - n * n);
                    T dr = dn * ghn[hk] * r * (T.One - r);
                    T dz = dhk * (hp[hk] - n) * z * (T.One - z);
                    dgx[at] = dr; dgx[at + hidden] = dz; dgx[at + 2 * hidden] = dn;
                    dgh[at] = dr; dgh[at + hidden] = dz; dgh[at + 2 * hidden] = dn * r;
                    dhRows[dk] = dhk * z;
                }
        }
    }
}
