using Ember.Kernels.Loops;
using Ember.Kernels.Numerics;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Backends.Cpu;

/// <summary>
/// Elementwise ops on contiguous float16/bfloat16 tensors, computed in float32 a chunk at a time: each chunk is widened
/// into a stack buffer, run through the float32 kernel and rounded into the half result. The same float32 operations on
/// the same values as widening the whole tensor, computing and rounding it (so the same bits), without the two
/// whole-tensor float32 scratch tensors and their passes through memory; chunks are shared between the threads.
/// </summary>
internal sealed partial class CpuBackend
{
    // 1024 floats: two chunk buffers stay in L1 (8 KiB); a multiple of every vector width, so the float kernel's vector
    // loop covers each chunk as it covers the same elements of the whole tensor.
    const int HalfChunk = 1024;

    /// <summary>op(x) for a contiguous half x, or null where the chunked path does not apply.</summary>
    Tensor? TryHalfUnary(UnaryOp op, Tensor x)
    {
        if (!x.IsContiguous || !x.DType.IsReducedFloat()) return null;
        var y = Empty(x.DType, (int[])x.shape.Clone(), false);
        int n = x.NumEl;
        var action = new HalfChunks(Kind.Unary, op, x.DType == DType.BFloat16, HalfArray(x), x.offset, null, 0, HalfArray(y));
        ParallelRange.For(n, Elementwise.GrainFor(n), action);
        return y;
    }

    /// <summary>relu's backward (grad where output &gt; 0) for contiguous half grad and output of one shape, or null.</summary>
    Tensor? TryHalfReluBackward(Tensor grad, Tensor output)
    {
        if (!grad.IsContiguous || !output.IsContiguous || grad.DType != output.DType || !grad.DType.IsReducedFloat()
            || !grad.shape.AsSpan().SequenceEqual(output.shape)) return null;
        var dx = Empty(grad.DType, (int[])grad.shape.Clone(), false);
        int n = grad.NumEl;
        var action = new HalfChunks(Kind.ReluBackward, default, grad.DType == DType.BFloat16, HalfArray(grad), grad.offset, HalfArray(output), output.offset, HalfArray(dx));
        ParallelRange.For(n, Elementwise.GrainFor(n), action);
        return dx;
    }

    /// <summary>
    /// a + b, a − b, a · b or a / b for a contiguous half a and a b that is of a's shape and dtype, a contiguous row of
    /// a's trailing dims (a bias) or a single float32/same-dtype value (a scalar), or null where the chunked path does
    /// not apply. These four are exact IEEE operations, so each element is bit for bit the widened whole-tensor path's.
    /// </summary>
    Tensor? TryHalfBinary(BinaryOp op, Tensor a, Tensor b)
    {
        if (op is not (BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div)) return null;
        if (!a.DType.IsReducedFloat() || !a.IsContiguous || !b.IsContiguous || b.Rank > a.Rank) return null;
        float scalar = 0;
        int row = 0;
        if (b.NumEl == 1)
        {
            if (b.DType == DType.Float32) scalar = b.storage.As<float>()[b.offset];
            else if (b.DType == a.DType) scalar = b.DType == DType.BFloat16 ? (float)b.storage.As<BFloat16>()[b.offset] : (float)b.storage.As<Half>()[b.offset];
            else return null;
        }
        else
        {
            // b's dims must be a's last ones (leading ones of b aside): b then repeats every b.NumEl elements of a
            if (b.DType != a.DType) return null;
            int lead = a.Rank - b.Rank;
            for (int d = 0; d < b.Rank; d++)
                if (b.shape[d] != a.shape[lead + d] && !(b.shape[d] == 1 && IsLeadingOne(b, d))) return null;
            row = b.NumEl;
        }
        var y = Empty(a.DType, (int[])a.shape.Clone(), false);
        int n = a.NumEl;
        if (n == 0) return y;
        var action = new HalfChunks(Kind.Binary, default, a.DType == DType.BFloat16, HalfArray(a), a.offset,
            row > 0 ? HalfArray(b) : null, b.offset, HalfArray(y), op, row, scalar);
        ParallelRange.For(n, Elementwise.GrainFor(n), action);
        return y;
    }

    static bool IsLeadingOne(Tensor b, int d)
    {
        for (int i = 0; i <= d; i++) if (b.shape[i] != 1) return false;
        return true;
    }

    // Through As<T>, which tells the storage pool the buffer is in use.
    static Array HalfArray(Tensor t) => t.DType == DType.BFloat16 ? t.storage.As<BFloat16>() : t.storage.As<Half>();

    enum Kind : byte { Unary, ReluBackward, Binary }

    // Binary: b is null for a scalar, else a row of bRow elements that a repeats (bRow = a's size for same shapes).
    readonly struct HalfChunks(Kind kind, UnaryOp op, bool bfloat, Array a, int aOffset, Array? b, int bOffset, Array dst,
        BinaryOp binary = default, int bRow = 0, float scalar = 0) : IRangeAction
    {
        public void Invoke(int start, int end)
        {
            Span<float> x = stackalloc float[HalfChunk];
            Span<float> y = stackalloc float[HalfChunk];
            for (int i = start; i < end; i += HalfChunk)
            {
                int len = Math.Min(HalfChunk, end - i);
                var xs = x[..len]; var ys = y[..len];
                Widen(a, aOffset + i, xs);
                if (kind == Kind.Unary)
                    Contiguous.Unary(op, xs, ys);
                else if (kind == Kind.Binary)
                {
                    if (b is null) Contiguous.BinaryScalarRight(binary, xs, scalar, ys);
                    else
                    {
                        // b's values for positions i..i+len, wrapping at each row end, then op in place into them
                        for (int filled = 0, p = i % bRow; filled < len; p = 0)
                        {
                            int run = Math.Min(len - filled, bRow - p);
                            Widen(b, bOffset + p, ys.Slice(filled, run));
                            filled += run;
                        }
                        Contiguous.Binary(binary, xs, ys, ys);
                    }
                }
                else
                {
                    Widen(b!, bOffset + i, ys);
                    ActivationGradients.ReluBackward<float>(xs, ys, xs);
                    ys = xs;
                }
                Round(ys, dst, i);
            }
        }

        void Widen(Array src, int offset, Span<float> to)
        {
            if (bfloat) BFloat16Conversion.ToSingle(((BFloat16[])src).AsSpan(offset, to.Length), to);
            else Float16Conversion.ToSingle(((Half[])src).AsSpan(offset, to.Length), to);
        }

        void Round(ReadOnlySpan<float> from, Array to, int offset)
        {
            if (bfloat) BFloat16Conversion.FromSingle(from, ((BFloat16[])to).AsSpan(offset, from.Length));
            else Float16Conversion.FromSingle(from, ((Half[])to).AsSpan(offset, from.Length));
        }
    }
}
