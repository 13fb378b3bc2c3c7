using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Loops;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Norm;

/// <summary>
/// Layer normalization over the last D values of a contiguous [R, D] block (torch.nn.functional.layer_norm): each row is
/// normalized with its own mean and biased variance (a sum, then a centred sum of squares while the row sits in L1),
/// then w·x̂ + b per column, written in a third pass. Backward: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = w·dy, dw = Σ_rows dy·x̂, db = Σ_rows dy.
/// Rows run in parallel; the column sums go over fixed chunks of rows added in chunk order, so every result is
/// bit-identical for any thread count.
/// </summary>
public static unsafe class LayerNormKernel
{
    // Chunks of rows for the weight and bias gradients: fixed by the row count, never by the thread count.
    const int GradientChunks = 8;

    /// <summary>y = (x − mean)·rstd·w + b per row; mean and rstd = 1/√(var + eps) are written per row for the backward.</summary>
    /// <param name="x">[R, D].</param>
    /// <param name="rows">R.</param>
    /// <param name="cols">D.</param>
    /// <param name="weight">[D], or empty.</param>
    /// <param name="bias">[D], or empty.</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="y">[R, D], overwritten.</param>
    /// <param name="mean">[R], overwritten.</param>
    /// <param name="rstd">[R], overwritten.</param>
    public static void Forward<T>(ReadOnlySpan<T> x, int rows, int cols, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, T eps,
        Span<T> y, Span<T> mean, Span<T> rstd) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long length = (long)rows * cols;
        if (x.Length < length || y.Length < length || mean.Length < rows || rstd.Length < rows
            || (!weight.IsEmpty && weight.Length < cols) || (!bias.IsEmpty && bias.Length < cols))
            throw new ArgumentException($"LayerNormKernel.Forward: spans too short for [{rows}, {cols}]");
        fixed (T* px = x, py = y, pm = mean, pr = rstd, pw = weight, pb = bias)
            ParallelRange.For(rows, Math.Max(1, 16384 / Math.Max(1, cols)),
                new ForwardAction<T>(px, py, pm, pr, weight.IsEmpty ? null : pw, bias.IsEmpty ? null : pb, cols, eps,
                    length * sizeof(T) >= NonTemporal.MinBytes));
    }

    /// <summary>dx (required), and dw, db (when not empty) from the saved per-row mean and rstd.</summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> gradOutput, int rows, int cols, ReadOnlySpan<T> weight,
        ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, Span<T> gradInput, Span<T> gradWeight, Span<T> gradBias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long length = (long)rows * cols;
        if (x.Length < length || gradOutput.Length < length || gradInput.Length < length || mean.Length < rows || rstd.Length < rows
            || (!weight.IsEmpty && weight.Length < cols) || (!gradWeight.IsEmpty && gradWeight.Length < cols) || (!gradBias.IsEmpty && gradBias.Length < cols))
            throw new ArgumentException($"LayerNormKernel.Backward: spans too short for [{rows}, {cols}]");
        bool columnSums = !gradWeight.IsEmpty || !gradBias.IsEmpty;
        int grain = Math.Max(1, (rows + GradientChunks - 1) / GradientChunks);
        int chunks = rows == 0 ? 0 : (rows + grain - 1) / grain;
        // Per chunk: the partial Σ dy·x̂ and Σ dy, side by side.
        T[] partials = ArrayPool<T>.Shared.Rent(Math.Max(1, chunks * 2 * cols));
        try
        {
            fixed (T* px = x, pg = gradOutput, pw = weight, pm = mean, pr = rstd, pdx = gradInput, pp = partials)
                ParallelRange.For(rows, grain, new BackwardAction<T>(px, pg, weight.IsEmpty ? null : pw, pm, pr, pdx, columnSums ? pp : null, cols, grain));
            if (!columnSums) return;
            if (!gradWeight.IsEmpty) gradWeight[..cols].Clear();
            if (!gradBias.IsEmpty) gradBias[..cols].Clear();
            for (int c = 0; c < chunks; c++)
            {
                var part = partials.AsSpan(c * 2 * cols, 2 * cols);
                if (!gradWeight.IsEmpty) TensorPrimitives.Add(gradWeight[..cols], part[..cols], gradWeight[..cols]);
                if (!gradBias.IsEmpty) TensorPrimitives.Add(gradBias[..cols], part[cols..], gradBias[..cols]);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(partials);
        }
    }

    // Both actions dispatch once per range to the widest accelerated width (SimdPath) and run fused passes over each row
    // (written with ISimd rather than TensorPrimitives: chaining TensorPrimitives calls took 5 passes forward and 10
    // backward, and its FusedMultiplyAdd is emulated per element where the CPU has no FMA).
    readonly struct ForwardAction<T>(T* x, T* y, T* mean, T* rstd, T* w, T* b, int cols, T eps, bool stream) : IRangeAction
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            switch (SimdPath.Width)
            {
                case SimdWidth.Vector512: Run<Simd512<T>>(start, end); break;
                case SimdWidth.Vector256: Run<Simd256<T>>(start, end); break;
                default: Run<Simd128<T>>(start, end); break;
            }
        }

        // Three passes per row: Σx; Σ(x − mean)² (the row is in L1 by then, and the centred sum stays accurate where
        // Σx² − n·mean² would cancel); y = (x − mean)·rstd·w + b.
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
        void Run<TVec>(int start, int end) where TVec : struct, ISimd<TVec, T>
        {
            T d = T.CreateTruncating(cols);
            bool vector = TVec.IsSupported;
            int full = vector ? cols - cols % TVec.Count : 0;
            bool prefetch = stream && Sse.IsSupported;
            for (int r = start; r < end; r++)
            {
                T* xr = x + (long)r * cols, yr = y + (long)r * cols;
                T sum = T.Zero;
                int i = 0;
                if (vector)
                {
                    // Four independent accumulators: one chain of dependent adds made each pass latency-bound (a 1024-wide
                    // row is 64 adds in a row at 512 bits, 128 at 256, 256 at 128).
                    TVec a0 = TVec.Zero, a1 = TVec.Zero, a2 = TVec.Zero, a3 = TVec.Zero;
                    for (; i <= full - 4 * TVec.Count; i += 4 * TVec.Count)
                    {
                        a0 += TVec.Load(xr + i);
                        a1 += TVec.Load(xr + i + TVec.Count);
                        a2 += TVec.Load(xr + i + 2 * TVec.Count);
                        a3 += TVec.Load(xr + i + 3 * TVec.Count);
                    }
                    for (; i < full; i += TVec.Count) a0 += TVec.Load(xr + i);
                    sum = TVec.Sum((a0 + a1) + (a2 + a3));
                }
                for (; i < cols; i++) sum += xr[i];
                T m = sum / d;

                T sq = T.Zero;
                i = 0;
                TVec vm = vector ? TVec.Create(m) : default;
                if (vector)
                {
                    TVec a0 = TVec.Zero, a1 = TVec.Zero, a2 = TVec.Zero, a3 = TVec.Zero;
                    for (; i <= full - 4 * TVec.Count; i += 4 * TVec.Count)
                    {
                        if (prefetch) PrefetchNextRow(xr + cols + i, 4 * TVec.Count);
                        TVec c0 = TVec.Load(xr + i) - vm, c1 = TVec.Load(xr + i + TVec.Count) - vm;
                        TVec c2 = TVec.Load(xr + i + 2 * TVec.Count) - vm, c3 = TVec.Load(xr + i + 3 * TVec.Count) - vm;
                        a0 += c0 * c0;
                        a1 += c1 * c1;
                        a2 += c2 * c2;
                        a3 += c3 * c3;
                    }
                    for (; i < full; i += TVec.Count)
                    {
                        var c = TVec.Load(xr + i) - vm;
                        a0 += c * c;
                    }
                    sq = TVec.Sum((a0 + a1) + (a2 + a3));
                }
                for (; i < cols; i++) { T c = xr[i] - m; sq += c * c; }
                T inv = T.One / T.Sqrt(sq / d + eps);
                mean[r] = m;
                rstd[r] = inv;

                WriteRow<TVec>(xr, yr, m, inv, vector);
            }
            if (stream) NonTemporal.Fence();
        }

        // The next row's lines, requested while this row's centred pass runs from L1: a 4 KB row is a page of its own,
        // and the hardware's streaming prefetcher does not cross pages, so each row began with a run of demand misses. A
        // prefetch never faults, so the one past the last row is harmless.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void PrefetchNextRow(T* at, int count)
        {
            for (int k = 0; k < count * sizeof(T); k += 64) Sse.Prefetch0((byte*)at + k);
        }

        // y = (x − mean)·rstd·w + b over one row. Streamed (NonTemporal: the output is large), only the row's whole cache
        // lines are written with non-temporal stores, the elements before and after them with plain ones (see
        // BinaryRun.Streamed: a line written both ways costs a partial write-combining flush). Every element takes the same
        // operations in vector and scalar code, so the same bits.
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
        void WriteRow<TVec>(T* xr, T* yr, T m, T inv, bool vector) where TVec : struct, ISimd<TVec, T>
        {
            int i = 0;
            if (vector)
            {
                TVec vm = TVec.Create(m), vinv = TVec.Create(inv);
                int head = stream ? NonTemporal.HeadToLine(yr, cols) : -1;
                if (head >= 0)
                {
                    i = NormalizeBody<TVec, PlainStore>(xr, yr, w, b, 0, head, vm, vinv);
                    for (; i < head; i++) yr[i] = Normalize(xr, i, m, inv);
                    int lines = head + (cols - head) / (NonTemporal.LineBytes / sizeof(T)) * (NonTemporal.LineBytes / sizeof(T));
                    i = NormalizeBody<TVec, NonTemporalStore>(xr, yr, w, b, i, lines, vm, vinv);
                }
                i = NormalizeBody<TVec, PlainStore>(xr, yr, w, b, i, cols, vm, vinv);
            }
            for (; i < cols; i++) yr[i] = Normalize(xr, i, m, inv);
        }

        // The registers of a row from index i up to end; returns where the scalar tail starts. A static loop over
        // arguments: as a loop over the struct's fields the JIT reloaded w, b and cols and tested w and b for null on every
        // register (a store through yr might have changed them), five taken branches per register, which made the 256-bit
        // forward front-end bound (1.3-1.6× the 512-bit one in CPU time on this Intel Xeon (SPR class)).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static int NormalizeBody<TVec, TStore>(T* xr, T* yr, T* w, T* b, int i, int end, TVec vm, TVec vinv)
            where TVec : struct, ISimd<TVec, T> where TStore : struct, IVectorStore
        {
            int last = end - TVec.Count;
            if (w != null && b != null)
                for (; i <= last; i += TVec.Count) TStore.Store((TVec.Load(xr + i) - vm) * vinv * TVec.Load(w + i) + TVec.Load(b + i), yr + i);
            else
                for (; i <= last; i += TVec.Count)
                {
                    var v = (TVec.Load(xr + i) - vm) * vinv;
                    if (w != null) v *= TVec.Load(w + i);
                    if (b != null) v += TVec.Load(b + i);
                    TStore.Store(v, yr + i);
                }
            return i;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        T Normalize(T* xr, int i, T m, T inv)
        {
            T v = (xr[i] - m) * inv;
            if (w != null) v *= w[i];
            if (b != null) v += b[i];
            return v;
        }
    }

    readonly struct BackwardAction<T>(T* x, T* dy, T* w, T* mean, T* rstd, T* dx, T* partials, int cols, int grain) : IRangeAction
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            switch (SimdPath.Width)
            {
                case SimdWidth.Vector512: Run<Simd512<T>>(start, end); break;
                case SimdWidth.Vector256: Run<Simd256<T>>(start, end); break;
                default: Run<Simd128<T>>(start, end); break;
            }
        }

        // Two passes per row, x̂ = (x − mean)·rstd and g = w·dy recomputed in each instead of stored: Σg and Σg·x̂; then
        // dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with this chunk's Σdy·x̂ and Σdy accumulated alongside.
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
        void Run<TVec>(int start, int end) where TVec : struct, ISimd<TVec, T>
        {
            T d = T.CreateTruncating(cols);
            bool vector = TVec.IsSupported;
            int full = vector ? cols - cols % TVec.Count : 0;
            T* dwPart = null, dbPart = null;
            if (partials != null)
            {
                dwPart = partials + (long)(start / grain) * 2 * cols;
                dbPart = dwPart + cols;
                new Span<T>(dwPart, 2 * cols).Clear();
            }
            for (int r = start; r < end; r++)
            {
                T* xr = x + (long)r * cols, dyr = dy + (long)r * cols, dxr = dx + (long)r * cols;
                T m = mean[r], inv = rstd[r];
                TVec vm = vector ? TVec.Create(m) : default, vinv = vector ? TVec.Create(inv) : default;
                T sumG = T.Zero, sumGx = T.Zero;
                int i = 0;
                if (vector)
                {
                    // Two accumulators per sum, so four independent chains (see the forward's sums).
                    TVec accG = TVec.Zero, accGx = TVec.Zero, accG1 = TVec.Zero, accGx1 = TVec.Zero;
                    for (; i <= full - 2 * TVec.Count; i += 2 * TVec.Count)
                    {
                        var g = TVec.Load(dyr + i);
                        var g1 = TVec.Load(dyr + i + TVec.Count);
                        if (w != null) { g *= TVec.Load(w + i); g1 *= TVec.Load(w + i + TVec.Count); }
                        accG += g;
                        accG1 += g1;
                        accGx += g * ((TVec.Load(xr + i) - vm) * vinv);
                        accGx1 += g1 * ((TVec.Load(xr + i + TVec.Count) - vm) * vinv);
                    }
                    for (; i < full; i += TVec.Count)
                    {
                        var g = TVec.Load(dyr + i);
                        if (w != null) g *= TVec.Load(w + i);
                        accG += g;
                        accGx += g * ((TVec.Load(xr + i) - vm) * vinv);
                    }
                    sumG = TVec.Sum(accG + accG1);
                    sumGx = TVec.Sum(accGx + accGx1);
                }
                for (; i < cols; i++)
                {
                    T g = w != null ? dyr[i] * w[i] : dyr[i];
                    sumG += g;
                    sumGx += g * ((xr[i] - m) * inv);
                }
                T meanG = sumG / d, meanGx = sumGx / d;

                i = 0;
                if (vector)
                {
                    TVec vmeanG = TVec.Create(meanG), vmeanGx = TVec.Create(meanGx);
                    for (; i < full; i += TVec.Count)
                    {
                        var dyv = TVec.Load(dyr + i);
                        var g = w != null ? dyv * TVec.Load(w + i) : dyv;
                        var xhat = (TVec.Load(xr + i) - vm) * vinv;
                        ((g - vmeanG - xhat * vmeanGx) * vinv).Store(dxr + i);
                        if (dwPart != null)
                        {
                            (TVec.Load(dwPart + i) + dyv * xhat).Store(dwPart + i);
                            (TVec.Load(dbPart + i) + dyv).Store(dbPart + i);
                        }
                    }
                }
                for (; i < cols; i++)
                {
                    T g = w != null ? dyr[i] * w[i] : dyr[i];
                    T xhat = (xr[i] - m) * inv;
                    dxr[i] = (g - meanG - xhat * meanGx) * inv;
                    if (dwPart != null)
                    {
                        dwPart[i] += dyr[i] * xhat;
                        dbPart[i] += dyr[i];
                    }
                }
            }
        }
    }
}
