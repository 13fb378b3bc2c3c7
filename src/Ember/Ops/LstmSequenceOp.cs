using System.Numerics;
using System.Numerics.Tensors;
using Ember.Autograd;

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
            var tanhC = new T[hidden];
            for (int s = 0; s < steps; s++)
            {
                int t = reverse ? steps - 1 - s : s, r0 = offsets[t], bs = sizes[t];
                hCur.Span<T>()[..(bs * p)].CopyTo(hPrev.Span<T>().Slice(r0 * p, bs * p));
                cCur.Span<T>()[..(bs * hidden)].CopyTo(cPrev.Span<T>().Slice(r0 * hidden, bs * hidden));
                var recurrent = hCur.Narrow(0, 0, bs).Mm(wHhT);
                var g = gates.Span<T>().Slice(r0 * gates4, bs * gates4);
                TensorPrimitives.Add(gxc.Span<T>().Slice(r0 * gates4, bs * gates4), recurrent.Span<T>(), g);
                var cs = cAll.Span<T>().Slice(r0 * hidden, bs * hidden);
                var cps = cPrev.Span<T>().Slice(r0 * hidden, bs * hidden);
                var hTarget = hPre is null ? hCur.Span<T>()[..(bs * p)] : hPre.Span<T>().Slice(r0 * hidden, bs * hidden);
                for (int j = 0; j < bs; j++)
                {
                    var row = g.Slice(j * gates4, gates4);
                    var i = row[..hidden]; var f = row.Slice(hidden, hidden); var gg = row.Slice(2 * hidden, hidden); var o = row.Slice(3 * hidden, hidden);
                    TensorPrimitives.Sigmoid<T>(row[..(2 * hidden)], row[..(2 * hidden)]);
                    TensorPrimitives.Tanh<T>(gg, gg);
                    TensorPrimitives.Sigmoid<T>(o, o);
                    var c = cs.Slice(j * hidden, hidden);
                    var cp = cps.Slice(j * hidden, hidden);
                    for (int k = 0; k < hidden; k++) c[k] = f[k] * cp[k] + i[k] * gg[k];
                    TensorPrimitives.Tanh<T>(c, tanhC);
                    TensorPrimitives.Multiply<T>(o, tanhC, hTarget.Slice(j * hidden, hidden));
                }
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
        var tanhC = new T[hidden];
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = reverse ? steps - 1 - s : s, r0 = offsets[t], bs = sizes[t];
            var dhRows = dh.Span<T>()[..(bs * p)];
            TensorPrimitives.Add<T>(dhRows, gOut.AsSpan(r0 * p, bs * p), dhRows);
            Span<T> dPre;
            if (dHPost is not null)
            {
                dhRows.CopyTo(dHPost.Span<T>().Slice(r0 * p, bs * p));
                dPre = dh.Narrow(0, 0, bs).Mm(wHrD!).Span<T>();
            }
            else dPre = dhRows;
            var g = gates.Span<T>().Slice(r0 * gates4, bs * gates4);
            var dg = dGates.Span<T>().Slice(r0 * gates4, bs * gates4);
            var cs = cAll.Span<T>().Slice(r0 * hidden, bs * hidden);
            var cps = cPrev.Span<T>().Slice(r0 * hidden, bs * hidden);
            var dcs = dc.Span<T>()[..(bs * hidden)];
            for (int j = 0; j < bs; j++)
            {
                var row = g.Slice(j * gates4, gates4);
                var drow = dg.Slice(j * gates4, gates4);
                var c = cs.Slice(j * hidden, hidden);
                var cp = cps.Slice(j * hidden, hidden);
                var dcr = dcs.Slice(j * hidden, hidden);
                var dhr = dPre.Slice(j * hidden, hidden);
                TensorPrimitives.Tanh<T>(c, tanhC);
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
            dGates.Narrow(0, r0, bs).Mm(wHhD).Span<T>().CopyTo(dhRows);
        }
        var dWhh = dGates.T.Mm(hPrev);
        Tensor? dWhr = dHPost is null ? null : dHPost.T.Mm(hPre!);
        return wHr is null ? [dGates, dh, dc, dWhh] : [dGates, dh, dc, dWhh, dWhr];
    }
}
