using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Loops;

/// <summary>
/// Reductions over the middle axis of a contiguous [outer, reduced, inner] block. Every output element is reduced in
/// the same fixed order whatever the thread count, so results are bit-identical.
/// </summary>
public static unsafe class Reduction
{
    /// <summary>dst[o, i] = op over r of src[o, r, i]. An empty reduction gives the op's identity (max/min: error).</summary>
    public static void Reduce<T>(ReduceOp op, ReadOnlySpan<T> src, int outer, int reduced, int inner, Span<T> dst)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        Check(src.Length, outer, reduced, inner, dst.Length, "reduce");
        if (reduced == 0)
        {
            if (op is ReduceOp.Max or ReduceOp.Min) throw new ArgumentException($"{op.ToString().ToLowerInvariant()}: cannot reduce over an empty dimension");
            dst[..(outer * inner)].Fill(op == ReduceOp.Prod ? T.One : T.Zero);
            return;
        }
        Run(op, src, outer, reduced, inner, dst, mean: false);
    }

    /// <summary>
    /// dst[o, i] = (Σ over r of src[o, r, i]) / reduced: the sum of <see cref="Reduce{T}"/>, in the same order, divided as
    /// each result is stored, so the same bits as a sum followed by a division by the count, without the second op. An
    /// empty reduction gives NaN (0/0, as PyTorch's mean).
    /// </summary>
    public static void Mean<T>(ReadOnlySpan<T> src, int outer, int reduced, int inner, Span<T> dst)
        where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        Check(src.Length, outer, reduced, inner, dst.Length, "mean");
        if (reduced == 0)
        {
            dst[..(outer * inner)].Fill(T.NaN);
            return;
        }
        Run(ReduceOp.Sum, src, outer, reduced, inner, dst, mean: true);
    }

    static void Run<T>(ReduceOp op, ReadOnlySpan<T> src, int outer, int reduced, int inner, Span<T> dst, bool mean)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        fixed (T* ps = src) fixed (T* pd = dst)
        {
            long work = (long)outer * reduced * inner;
            // A reduction over an outer axis (inner > 1) is also split into blocks of inner columns, so that a sum down the
            // columns of one matrix (outer = 1) runs on every thread; each column is still summed in row order.
            int block = work >= Elementwise.ParallelThreshold && inner > InnerBlock ? InnerBlock : Math.Max(1, inner);
            int blocks = (inner + block - 1) / block;
            var action = new ReduceAction<T> { Op = op, Src = ps, Dst = pd, Reduced = reduced, Inner = inner, Block = block, Blocks = blocks,
                Mean = mean, Count = T.CreateChecked(reduced) };
            int items = outer * blocks;
            ParallelRange.For(items, Grain(work, items, (long)reduced * block), action);
        }
    }

    /// <summary>
    /// Work items per chunk of a reduction: all of them below the parallel threshold, else one contiguous run of items
    /// per thread (at least a threshold's worth of elements). Each item (one row, or one block of columns) is reduced
    /// whole inside one chunk, so unlike an elementwise split the chunking cannot change any bit, and it may follow
    /// the thread count. A 4096×1024 float32 row sum (16 MB from L3, 2 threads) reached its fastest samples this way:
    /// in 9 of 10 in-process runs of alternated samples the best one beat that of 64-row chunks claimed one at a time
    /// (e.g. 0.103 vs 0.112 ms), while the medians stayed within the load's noise (Zen 4, 2026-12-06;
    /// docs/bench-logs/2026-12-06-session29-s29-rowsum-ab.txt). The cost: a thread taken off its core by another
    /// process holds up its whole run, where small chunks would have gone to the other thread.
    /// </summary>
    static int Grain(long work, int items, long elementsPerItem)
    {
        if (work < Elementwise.ParallelThreshold) return items;
        int byThreshold = (int)Math.Max(1L, Elementwise.ParallelThreshold / Math.Max(1L, elementsPerItem));
        int perThread = (int)(((long)items + ParallelRange.MaxThreads - 1) / ParallelRange.MaxThreads);
        return Math.Max(byThreshold, perThread);
    }

    /// <summary>Inner columns per work item of a large reduction over an outer axis: 2 KB of float32 per row, long enough runs for the prefetchers.</summary>
    internal const int InnerBlock = 512;

    /// <summary>Values and first indices of the max (or min) over r of src[o, r, i]; NaN counts as the extreme, as in PyTorch.</summary>
    public static void ArgReduce<T>(bool max, ReadOnlySpan<T> src, int outer, int reduced, int inner, Span<T> values, Span<long> indices)
        where T : unmanaged, INumber<T>
    {
        Check(src.Length, outer, reduced, inner, values.Length, max ? "argmax" : "argmin");
        if (reduced == 0) throw new ArgumentException($"{(max ? "argmax" : "argmin")}: cannot reduce over an empty dimension");
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int baseIndex = o * reduced * inner + i;
                T best = src[baseIndex];
                long bestIndex = 0;
                if (!T.IsNaN(best))
                    for (int r = 1; r < reduced; r++)
                    {
                        T v = src[baseIndex + r * inner];
                        if (T.IsNaN(v)) { best = v; bestIndex = r; break; }
                        if (max ? v > best : v < best) { best = v; bestIndex = r; }
                    }
                values[o * inner + i] = best;
                indices[o * inner + i] = bestIndex;
            }
    }

    /// <summary>Softmax (or log-softmax) over r of src[o, r, i], stabilised by subtracting the maximum.</summary>
    public static void Softmax<T>(ReadOnlySpan<T> src, int outer, int reduced, int inner, Span<T> dst, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(src.Length, outer, reduced, inner, dst.Length / Math.Max(1, reduced), "softmax");
        if (reduced == 0) return;
        fixed (T* ps = src) fixed (T* pd = dst)
        {
            long work = (long)outer * reduced * inner;
            var action = new SoftmaxAction<T> { Src = ps, Dst = pd, Reduced = reduced, Inner = inner, Log = log,
                Stream = inner == 1 && work * sizeof(T) >= NonTemporal.MinBytes && (long)reduced * sizeof(T) <= SoftmaxAction<T>.MaxScratchBytes };
            int grain = work < Elementwise.ParallelThreshold ? outer : Math.Max(1, (int)(Elementwise.ParallelThreshold / Math.Max(1L, (long)reduced * inner)));
            ParallelRange.For(outer, grain, action);
        }
    }

    /// <summary>
    /// The gradient of softmax over r from its output y: dx = y·(g − Σ_r g·y); of log-softmax: dx = g − e^y·Σ_r g.
    /// Two passes per row (the sum, then dx while the row is still in cache) instead of four composed ops. dx may alias g.
    /// </summary>
    public static void SoftmaxBackward<T>(ReadOnlySpan<T> gradOutput, ReadOnlySpan<T> output, int outer, int reduced, int inner, Span<T> gradInput, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = (long)outer * reduced * inner;
        if (gradOutput.Length < count || output.Length < count || gradInput.Length < count)
            throw new ArgumentException($"{(log ? "log_softmax" : "softmax")} backward: spans too short for [{outer}, {reduced}, {inner}] (grad {gradOutput.Length}, output {output.Length}, dx {gradInput.Length})");
        if (count == 0) return;
        fixed (T* pg = gradOutput) fixed (T* py = output) fixed (T* pd = gradInput)
        {
            var action = new SoftmaxBackwardAction<T> { G = pg, Y = py, Dx = pd, Reduced = reduced, Inner = inner, Log = log,
                Stream = inner == 1 && !log && count * sizeof(T) >= NonTemporal.MinBytes };
            int grain = count < Elementwise.ParallelThreshold ? outer : Math.Max(1, (int)(Elementwise.ParallelThreshold / Math.Max(1L, (long)reduced * inner)));
            ParallelRange.For(outer, grain, action);
        }
    }

    static void Check(int srcLength, int outer, int reduced, int inner, int dstLength, string op)
    {
        if ((long)outer * reduced * inner > srcLength || (long)outer * inner > dstLength)
            throw new ArgumentException($"{op}: spans too short for [{outer}, {reduced}, {inner}] (src {srcLength}, dst {dstLength})");
    }

    struct ReduceAction<T> : IRangeAction where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        public ReduceOp Op; public T* Src; public T* Dst; public int Reduced, Inner, Block, Blocks;
        // A mean: each sum is divided by Count (the reduced length in T) as it is stored.
        public bool Mean; public T Count;
        public readonly void Invoke(int start, int end)
        {
            // A sum along the last axis: each item is one row (Blocks is 1 when Inner is 1).
            if (Inner == 1 && Op == ReduceOp.Sum && (typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(long)))
            {
                SumLastAxis(Src + (long)start * Reduced, Dst + start, Reduced, end - start, Mean, Count);
                return;
            }
            for (int item = start; item < end; item++)
            {
                int o = item / Blocks, c0 = item % Blocks * Block, len = Math.Min(Block, Inner - c0);
                T* s = Src + (long)o * Reduced * Inner + c0;
                if (Inner == 1) { Dst[o] = ReduceRow(new ReadOnlySpan<T>(s, Reduced)); continue; }
                T* d = Dst + (long)o * Inner + c0;
                new ReadOnlySpan<T>(s, len).CopyTo(new Span<T>(d, len));
                int r = 1;
                if (Op == ReduceOp.Sum && typeof(T) == typeof(float))
                    r = SumRows((float*)s, (float*)d, Reduced, Inner, len);
                for (; r < Reduced; r++)
                    Combine(new Span<T>(d, len), new ReadOnlySpan<T>(s + (long)r * Inner, len));
                if (Mean)
                    for (int k = 0; k < len; k++) d[k] /= Count; // the block is still in L1
            }
        }

        // d += rows 1, 2, 3, … of s, four rows per pass over d with d held in registers between them: the same additions
        // in the same order as one row at a time (so the same bits), a quarter of the loads and stores of d. Returns the
        // first row left (the caller adds the last few one at a time).
        static int SumRows(float* s, float* d, int reduced, int stride, int len) => SimdPath.Width switch
        {
            SimdWidth.Vector512 => SumRows<Simd512<float>>(s, d, reduced, stride, len),
            SimdWidth.Vector256 => SumRows<Simd256<float>>(s, d, reduced, stride, len),
            _ => SumRows<Simd128<float>>(s, d, reduced, stride, len),
        };

        // Where every row starts at the same offset within a register (the row stride a whole number of registers), the
        // columns before the first register-aligned one go through the scalar loop, so no load of the rows splits a cache
        // line: large tensors start at 24 mod 64 bytes here, and a 4096×1024 float32 column sum with 512-bit loads took
        // ~30% less CPU time from 64-byte-aligned rows than from rows at 24 mod 64 (in-process A/B, 2 threads, 39-40 of
        // 41 rounds, 2026-12-05; docs/bench-logs/2026-12-05-session18-s18-mem-ab.txt). Each column is still summed in row
        // order, by the vector lanes or the scalar loop alike, so the bits do not depend on the address.
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
        static int SumRows<TVec>(float* s, float* d, int reduced, int stride, int len) where TVec : struct, ISimd<TVec, float>
        {
            int head = stride % TVec.Count == 0 ? Math.Max(0, NonTemporal.HeadToAlignment<TVec, float>(s, len)) : 0;
            if (len - head < TVec.Count) head = 0;
            int full = head + (len - head) / TVec.Count * TVec.Count;
            if (full == head) return 1;
            int r = 1;
            for (; r + 4 <= reduced; r += 4)
            {
                float* r0 = s + (long)r * stride, r1 = r0 + stride, r2 = r1 + stride, r3 = r2 + stride;
                for (int i = 0; i < head; i++) d[i] = d[i] + r0[i] + r1[i] + r2[i] + r3[i];
                for (int i = head; i < full; i += TVec.Count)
                    (TVec.Load(d + i) + TVec.Load(r0 + i) + TVec.Load(r1 + i) + TVec.Load(r2 + i) + TVec.Load(r3 + i)).Store(d + i);
                for (int i = full; i < len; i++) d[i] = d[i] + r0[i] + r1[i] + r2[i] + r3[i];
            }
            return r;
        }

        // The AVX-512 path sums rows at the Vector256 width too: streaming rows from L3 (4096×1024 float32), 512-bit loads
        // ran slower than 256-bit ones on this Zen 5 machine: ~10-20% with the data at 24 mod 64 bytes (where large
        // managed arrays start here, so every 512-bit load splits a cache line), ~4-10% even 64-byte aligned (one and two
        // threads, in-process A/B, 2026-12-04; docs/bench-logs/2026-12-04-session14-s14-reduce-ab.txt). libtorch's own
        // AVX-512 row sum is slower than its AVX2 one here too. The order still depends only on the row length and the path.
        // Re-read on Zen 5 in session 32 (in-process, 2 threads, 24 mod 64): 512-bit loads 1.18-1.22× the 256-bit time, eight
        // accumulators instead of four and a prefetch of the next row no faster, the kernel at 150-180 GB/s median (200-250
        // best), the 2×16 MiB copy rate: the row sum is bound by the L3 read, not by this loop
        // (docs/bench-logs/2026-12-07-session32-s32-mem-ab.txt).
        static void SumLastAxis(T* s, T* d, int length, int rows, bool mean, T count)
        {
            switch (SimdPath.Width)
            {
                case SimdWidth.Vector512 or SimdWidth.Vector256: SumLastAxis<Simd256<T>>(s, d, length, rows, mean, count); break;
                default: SumLastAxis<Simd128<T>>(s, d, length, rows, mean, count); break;
            }
        }

        // d[row] = Σ s[row, 0..length) for each of rows contiguous rows, all in one call: TensorPrimitives.Sum per row cost
        // ~8-13% more thread CPU time on 4096×1024 float32 (its per-call set-up and alignment masks; 2026-12-04, Zen 5),
        // and its summation order depends on the row's address alignment. Here each block of SumBlock elements is summed
        // by four independent accumulators (vectors 4k, 4k+1, 4k+2, 4k+3), combined pairwise into a running vector total
        // (a two-level cascade, so a long full sum does not pile millions of additions onto one lane); the leftover full
        // vectors go to the total, then the horizontal sum and the scalar tail. The order depends only on the row length
        // and the vector width. A mean divides each sum by count as it is stored.
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
        static void SumLastAxis<TVec>(T* s, T* d, int length, int rows, bool mean, T count) where TVec : struct, ISimd<TVec, T>
        {
            int n = TVec.IsSupported ? TVec.Count : length + 1;
            for (int row = 0; row < rows; row++, s += length)
            {
                T sum = T.Zero;
                int i = 0;
                if (length >= n)
                {
                    var total = TVec.Zero;
                    while (length - i >= 4 * n)
                    {
                        int blockEnd = i + Math.Min(SumBlock, (length - i) / (4 * n) * (4 * n));
                        TVec a0 = TVec.Load(s + i), a1 = TVec.Load(s + i + n), a2 = TVec.Load(s + i + 2 * n), a3 = TVec.Load(s + i + 3 * n);
                        for (i += 4 * n; i < blockEnd; i += 4 * n)
                        {
                            a0 += TVec.Load(s + i);
                            a1 += TVec.Load(s + i + n);
                            a2 += TVec.Load(s + i + 2 * n);
                            a3 += TVec.Load(s + i + 3 * n);
                        }
                        total += (a0 + a1) + (a2 + a3);
                    }
                    for (; i <= length - n; i += n) total += TVec.Load(s + i);
                    sum = TVec.Sum(total);
                }
                for (; i < length; i++) sum += s[i];
                d[row] = mean ? sum / count : sum;
            }
        }

        // Elements per block of a row sum (a multiple of four registers at every width): short enough that a block adds
        // at most 256 values into one lane at the Vector256 width.
        const int SumBlock = 8192;

        readonly T ReduceRow(ReadOnlySpan<T> row)
        {
            if (typeof(T) == typeof(float) || typeof(T) == typeof(double))
                return Op switch
                {
                    ReduceOp.Sum => TensorPrimitives.Sum(row),
                    ReduceOp.Prod => TensorPrimitives.Product(row),
                    ReduceOp.Max => TensorPrimitives.Max(row),
                    _ => TensorPrimitives.Min(row),
                };
            T acc = row[0];
            for (int i = 1; i < row.Length; i++) acc = Step(acc, row[i]);
            return acc;
        }

        readonly void Combine(Span<T> acc, ReadOnlySpan<T> row)
        {
            switch (Op)
            {
                case ReduceOp.Sum: Contiguous.Binary(BinaryOp.Add, acc, row, acc); break;
                case ReduceOp.Prod: Contiguous.Binary(BinaryOp.Mul, acc, row, acc); break;
                case ReduceOp.Max: Contiguous.Binary(BinaryOp.Maximum, acc, row, acc); break;
                default: Contiguous.Binary(BinaryOp.Minimum, acc, row, acc); break;
            }
        }

        readonly T Step(T acc, T v) => Op switch
        {
            ReduceOp.Sum => acc + v,
            ReduceOp.Prod => acc * v,
            ReduceOp.Max => T.IsNaN(v) || v > acc ? v : acc,
            _ => T.IsNaN(v) || v < acc ? v : acc,
        };
    }

    // Three passes per row, all at the widest accelerated width: the maximum; e = exp(x − max) stored while summed (log:
    // only summed); then the division (log: x − max − log Σ). Max and the exp-sum cannot share a pass without a second
    // exp per element (the online form rescales the sum whenever the maximum grows); the later passes read a row that is
    // still in L1/L2. Softmax over an inner axis runs the same passes with one lane per inner column.
    struct SoftmaxAction<T> : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>Longest row (in bytes) a streamed softmax stages on the stack: well inside L1/L2.</summary>
        public const int MaxScratchBytes = 32 << 10;

        public T* Src; public T* Dst; public int Reduced, Inner; public bool Log;
        // A large output over the last axis (NonTemporal): each row's exponentials are staged in a stack row that stays in
        // L1, and the final pass writes the output with non-temporal stores, so the output's lines are never read
        // (32 MB moved instead of 48 for a 4096×1024 softmax). The same operations per element, so the same bits.
        public bool Stream;
        public readonly void Invoke(int start, int end)
        {
            switch (SimdPath.Width)
            {
                case SimdWidth.Vector512: Run<Simd512<T>>(start, end); break;
                case SimdWidth.Vector256: Run<Simd256<T>>(start, end); break;
                default: Run<Simd128<T>>(start, end); break;
            }
        }

        readonly void Run<TVec>(int start, int end) where TVec : struct, ISimd<TVec, T>
        {
            if (Stream && TVec.IsSupported)
            {
                T* scratch = stackalloc T[Reduced];
                for (int o = start; o < end; o++) StreamedRow<TVec>(Src + (long)o * Reduced, Dst + (long)o * Reduced, scratch, Reduced);
                NonTemporal.Fence();
                return;
            }
            for (int o = start; o < end; o++)
            {
                T* s = Src + (long)o * Reduced * Inner;
                T* d = Dst + (long)o * Reduced * Inner;
                if (Inner == 1) Row<TVec>(s, d, Reduced);
                else
                {
                    int i = 0;
                    if (TVec.IsSupported)
                        for (; i <= Inner - TVec.Count; i += TVec.Count) Columns<TVec>(s + i, d + i);
                    for (; i < Inner; i++) Strided(s + i, d + i);
                }
            }
        }

        readonly void Row<TVec>(T* x, T* y, int n) where TVec : struct, ISimd<TVec, T>
        {
            if (!TVec.IsSupported)
            {
                T m = T.NegativeInfinity;
                for (int j = 0; j < n; j++) m = MaxOf(m, x[j]);
                if (T.IsInfinity(m)) m = T.Zero;
                T s = T.Zero;
                for (int j = 0; j < n; j++) { T e = T.Exp(x[j] - m); if (!Log) y[j] = e; s += e; }
                if (Log) { T lse = T.Log(s); for (int j = 0; j < n; j++) y[j] = x[j] - m - lse; }
                else { T inv = T.One / s; for (int j = 0; j < n; j++) y[j] *= inv; }
                return;
            }
            T max = RowMax<TVec>(x, n);
            if (T.IsInfinity(max)) max = T.Zero; // all −inf (or +inf present): avoid inf − inf
            int full = n - n % TVec.Count;
            T sum = Log ? ExpSum<TVec>(x, full, max) : ExpStoreSum<TVec>(x, y, full, max);
            // One partial vector for the tail, so every element's exp is the vector one; only its real lanes are summed.
            if (full < n) sum += ExpTail<TVec>(x + full, y + full, n - full, max, Log);
            if (Log) ShiftBy<TVec>(x, y, n, max, T.Log(sum));
            else ScaleBy<TVec>(y, n, T.One / sum); // one division per row, a multiply per element
        }

        // Row with the output streamed: the exponentials go to scratch (softmax) and the last pass reads them from there
        // (or, for log-softmax, x) and writes y with non-temporal stores. Element for element the same operations as Row.
        readonly void StreamedRow<TVec>(T* x, T* y, T* scratch, int n) where TVec : struct, ISimd<TVec, T>
        {
            T max = RowMax<TVec>(x, n);
            if (T.IsInfinity(max)) max = T.Zero;
            int full = n - n % TVec.Count;
            T sum = Log ? ExpSum<TVec>(x, full, max) : ExpStoreSum<TVec>(x, scratch, full, max);
            if (full < n) sum += ExpTail<TVec>(x + full, scratch + full, n - full, max, Log);
            if (Log) ShiftByStreamed<TVec>(x, y, n, max, T.Log(sum));
            else ScaleByStreamed<TVec>(scratch, y, n, T.One / sum);
        }

        // y = e·scale, y written with non-temporal stores from its first register-aligned element (a multiply rounds the
        // same in a vector lane and in scalar code, so the head and tail may be scalar).
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        static void ScaleByStreamed<TVec>(T* e, T* y, int n, T scale) where TVec : struct, ISimd<TVec, T>
        {
            int head = NonTemporal.HeadToAlignment<TVec, T>(y, n);
            if (head < 0) { for (int j = 0; j < n; j++) y[j] = e[j] * scale; return; }
            var vscale = TVec.Create(scale);
            int i = 0;
            for (; i < head; i++) y[i] = e[i] * scale;
            for (; i <= n - TVec.Count; i += TVec.Count) (TVec.Load(e + i) * vscale).StoreAlignedNonTemporal(y + i);
            for (; i < n; i++) y[i] = e[i] * scale;
        }

        // y = x − max − log Σ, streamed as ScaleByStreamed (two subtractions, the same order in vector and scalar code).
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        static void ShiftByStreamed<TVec>(T* x, T* y, int n, T max, T lse) where TVec : struct, ISimd<TVec, T>
        {
            int head = NonTemporal.HeadToAlignment<TVec, T>(y, n);
            if (head < 0) { for (int j = 0; j < n; j++) y[j] = x[j] - max - lse; return; }
            TVec vmax = TVec.Create(max), vlse = TVec.Create(lse);
            int i = 0;
            for (; i < head; i++) y[i] = x[i] - max - lse;
            for (; i <= n - TVec.Count; i += TVec.Count) (TVec.Load(x + i) - vmax - vlse).StoreAlignedNonTemporal(y + i);
            for (; i < n; i++) y[i] = x[i] - max - lse;
        }

        // Each pass is its own non-inlined method with two independent accumulators: with the partial-vector tail (a
        // memcpy helper call) in the same loop, the JIT kept the accumulator and the shift in stack slots, storing and
        // reloading them on every iteration.
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        static T RowMax<TVec>(T* x, int n) where TVec : struct, ISimd<TVec, T>
        {
            T max = T.NegativeInfinity;
            int i = 0;
            if (n >= TVec.Count)
            {
                // maxps drops a NaN lane, which is harmless: a NaN input makes the sum NaN, so the row is NaN either way.
                TVec m0 = TVec.Load(x), m1 = m0;
                for (i = TVec.Count; i <= n - 2 * TVec.Count; i += 2 * TVec.Count)
                {
                    m0 = TVec.MaxNative(m0, TVec.Load(x + i));
                    m1 = TVec.MaxNative(m1, TVec.Load(x + i + TVec.Count));
                }
                if (i <= n - TVec.Count) { m0 = TVec.MaxNative(m0, TVec.Load(x + i)); i += TVec.Count; }
                m0 = TVec.MaxNative(m0, m1);
                T* lanes = stackalloc T[TVec.Count];
                m0.Store(lanes);
                for (int k = 0; k < TVec.Count; k++) max = MaxOf(max, lanes[k]);
            }
            for (; i < n; i++) max = MaxOf(max, x[i]);
            return max;
        }

        // Σ e^(x − max) over the full vectors of a row, storing each e in y.
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        static T ExpStoreSum<TVec>(T* x, T* y, int full, T max) where TVec : struct, ISimd<TVec, T>
        {
            var vmax = TVec.Create(max);
            TVec acc0 = TVec.Zero, acc1 = TVec.Zero;
            int i = 0;
            for (; i <= full - 2 * TVec.Count; i += 2 * TVec.Count)
            {
                var e0 = Exp<TVec>(TVec.Load(x + i) - vmax);
                var e1 = Exp<TVec>(TVec.Load(x + i + TVec.Count) - vmax);
                e0.Store(y + i);
                e1.Store(y + i + TVec.Count);
                acc0 += e0;
                acc1 += e1;
            }
            if (i < full)
            {
                var e = Exp<TVec>(TVec.Load(x + i) - vmax);
                e.Store(y + i);
                acc0 += e;
            }
            return TVec.Sum(acc0 + acc1);
        }

        // Σ e^(x − max) over the full vectors of a row (log-softmax keeps only the sum).
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        static T ExpSum<TVec>(T* x, int full, T max) where TVec : struct, ISimd<TVec, T>
        {
            var vmax = TVec.Create(max);
            TVec acc0 = TVec.Zero, acc1 = TVec.Zero;
            int i = 0;
            for (; i <= full - 2 * TVec.Count; i += 2 * TVec.Count)
            {
                acc0 += Exp<TVec>(TVec.Load(x + i) - vmax);
                acc1 += Exp<TVec>(TVec.Load(x + i + TVec.Count) - vmax);
            }
            if (i < full) acc0 += Exp<TVec>(TVec.Load(x + i) - vmax);
            return TVec.Sum(acc0 + acc1);
        }

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        static T ExpTail<TVec>(T* x, T* y, int count, T max, bool log) where TVec : struct, ISimd<TVec, T>
        {
            var e = Exp<TVec>(TVec.LoadPartial(x, count) - TVec.Create(max));
            if (!log) e.StorePartial(y, count);
            T sum = T.Zero;
            for (int k = 0; k < count; k++) sum += e.GetElement(k);
            return sum;
        }

        // y = x − max − log Σ (log-softmax).
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        static void ShiftBy<TVec>(T* x, T* y, int n, T max, T lse) where TVec : struct, ISimd<TVec, T>
        {
            TVec vmax = TVec.Create(max), vlse = TVec.Create(lse);
            int i = 0;
            for (; i <= n - TVec.Count; i += TVec.Count) (TVec.Load(x + i) - vmax - vlse).Store(y + i);
            for (; i < n; i++) y[i] = x[i] - max - lse;
        }

        // y *= scale.
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        static void ScaleBy<TVec>(T* y, int n, T scale) where TVec : struct, ISimd<TVec, T>
        {
            var vscale = TVec.Create(scale);
            int i = 0;
            for (; i <= n - TVec.Count; i += TVec.Count) (TVec.Load(y + i) * vscale).Store(y + i);
            for (; i < n; i++) y[i] *= scale;
        }

        // Softmax over r of TVec.Count neighbouring inner columns at once (lane j is column j).
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
        readonly void Columns<TVec>(T* s, T* d) where TVec : struct, ISimd<TVec, T>
        {
            long stride = Inner;
            var max = TVec.Create(T.NegativeInfinity);
            for (int r = 0; r < Reduced; r++) max = TVec.MaxNative(max, TVec.Load(s + r * stride));
            // all −inf or +inf in a column: use 0 as the shift there, as the scalar rule does
            var infinite = TVec.GreaterThanOrEqual(TVec.AndNot(max, TVec.Create(T.NegativeZero)), TVec.Create(T.PositiveInfinity));
            max = TVec.ConditionalSelect(infinite, TVec.Zero, max);
            var sum = TVec.Zero;
            for (int r = 0; r < Reduced; r++) sum += Exp<TVec>(TVec.Load(s + r * stride) - max);
            if (Log)
            {
                // one scalar log per column, not per element
                T* lanes = stackalloc T[TVec.Count];
                sum.Store(lanes);
                for (int k = 0; k < TVec.Count; k++) lanes[k] = T.Log(lanes[k]);
                var lse = TVec.Load(lanes);
                for (int r = 0; r < Reduced; r++) (TVec.Load(s + r * stride) - max - lse).Store(d + r * stride);
            }
            else
            {
                var inv = TVec.One / sum;
                for (int r = 0; r < Reduced; r++) (Exp<TVec>(TVec.Load(s + r * stride) - max) * inv).Store(d + r * stride);
            }
        }

        // e^x: for float the inlined single-precision polynomial (VectorErf.ExpSmallSingle, a few ulp, exact 0 below
        // −87.3), several times cheaper than Vector512.Exp(float); for double .NET's vector exp.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static TVec Exp<TVec>(TVec x) where TVec : struct, ISimd<TVec, T>
            => typeof(T) == typeof(float) ? VectorErf.ExpSmallSingle<TVec, T>(x) : TVec.Exp(x);

        static T MaxOf(T max, T v) => v > max || T.IsNaN(v) ? v : max;

        readonly void Strided(T* s, T* d)
        {
            T max = T.NegativeInfinity;
            for (int r = 0; r < Reduced; r++) max = MaxOf(max, s[(long)r * Inner]);
            if (T.IsInfinity(max)) max = T.Zero;
            T sum = T.Zero;
            for (int r = 0; r < Reduced; r++) sum += T.Exp(s[(long)r * Inner] - max);
            if (Log) { T lse = T.Log(sum); for (int r = 0; r < Reduced; r++) d[(long)r * Inner] = s[(long)r * Inner] - max - lse; }
            else for (int r = 0; r < Reduced; r++) d[(long)r * Inner] = T.Exp(s[(long)r * Inner] - max) / sum;
        }
    }

    struct SoftmaxBackwardAction<T> : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* G, Y, Dx; public int Reduced, Inner; public bool Log;
        // Softmax (not log) over the last axis with a large dx: dx = y·(g − Σ) written with non-temporal stores from each
        // row's first register-aligned element (a subtraction and a multiply round the same in vector and scalar code).
        public bool Stream;

        public readonly void Invoke(int start, int end)
        {
            switch (SimdPath.Width)
            {
                case SimdWidth.Vector512: Run<Simd512<T>>(start, end); break;
                case SimdWidth.Vector256: Run<Simd256<T>>(start, end); break;
                default: Run<Simd128<T>>(start, end); break;
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
        readonly void Run<TVec>(int start, int end) where TVec : struct, ISimd<TVec, T>
        {
            for (int o = start; o < end; o++)
            {
                long at = (long)o * Reduced * Inner;
                if (Inner == 1) Row<TVec>(G + at, Y + at, Dx + at, Reduced);
                else
                {
                    int i = 0;
                    if (TVec.IsSupported)
                        for (; i <= Inner - TVec.Count; i += TVec.Count) Columns<TVec>(G + at + i, Y + at + i, Dx + at + i);
                    for (; i < Inner; i++) Strided(G + at + i, Y + at + i, Dx + at + i);
                }
            }
            if (Stream) NonTemporal.Fence();
        }

        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
        readonly void Row<TVec>(T* g, T* y, T* dx, int n) where TVec : struct, ISimd<TVec, T>
        {
            int i = 0;
            T sum = T.Zero;
            if (TVec.IsSupported)
            {
                TVec acc0 = TVec.Zero, acc1 = TVec.Zero;
                for (; i <= n - 2 * TVec.Count; i += 2 * TVec.Count)
                {
                    var g0 = TVec.Load(g + i);
                    var g1 = TVec.Load(g + i + TVec.Count);
                    acc0 = Log ? acc0 + g0 : TVec.MultiplyAddEstimate(g0, TVec.Load(y + i), acc0);
                    acc1 = Log ? acc1 + g1 : TVec.MultiplyAddEstimate(g1, TVec.Load(y + i + TVec.Count), acc1);
                }
                sum = TVec.Sum(acc0 + acc1);
            }
            for (; i < n; i++) sum += Log ? g[i] : g[i] * y[i];

            i = 0;
            if (Stream && TVec.IsSupported && NonTemporal.HeadToAlignment<TVec, T>(dx, n) is int head and >= 0)
            {
                var vsum = TVec.Create(sum);
                for (; i < head; i++) dx[i] = y[i] * (g[i] - sum);
                for (; i <= n - TVec.Count; i += TVec.Count)
                    (TVec.Load(y + i) * (TVec.Load(g + i) - vsum)).StoreAlignedNonTemporal(dx + i);
            }
            else if (TVec.IsSupported)
            {
                var vsum = TVec.Create(sum);
                if (Log)
                    for (; i <= n - TVec.Count; i += TVec.Count)
                        (TVec.Load(g + i) - Exp<TVec>(TVec.Load(y + i)) * vsum).Store(dx + i);
                else
                    for (; i <= n - TVec.Count; i += TVec.Count)
                        (TVec.Load(y + i) * (TVec.Load(g + i) - vsum)).Store(dx + i);
            }
            for (; i < n; i++) dx[i] = Log ? g[i] - T.Exp(y[i]) * sum : y[i] * (g[i] - sum);
        }

        // TVec.Count neighbouring inner columns at once (lane j is column j).
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // see ActivationKernel.ForwardBody
        readonly void Columns<TVec>(T* g, T* y, T* dx) where TVec : struct, ISimd<TVec, T>
        {
            long stride = Inner;
            var sum = TVec.Zero;
            for (int r = 0; r < Reduced; r++)
                sum = Log ? sum + TVec.Load(g + r * stride) : TVec.MultiplyAddEstimate(TVec.Load(g + r * stride), TVec.Load(y + r * stride), sum);
            for (int r = 0; r < Reduced; r++)
            {
                var gv = TVec.Load(g + r * stride);
                var yv = TVec.Load(y + r * stride);
                (Log ? gv - Exp<TVec>(yv) * sum : yv * (gv - sum)).Store(dx + r * stride);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static TVec Exp<TVec>(TVec x) where TVec : struct, ISimd<TVec, T>
            => typeof(T) == typeof(float) ? VectorErf.ExpSmallSingle<TVec, T>(x) : TVec.Exp(x);

        readonly void Strided(T* g, T* y, T* dx)
        {
            long stride = Inner;
            T sum = T.Zero;
            for (int r = 0; r < Reduced; r++) sum += Log ? g[r * stride] : g[r * stride] * y[r * stride];
            for (int r = 0; r < Reduced; r++)
                dx[r * stride] = Log ? g[r * stride] - T.Exp(y[r * stride]) * sum : y[r * stride] * (g[r * stride] - sum);
        }
    }
}
