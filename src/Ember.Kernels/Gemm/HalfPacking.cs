using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Numerics;

namespace Ember.Kernels.Gemm;

/// <summary>
/// <see cref="GemmPacking"/> for operands stored as float16 or bfloat16: the same float32 panels (MR-row A panels and
/// NR-column B panels, k-major, zero-padded), widened from the half values as they are copied. Widening is exact, so the
/// panels, and every GEMM result, are bit for bit those of converting the operand to float32 first and packing that,
/// without the extra pass over the operand and its float32 copy.
/// </summary>
internal static unsafe class HalfPacking
{
    // Depth of one transposing step: count ≤ 32 rows of this many values are widened into a stack buffer (8 KiB, in L1)
    // and then transposed into the panel by the float pack.
    const int Chunk = 64;

    /// <summary>Packs rows [i0, i0+mb) and depth [p0, p0+kb) of op(A), stored as <paramref name="source"/>, into MR-row float panels.</summary>
    public static void PackA(ushort* a, PanelSource source, nint lda, bool transA, int i0, int mb, int p0, int kb, float* dst, int mr)
    {
        for (int ir = 0; ir < mb; ir += mr, dst += (nint)mr * kb)
        {
            int rows = Math.Min(mr, mb - ir);
            if (transA)
                CopyLines(source, a + (nint)p0 * lda + i0 + ir, lda, rows, mr, kb, dst);
            else
                Interleave(source, a + (nint)(i0 + ir) * lda + p0, lda, rows, mr, kb, dst);
        }
    }

    /// <summary>Packs depth [p0, p0+kb) and columns [j0, j0+nb) of op(B), stored as <paramref name="source"/>, into NR-column float panels.</summary>
    public static void PackB(ushort* b, PanelSource source, nint ldb, bool transB, int p0, int kb, int j0, int nb, float* dst, int nr)
    {
        for (int jr = 0; jr < nb; jr += nr, dst += (nint)nr * kb)
        {
            int cols = Math.Min(nr, nb - jr);
            if (transB)
                Interleave(source, b + (nint)(j0 + jr) * ldb + p0, ldb, cols, nr, kb, dst);
            else
                CopyLines(source, b + (nint)p0 * ldb + j0 + jr, ldb, cols, nr, kb, dst);
        }
    }

    /// <summary>dst[p·width + j] = widen(src[p·ld + j]) for j &lt; count, zero up to width.</summary>
    static void CopyLines(PanelSource source, ushort* src, nint ld, int count, int width, int kb, float* dst)
    {
        for (int p = 0; p < kb; p++, src += ld, dst += width)
        {
            Widen(source, src, dst, count);
            for (int j = count; j < width; j++) dst[j] = 0f;
        }
    }

    /// <summary>dst[p·width + j] = widen(src[j·ld + p]) for j &lt; count, zero up to width: rows widened a chunk of depth at a time, then transposed.</summary>
    static void Interleave(PanelSource source, ushort* src, nint ld, int count, int width, int kb, float* dst)
    {
        if (width > 32) throw new InvalidOperationException($"gemm: half packing supports panels up to 32 wide, got {width}");
        float* buffer = stackalloc float[32 * Chunk];
        for (int p = 0; p < kb; p += Chunk)
        {
            int depth = Math.Min(Chunk, kb - p);
            for (int j = 0; j < count; j++) Widen(source, src + j * ld + p, buffer + j * Chunk, depth);
            float* d = dst + (nint)p * width;
            if (PackTranspose.Supported)
            {
                PackTranspose.Float(buffer, Chunk, count, width, depth, d);
                continue;
            }
            for (int q = 0; q < depth; q++, d += width)
            {
                int j = 0;
                for (; j < count; j++) d[j] = buffer[j * Chunk + q];
                for (; j < width; j++) d[j] = 0f;
            }
        }
    }

    // The lines widened here are short (one MR/NR-wide panel row, or a 64-deep chunk), so they are widened inline rather
    // than through the span conversions, whose per-call argument checks and width dispatch (and, for float16,
    // TensorPrimitives' generic type tests and tuple returns) cost as much as the widening of 32 values. perf, one
    // thread, steady state: the float16 panel widening fell from ~10% to ~6% of a transformer training step;
    // bfloat16's was already inlined by the tier-1 JIT and stays at ~5%.
    /// <summary>dst[j] = (float)src[j] for j &lt; count, the values stored as <paramref name="source"/>; exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Widen(PanelSource source, ushort* src, float* dst, int count)
    {
        if (source == PanelSource.BFloat16) WidenBFloat16(src, (uint*)dst, count);
        else WidenHalf(src, (uint*)dst, count);
    }

    // bfloat16 → float32: the 16 bits become the top half.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void WidenBFloat16(ushort* src, uint* dst, int count)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 16 <= count; j += 16)
                Vector512.ShiftLeft(Vector512.WidenLower(Vector256.Load(src + j).ToVector512Unsafe()), 16).Store(dst + j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + 8 <= count; j += 8)
                Vector256.ShiftLeft(Vector256.WidenLower(Vector128.Load(src + j).ToVector256Unsafe()), 16).Store(dst + j);
        if (Vector128.IsHardwareAccelerated)
            for (; j + 8 <= count; j += 8)
            {
                var (lo, hi) = Vector128.Widen(Vector128.Load(src + j));
                Vector128.ShiftLeft(lo, 16).Store(dst + j);
                Vector128.ShiftLeft(hi, 16).Store(dst + j + 4);
            }
        for (; j < count; j++) dst[j] = (uint)src[j] << 16;
    }

    // float16 → float32 with Float16Conversion's exact vector widening.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void WidenHalf(ushort* src, uint* dst, int count)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 16 <= count; j += 16)
                Float16Conversion.Widen(Vector512.WidenLower(Vector256.Load(src + j).ToVector512Unsafe())).Store(dst + j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + 8 <= count; j += 8)
                Float16Conversion.Widen(Vector256.WidenLower(Vector128.Load(src + j).ToVector256Unsafe())).Store(dst + j);
        if (Vector128.IsHardwareAccelerated)
            for (; j + 8 <= count; j += 8)
            {
                var (lo, hi) = Vector128.Widen(Vector128.Load(src + j));
                Float16Conversion.Widen(lo).Store(dst + j);
                Float16Conversion.Widen(hi).Store(dst + j + 4);
            }
        for (; j < count; j++) dst[j] = BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf(src[j]));
    }
}
