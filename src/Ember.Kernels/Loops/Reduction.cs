using System.Numerics;
using System.Numerics.Tensors;
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
        fixed (T* ps = src) fixed (T* pd = dst)
        {
            var action = new ReduceAction<T> { Op = op, Src = ps, Dst = pd, Reduced = reduced, Inner = inner };
            long work = (long)outer * reduced * inner;
            int grain = work < Elementwise.ParallelThreshold ? outer : Math.Max(1, (int)(Elementwise.ParallelThreshold / Math.Max(1L, (long)reduced * inner)));
            ParallelRange.For(outer, grain, action);
        }
    }

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
            var action = new SoftmaxAction<T> { Src = ps, Dst = pd, Reduced = reduced, Inner = inner, Log = log };
            long work = (long)outer * reduced * inner;
            int grain = work < Elementwise.ParallelThreshold ? outer : Math.Max(1, (int)(Elementwise.ParallelThreshold / Math.Max(1L, (long)reduced * inner)));
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
        public ReduceOp Op; public T* Src; public T* Dst; public int Reduced, Inner;
        public readonly void Invoke(int start, int end)
        {
            for (int o = start; o < end; o++)
            {
                T* s = Src + (long)o * Reduced * Inner;
                var d = new Span<T>(Dst + (long)o * Inner, Inner);
                if (Inner == 1) d[0] = ReduceRow(new ReadOnlySpan<T>(s, Reduced));
                else
                {
                    new ReadOnlySpan<T>(s, Inner).CopyTo(d);
                    for (int r = 1; r < Reduced; r++)
                        Combine(d, new ReadOnlySpan<T>(s + (long)r * Inner, Inner));
                }
            }
        }

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

    struct SoftmaxAction<T> : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Src; public T* Dst; public int Reduced, Inner; public bool Log;
        public readonly void Invoke(int start, int end)
        {
            for (int o = start; o < end; o++)
            {
                T* s = Src + (long)o * Reduced * Inner;
                T* d = Dst + (long)o * Reduced * Inner;
                if (Inner == 1) Row(new ReadOnlySpan<T>(s, Reduced), new Span<T>(d, Reduced));
                else
                    for (int i = 0; i < Inner; i++) Strided(s + i, d + i);
            }
        }

        readonly void Row(ReadOnlySpan<T> x, Span<T> y)
        {
            T max = TensorPrimitives.Max(x);
            if (T.IsInfinity(max)) max = T.Zero; // all −inf (or +inf present): avoid inf − inf
            TensorPrimitives.Subtract(x, max, y);
            if (Log)
            {
                // y = x − max − log Σ exp(x − max); the exp goes through a scratch-free second pass
                T sum = T.Zero;
                for (int i = 0; i < y.Length; i++) sum += T.Exp(y[i]);
                TensorPrimitives.Subtract(y, T.Log(sum), y);
            }
            else
            {
                TensorPrimitives.Exp(y, y);
                TensorPrimitives.Divide(y, TensorPrimitives.Sum(y), y);
            }
        }

        readonly void Strided(T* s, T* d)
        {
            T max = T.NegativeInfinity;
            for (int r = 0; r < Reduced; r++) { T v = s[(long)r * Inner]; if (v > max || T.IsNaN(v)) max = v; }
            if (T.IsInfinity(max)) max = T.Zero;
            T sum = T.Zero;
            for (int r = 0; r < Reduced; r++) sum += T.Exp(s[(long)r * Inner] - max);
            if (Log) { T lse = T.Log(sum); for (int r = 0; r < Reduced; r++) d[(long)r * Inner] = s[(long)r * Inner] - max - lse; }
            else for (int r = 0; r < Reduced; r++) d[(long)r * Inner] = T.Exp(s[(long)r * Inner] - max) / sum;
        }
    }
}
