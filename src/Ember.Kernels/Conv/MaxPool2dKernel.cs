using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ember.Kernels.Conv;

/// <summary>
/// 2-D max pooling on contiguous NCHW spans (torch.nn.functional.max_pool2d with return_indices=True) and its gradient.
/// </summary>
public static unsafe class MaxPool2dKernel
{
    /// <summary>
    /// out[n, c, oh, ow] = max over i &lt; kH, j &lt; kW of x[n, c, oh·sH − pH + i·dH, ow·sW − pW + j·dW], positions outside the
    /// input counting as −∞; indices[n, c, oh, ow] = ih·W + iw of the maximum (the first one on ties, the last NaN if any, as PyTorch).
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="output">[N, C, H_out, W_out], overwritten.</param>
    /// <param name="indices">[N, C, H_out, W_out] flat indices into each H×W plane, or empty when not needed (inference).</param>
    public static void Forward<T>(in Pool2dGeometry g, ReadOnlySpan<T> input, Span<T> output, Span<long> indices)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "MaxPool2d forward";
        PlaneLoop.Require(kernel, g, input.Length, g.InputLength, nameof(input));
        PlaneLoop.Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        if (!indices.IsEmpty) PlaneLoop.Require(kernel, g, indices.Length, g.OutputLength, nameof(indices));
        fixed (T* x = input, y = output)
        fixed (long* idx = indices)
            PlaneLoop.For(g.Planes, (long)g.OutPlane * g.KernelHeight * g.KernelWidth, new ForwardPlane<T>(g, x, y, indices.IsEmpty ? null : idx));
    }

    /// <summary>gradInput[n, c, indices[n, c, o]] += gradOut[n, c, o] for every output o (gradInput zero elsewhere), in output order.</summary>
    /// <param name="g">Sizes.</param>
    /// <param name="gradOutput">[N, C, H_out, W_out].</param>
    /// <param name="indices">[N, C, H_out, W_out] from <see cref="Forward{T}"/>.</param>
    /// <param name="gradInput">[N, C, H, W], overwritten.</param>
    public static void Backward<T>(in Pool2dGeometry g, ReadOnlySpan<T> gradOutput, ReadOnlySpan<long> indices, Span<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "MaxPool2d backward";
        PlaneLoop.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        PlaneLoop.Require(kernel, g, indices.Length, g.OutputLength, nameof(indices));
        PlaneLoop.Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        ScatterByIndex(kernel, g.Planes, g.InPlane, g.OutPlane, gradOutput, indices, gradInput);
    }

    /// <summary>The max-pooling gradient shared with adaptive max pooling: per plane, zero then scatter-add by index.</summary>
    internal static void ScatterByIndex<T>(string kernel, int planes, int inPlane, int outPlane, ReadOnlySpan<T> gradOutput, ReadOnlySpan<long> indices, Span<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Validate first: an index from elsewhere must not write outside its plane.
        foreach (long i in indices[..(planes * outPlane)])
            if ((ulong)i >= (ulong)inPlane)
                throw new ArgumentException($"{kernel}: index {i} is outside the {inPlane}-element input plane", nameof(indices));
        fixed (T* dy = gradOutput, dx = gradInput)
        fixed (long* idx = indices)
            PlaneLoop.For(planes, inPlane + outPlane, new ScatterPlane<T>(inPlane, outPlane, dy, idx, dx));
    }

    readonly struct ForwardPlane<T>(Pool2dGeometry g, T* x, T* y, long* indices) : IPlaneKernel where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int plane)
        {
            int h = g.InHeight, w = g.InWidth, dH = g.DilationHeight, dW = g.DilationWidth;
            T* src = x + (long)plane * g.InPlane;
            long o = (long)plane * g.OutPlane;
            if (typeof(T) == typeof(float) && Vector.IsHardwareAccelerated && IsExactTwoByTwo(g))
            {
                TwoByTwoVector.Run(g.InHeight, g.InWidth, (float*)src, (float*)y + o, indices == null ? null : indices + o);
                return;
            }
            if (IsPlainTwoByTwo(g)) { RunTwoByTwo(src, o); return; }
            if (typeof(T) == typeof(float) && indices != null && Vector256.IsHardwareAccelerated && SlidingWithIndices.Applies(g))
            {
                SlidingWithIndices.Run(g, (float*)src, (float*)y + o, indices + o);
                return;
            }
            if (indices == null) { RunSeparable(src, o); return; }
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                int h0 = oh * g.StrideHeight - g.PadHeight;
                int h1 = Math.Min(h0 + (g.KernelHeight - 1) * dH + 1, h);
                while (h0 < 0) h0 += dH;
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                {
                    int w0 = ow * g.StrideWidth - g.PadWidth;
                    int w1 = Math.Min(w0 + (g.KernelWidth - 1) * dW + 1, w);
                    while (w0 < 0) w0 += dW;
                    // PyTorch's rule: start from −∞ at the first tap, take strictly greater values, and let NaN win.
                    T best = T.NegativeInfinity;
                    int bestIndex = h0 * w + w0;
                    for (int ih = h0; ih < h1; ih += dH)
                        for (int iw = w0; iw < w1; iw += dW)
                        {
                            T v = src[ih * w + iw];
                            if (v > best || T.IsNaN(v)) { best = v; bestIndex = ih * w + iw; }
                        }
                    y[o] = best;
                    if (indices != null) indices[o] = bestIndex;
                }
            }
        }

        // Without indices (inference) the window's maximum is separable: the elementwise maximum of its input rows
        // (vectorized over the row), then of the strided columns of that. IEEE maximum lets NaN win like the rule above;
        // only the sign of a zero may differ when −0 and +0 tie (the first tap would keep its own).
        // With stride 1 and no dilation across the row (SPPF's 5×5 pools) the column step is vectorized too: the row
        // maximum sits in a buffer with −∞ in the padding, and output column j is the maximum of buffer[j .. j + kW),
        // so the output row is the elementwise maximum of kW shifted copies of the buffer.
        void RunSeparable(T* src, long o)
        {
            int h = g.InHeight, w = g.InWidth, dH = g.DilationHeight, dW = g.DilationWidth, outW = g.OutWidth;
            bool sliding = g.StrideWidth == 1 && dW == 1;
            // Sliding: every window lies inside [0, outW + kW − 1) of the buffer (the input starts at PadWidth; ceil mode
            // may reach past the right padding, which is −∞ as well).
            int length = sliding ? Math.Max(outW + g.KernelWidth - 1, g.PadWidth + w) : w;
            T[] rented = System.Buffers.ArrayPool<T>.Shared.Rent(length);
            var buffer = rented.AsSpan(0, length);
            var rowMax = buffer.Slice(sliding ? g.PadWidth : 0, w);
            if (sliding)
            {
                buffer[..g.PadWidth].Fill(T.NegativeInfinity);
                buffer[(g.PadWidth + w)..].Fill(T.NegativeInfinity);
            }
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                int h0 = oh * g.StrideHeight - g.PadHeight;
                int h1 = Math.Min(h0 + (g.KernelHeight - 1) * dH + 1, h);
                while (h0 < 0) h0 += dH;
                new ReadOnlySpan<T>(src + (long)h0 * w, w).CopyTo(rowMax);
                for (int ih = h0 + dH; ih < h1; ih += dH)
                    System.Numerics.Tensors.TensorPrimitives.Max(rowMax, new ReadOnlySpan<T>(src + (long)ih * w, w), rowMax);
                if (sliding)
                {
                    var outRow = new Span<T>(y + o, outW);
                    buffer[..outW].CopyTo(outRow);
                    for (int j = 1; j < g.KernelWidth; j++)
                        System.Numerics.Tensors.TensorPrimitives.Max(outRow, buffer.Slice(j, outW), outRow);
                    o += outW;
                    continue;
                }
                for (int ow = 0; ow < outW; ow++, o++)
                {
                    int w0 = ow * g.StrideWidth - g.PadWidth;
                    int w1 = Math.Min(w0 + (g.KernelWidth - 1) * dW + 1, w);
                    while (w0 < 0) w0 += dW;
                    T best = rowMax[w0];
                    for (int iw = w0 + dW; iw < w1; iw += dW) best = T.Max(best, rowMax[iw]);
                    y[o] = best;
                }
            }
            System.Buffers.ArrayPool<T>.Shared.Return(rented);
        }

        // Same rule as the general loop (taps in row-major order, strictly greater or NaN wins), unrolled.
        void RunTwoByTwo(T* src, long o)
        {
            int w = g.InWidth;
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                int rowStart = 2 * oh * w;
                T* r0 = src + rowStart, r1 = r0 + w;
                for (int ow = 0; ow < g.OutWidth; ow++, o++)
                {
                    int c = 2 * ow;
                    T best = r0[c]; int at = rowStart + c;
                    T v = r0[c + 1]; if (v > best || T.IsNaN(v)) { best = v; at = rowStart + c + 1; }
                    v = r1[c]; if (v > best || T.IsNaN(v)) { best = v; at = rowStart + w + c; }
                    v = r1[c + 1]; if (v > best || T.IsNaN(v)) { best = v; at = rowStart + w + c + 1; }
                    y[o] = best;
                    if (indices != null) indices[o] = at;
                }
            }
        }
    }

    // The common 2×2, stride-2 window without padding or dilation, every window inside the input.
    static bool IsPlainTwoByTwo(in Pool2dGeometry g)
        => g.KernelHeight == 2 && g.KernelWidth == 2 && g.StrideHeight == 2 && g.StrideWidth == 2 && g.PadHeight == 0 && g.PadWidth == 0
           && g.DilationHeight == 1 && g.DilationWidth == 1 && 2 * g.OutHeight <= g.InHeight && 2 * g.OutWidth <= g.InWidth;

    // 2×2 stride 2 tiling the whole plane (even height and width): the vector path below applies.
    static bool IsExactTwoByTwo(in Pool2dGeometry g) =>
        IsPlainTwoByTwo(g) && g.InHeight == 2 * g.OutHeight && g.InWidth == 2 * g.OutWidth;

    /// <summary>
    /// The 2×2 window in two branch-free vector passes: the better of each horizontal pair over the whole plane (pairs
    /// never straddle rows when the width is even, so the plane is one contiguous run), then the better of the two
    /// rows. The scalar loop mispredicts about half of its data-dependent compares on real activations. Vector512 where
    /// it is accelerated, then <see cref="Vector{T}"/>: 256-bit with AVX2, 128-bit with SSE or NEON, each path vectorized
    /// (the scalar loop made the AVX2 and Vector128 paths about 4× slower than the AVX-512 one on the same traffic).
    /// Same rule as the scalar loop: of the taps in row-major order the first maximum wins, and a later NaN beats anything;
    /// pairwise then row-wise gives the same winner.
    /// </summary>
    static class TwoByTwoVector
    {
        [ThreadStatic] static float[]? pairValues;
        [ThreadStatic] static int[]? pairIndices;

        public static void Run(int height, int width, float* src, float* y, long* indices)
        {
            int pairs = height * width / 2, outWidth = width / 2;
            if (pairValues is null || pairValues.Length < pairs)
            {
                pairValues = GC.AllocateUninitializedArray<float>(pairs, pinned: true);
                pairIndices = GC.AllocateUninitializedArray<int>(pairs, pinned: true);
            }
            float* hv = (float*)Unsafe.AsPointer(ref pairValues[0]);
            int* hi = (int*)Unsafe.AsPointer(ref pairIndices![0]);
            Pairs(src, pairs, hv, hi);
            for (int oh = 0; oh < height / 2; oh++)
            {
                int top = 2 * oh * outWidth, bottom = top + outWidth, o = oh * outWidth;
                Rows(hv + top, hi + top, hv + bottom, hi + bottom, outWidth, y + o, indices == null ? null : indices + o);
            }
        }

        // hv[k], hi[k] = the winner of src[2k], src[2k + 1] and its index 2k or 2k + 1.
        static void Pairs(float* src, int pairs, float* hv, int* hi)
        {
            int k = 0;
            Vector512<int> twiceLane = Vector512<int>.Indices * 2;
            for (; Vector512.IsHardwareAccelerated && k + 16 <= pairs; k += 16)
            {
                Vector512<float> v0 = Vector512.Load(src + 2 * k), v1 = Vector512.Load(src + 2 * k + 16);
                // Viewed as 64-bit lanes each holding one pair, a 32-bit shift moves the odd element onto the even one.
                Vector512<float> o0 = Vector512.ShiftRightLogical(v0.AsUInt64(), 32).AsSingle();
                Vector512<float> o1 = Vector512.ShiftRightLogical(v1.AsUInt64(), 32).AsSingle();
                Vector512<float> t0 = Vector512.GreaterThan(o0, v0) | ~Vector512.Equals(o0, o0);
                Vector512<float> t1 = Vector512.GreaterThan(o1, v1) | ~Vector512.Equals(o1, o1);
                Vector512<float> m0 = Vector512.ConditionalSelect(t0, o0, v0), m1 = Vector512.ConditionalSelect(t1, o1, v1);
                // Narrowing keeps the low 32 bits of every 64-bit lane: the even slots, where the results are.
                Vector512.Store(Vector512.Narrow(m0.AsUInt64(), m1.AsUInt64()).AsSingle(), hv + k);
                Vector512<int> take = Vector512.Narrow(t0.AsUInt64(), t1.AsUInt64()).AsInt32(); // −1 where the odd one won
                Vector512.Store(Vector512.Create(2 * k) + twiceLane - take, hi + k);
            }
            // The same steps at the Vector<T> width.
            int lanes = Vector<float>.Count;
            Vector<int> twice = Vector<int>.Indices * 2;
            for (; Vector.IsHardwareAccelerated && k + lanes <= pairs; k += lanes)
            {
                Vector<float> v0 = Vector.Load(src + 2 * k), v1 = Vector.Load(src + 2 * k + lanes);
                Vector<float> o0 = Vector.AsVectorSingle(Vector.ShiftRightLogical(Vector.AsVectorUInt64(v0), 32));
                Vector<float> o1 = Vector.AsVectorSingle(Vector.ShiftRightLogical(Vector.AsVectorUInt64(v1), 32));
                Vector<int> t0 = Vector.GreaterThan(o0, v0) | ~Vector.Equals(o0, o0);
                Vector<int> t1 = Vector.GreaterThan(o1, v1) | ~Vector.Equals(o1, o1);
                Vector<float> m0 = Vector.ConditionalSelect(t0, o0, v0), m1 = Vector.ConditionalSelect(t1, o1, v1);
                Vector.Store(Vector.AsVectorSingle(Vector.Narrow(Vector.AsVectorUInt64(m0), Vector.AsVectorUInt64(m1))), hv + k);
                Vector<int> take = Vector.AsVectorInt32(Vector.Narrow(Vector.AsVectorUInt64(t0), Vector.AsVectorUInt64(t1)));
                Vector.Store(new Vector<int>(2 * k) + twice - take, hi + k);
            }
            for (; k < pairs; k++)
            {
                float a = src[2 * k], b = src[2 * k + 1];
                bool take = b > a || float.IsNaN(b);
                hv[k] = take ? b : a;
                hi[k] = 2 * k + (take ? 1 : 0);
            }
        }

        // y[j], indices[j] = the winner of the top and bottom row's pair winners (top first).
        static void Rows(float* tv, int* ti, float* bv, int* bi, int count, float* y, long* indices)
        {
            int j = 0;
            for (; Vector512.IsHardwareAccelerated && j + 16 <= count; j += 16)
            {
                Vector512<float> top = Vector512.Load(tv + j), bottom = Vector512.Load(bv + j);
                Vector512<float> take = Vector512.GreaterThan(bottom, top) | ~Vector512.Equals(bottom, bottom);
                Vector512.Store(Vector512.ConditionalSelect(take, bottom, top), y + j);
                if (indices == null) continue;
                Vector512<int> at = Vector512.ConditionalSelect(take.AsInt32(), Vector512.Load(bi + j), Vector512.Load(ti + j));
                (Vector512<long> lo, Vector512<long> hi) = Vector512.Widen(at);
                Vector512.Store(lo, indices + j);
                Vector512.Store(hi, indices + j + 8);
            }
            int lanes = Vector<float>.Count;
            for (; Vector.IsHardwareAccelerated && j + lanes <= count; j += lanes)
            {
                Vector<float> top = Vector.Load(tv + j), bottom = Vector.Load(bv + j);
                Vector<int> take = Vector.GreaterThan(bottom, top) | ~Vector.Equals(bottom, bottom);
                Vector.Store(Vector.ConditionalSelect(take, bottom, top), y + j);
                if (indices == null) continue;
                Vector.Widen(Vector.ConditionalSelect(take, Vector.Load(bi + j), Vector.Load(ti + j)), out Vector<long> lo, out Vector<long> hi);
                Vector.Store(lo, indices + j);
                Vector.Store(hi, indices + j + lanes / 2);
            }
            for (; j < count; j++)
            {
                bool take = bv[j] > tv[j] || float.IsNaN(bv[j]);
                y[j] = take ? bv[j] : tv[j];
                if (indices != null) indices[j] = take ? bi[j] : ti[j];
            }
        }
    }

    /// <summary>
    /// Stride-1 windows without dilation (SPPF's 5×5 pools) with indices, in two vector passes: the winner of every
    /// window along each input row (value and column), then the winner over each window's rows. The general loop's rule
    /// (taps in row-major order from −∞ at the first tap, strictly greater wins, a NaN wins) folds row by row to the same
    /// winner: within a row the first maximum or the last NaN, then across rows the first row holding the maximum or the
    /// last row holding a NaN. Padding reads as −∞, which never wins, so each window starts from its first in-range tap.
    /// </summary>
    static class SlidingWithIndices
    {
        [ThreadStatic] static float[]? rowValues;
        [ThreadStatic] static int[]? rowColumns;
        [ThreadStatic] static float[]? padded;

        // every window holds at least one input position (no ceil-mode window past the input)
        public static bool Applies(in Pool2dGeometry g) =>
            g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
            && g.PadHeight < g.KernelHeight && g.PadWidth < g.KernelWidth
            && g.OutHeight - 1 - g.PadHeight < g.InHeight && g.OutWidth - 1 - g.PadWidth < g.InWidth;

        public static void Run(in Pool2dGeometry g, float* src, float* y, long* indices)
        {
            int h = g.InHeight, w = g.InWidth, kH = g.KernelHeight, kW = g.KernelWidth, pH = g.PadHeight, pW = g.PadWidth;
            int outH = g.OutHeight, outW = g.OutWidth, length = Math.Max(outW + kW - 1, pW + w);
            if (rowValues is null || rowValues.Length < h * outW)
            {
                rowValues = GC.AllocateUninitializedArray<float>(h * outW, pinned: true);
                rowColumns = GC.AllocateUninitializedArray<int>(h * outW, pinned: true);
            }
            if (padded is null || padded.Length < length) padded = GC.AllocateUninitializedArray<float>(length, pinned: true);
            float* rv = (float*)Unsafe.AsPointer(ref rowValues[0]), buffer = (float*)Unsafe.AsPointer(ref padded[0]);
            int* rc = (int*)Unsafe.AsPointer(ref rowColumns![0]);
            new Span<float>(buffer, pW).Fill(float.NegativeInfinity);
            new Span<float>(buffer + pW + w, length - pW - w).Fill(float.NegativeInfinity);
            var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            for (int ih = 0; ih < h; ih++)
            {
                new ReadOnlySpan<float>(src + (long)ih * w, w).CopyTo(new Span<float>(buffer + pW, w));
                float* values = rv + ih * outW;
                int* columns = rc + ih * outW;
                int j = 0;
                for (; j + 8 <= outW; j += 8)
                {
                    var start = Vector256.Create(j - pW) + lane;
                    var best = Vector256.Create(float.NegativeInfinity);
                    var at = Vector256.Max(start, Vector256<int>.Zero);
                    for (int t = 0; t < kW; t++)
                    {
                        var v = Vector256.Load(buffer + j + t);
                        var take = Vector256.GreaterThan(v, best) | ~Vector256.Equals(v, v);
                        best = Vector256.ConditionalSelect(take, v, best);
                        at = Vector256.ConditionalSelect(take.AsInt32(), start + Vector256.Create(t), at);
                    }
                    best.Store(values + j);
                    at.Store(columns + j);
                }
                for (; j < outW; j++)
                {
                    float best = float.NegativeInfinity;
                    int at = Math.Max(j - pW, 0);
                    for (int t = 0; t < kW; t++)
                    {
                        float v = buffer[j + t];
                        if (v > best || float.IsNaN(v)) { best = v; at = j - pW + t; }
                    }
                    values[j] = best;
                    columns[j] = at;
                }
            }
            for (int oh = 0; oh < outH; oh++)
            {
                int h0 = Math.Max(oh - pH, 0), h1 = Math.Min(oh - pH + kH, h);
                float* yo = y + (long)oh * outW;
                long* io = indices + (long)oh * outW;
                int j = 0;
                for (; j + 8 <= outW; j += 8)
                {
                    var best = Vector256.Create(float.NegativeInfinity);
                    var at = Vector256.Create(h0 * w) + Vector256.Max(Vector256.Create(j - pW) + lane, Vector256<int>.Zero);
                    for (int ih = h0; ih < h1; ih++)
                    {
                        var v = Vector256.Load(rv + ih * outW + j);
                        var take = Vector256.GreaterThan(v, best) | ~Vector256.Equals(v, v);
                        best = Vector256.ConditionalSelect(take, v, best);
                        at = Vector256.ConditionalSelect(take.AsInt32(), Vector256.Create(ih * w) + Vector256.Load(rc + ih * outW + j), at);
                    }
                    best.Store(yo + j);
                    var (lo, hi) = Vector256.Widen(at);
                    lo.Store(io + j);
                    hi.Store(io + j + 4);
                }
                for (; j < outW; j++)
                {
                    float best = float.NegativeInfinity;
                    int at = h0 * w + Math.Max(j - pW, 0);
                    for (int ih = h0; ih < h1; ih++)
                    {
                        float v = rv[ih * outW + j];
                        if (v > best || float.IsNaN(v)) { best = v; at = ih * w + rc[ih * outW + j]; }
                    }
                    yo[j] = best;
                    io[j] = at;
                }
            }
        }
    }

    readonly struct ScatterPlane<T>(int inPlane, int outPlane, T* dy, long* indices, T* dx) : IPlaneKernel where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int plane)
        {
            var target = new Span<T>(dx + (long)plane * inPlane, inPlane);
            target.Clear();
            long o = (long)plane * outPlane;
            for (int k = 0; k < outPlane; k++)
                target[(int)indices[o + k]] += dy[o + k];
        }
    }
}
