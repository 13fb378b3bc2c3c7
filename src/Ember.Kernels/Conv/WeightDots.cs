using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Gemm;
using static Ember.Kernels.Operators.VectorMath;

namespace Ember.Kernels.Conv;

/// <summary>
/// Blocks of vector dot products for weight gradients, where both factors run along the same contiguous positions:
/// target[i·k + j] += Σ_{q &lt; length} a[i·lda + q] · b[offsets[j] + q] for rows i &lt; m of a and columns j &lt; k. Each
/// block keeps its dot products in vector accumulators over the positions and adds their lane sums to target once at its
/// end. The blocks fit each path's register file: 8×3 and 4×4 with 32 ZMM registers (AVX-512), 4×3 with 16 YMM or XMM
/// registers (AVX2, Vector128); single dots take the remainders. Used by the shifted-GEMM convolution (a row of a is an
/// output-gradient plane on its grid, b a padded image read at each tap's offset) and by the 1×1 convolution's weight
/// gradient (<see cref="PointwiseWeightGradient"/>).
/// </summary>
internal static unsafe class WeightDots<T> where T : unmanaged, INumber<T>
{
    /// <summary>
    /// target[i·k + j] += Σ_{q &lt; length} a[i·lda + q] · b[offsets[j] + q] on the <paramref name="isa"/>'s vectors;
    /// <paramref name="length"/> is a multiple of their lanes.
    /// </summary>
    public static void Accumulate(GemmIsa isa, T* a, int lda, int m, T* b, int* offsets, int k, int length, T* target)
    {
        if (isa == GemmIsa.Vector512) Accumulate512(a, lda, m, b, offsets, k, length, target);
        else if (isa == GemmIsa.Vector256) Accumulate256(a, lda, m, b, offsets, k, length, target);
        else Accumulate128(a, lda, m, b, offsets, k, length, target);
    }

    // The 512-bit blocks: 8×3, then 4×4 for a remainder of rows, single dots for the rest.
    static void Accumulate512(T* rows, int lda, int m, T* b, int* offsets, int k, int length, T* target)
    {
        int co = 0;
        for (; co + 8 <= m; co += 8)
        {
            T* a = rows + (long)co * lda;
            int kk = 0;
            for (; kk + 3 <= k; kk += 3)
                Block8x3(a, lda, b + offsets[kk], b + offsets[kk + 1], b + offsets[kk + 2], length, target + (long)co * k + kk, k);
            for (; kk < k; kk++)
                for (int i = 0; i < 8; i++)
                    target[(long)(co + i) * k + kk] += Dot(a + (long)i * lda, b + offsets[kk], length);
        }
        for (; co + 4 <= m; co += 4)
        {
            T* a = rows + (long)co * lda;
            int kk = 0;
            for (; kk + 4 <= k; kk += 4)
                Block4x4(a, lda, b + offsets[kk], b + offsets[kk + 1], b + offsets[kk + 2], b + offsets[kk + 3],
                    length, target + (long)co * k + kk, k);
            for (; kk < k; kk++)
                for (int i = 0; i < 4; i++)
                    target[(long)(co + i) * k + kk] += Dot(a + (long)i * lda, b + offsets[kk], length);
        }
        for (; co < m; co++)
            for (int kk = 0; kk < k; kk++)
                target[(long)co * k + kk] += Dot(rows + (long)co * lda, b + offsets[kk], length);
    }

    // 256-bit vectors: 4×3 blocks (12 accumulators, 3 image vectors and one gradient vector: the 16 YMM registers),
    // single dots for the remainders.
    static void Accumulate256(T* rows, int lda, int m, T* b, int* offsets, int k, int length, T* target)
    {
        int co = 0;
        for (; co + 4 <= m; co += 4)
        {
            T* a = rows + (long)co * lda;
            int kk = 0;
            for (; kk + 3 <= k; kk += 3)
                Block4x3(a, lda, b + offsets[kk], b + offsets[kk + 1], b + offsets[kk + 2], length, target + (long)co * k + kk, k);
            for (; kk < k; kk++)
                for (int i = 0; i < 4; i++)
                    target[(long)(co + i) * k + kk] += Dot256(a + (long)i * lda, b + offsets[kk], length);
        }
        for (; co < m; co++)
            for (int kk = 0; kk < k; kk++)
                target[(long)co * k + kk] += Dot256(rows + (long)co * lda, b + offsets[kk], length);
    }

    // As Accumulate256 with 128-bit vectors (SSE, NEON).
    static void Accumulate128(T* rows, int lda, int m, T* b, int* offsets, int k, int length, T* target)
    {
        int co = 0;
        for (; co + 4 <= m; co += 4)
        {
            T* a = rows + (long)co * lda;
            int kk = 0;
            for (; kk + 3 <= k; kk += 3)
                Block4x3Narrow(a, lda, b + offsets[kk], b + offsets[kk + 1], b + offsets[kk + 2], length, target + (long)co * k + kk, k);
            for (; kk < k; kk++)
                for (int i = 0; i < 4; i++)
                    target[(long)(co + i) * k + kk] += Dot128(a + (long)i * lda, b + offsets[kk], length);
        }
        for (; co < m; co++)
            for (int kk = 0; kk < k; kk++)
                target[(long)co * k + kk] += Dot128(rows + (long)co * lda, b + offsets[kk], length);
    }

    static T Dot256(T* a, T* b, int length)
    {
        Vector256<T> acc = Vector256<T>.Zero;
        for (int q = 0; q < length; q += Vector256<T>.Count)
            acc = MultiplyAdd(Vector256.Load(a + q), Vector256.Load(b + q), acc);
        return Vector256.Sum(acc);
    }

    static T Dot128(T* a, T* b, int length)
    {
        Vector128<T> acc = Vector128<T>.Zero;
        for (int q = 0; q < length; q += Vector128<T>.Count)
            acc = MultiplyAdd(Vector128.Load(a + q), Vector128.Load(b + q), acc);
        return Vector128.Sum(acc);
    }

    // Twelve dot products of rows a..a+3 (stride lda) with b0..b2, 256-bit: per step 4 aligned loads of the output
    // gradient and 3 unaligned ones of the shifted image feed 12 multiply-adds.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block4x3(T* a, int lda, T* b0, T* b1, T* b2, int length, T* c, int ldc)
    {
        Vector256<T> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector256<T> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        T* a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int q = 0; q < length; q += Vector256<T>.Count)
        {
            Vector256<T> v0 = Vector256.Load(b0 + q), v1 = Vector256.Load(b1 + q), v2 = Vector256.Load(b2 + q);
            Vector256<T> u = Vector256.Load(a + q);
            c00 = MultiplyAdd(u, v0, c00); c01 = MultiplyAdd(u, v1, c01); c02 = MultiplyAdd(u, v2, c02);
            u = Vector256.Load(a1 + q);
            c10 = MultiplyAdd(u, v0, c10); c11 = MultiplyAdd(u, v1, c11); c12 = MultiplyAdd(u, v2, c12);
            u = Vector256.Load(a2 + q);
            c20 = MultiplyAdd(u, v0, c20); c21 = MultiplyAdd(u, v1, c21); c22 = MultiplyAdd(u, v2, c22);
            u = Vector256.Load(a3 + q);
            c30 = MultiplyAdd(u, v0, c30); c31 = MultiplyAdd(u, v1, c31); c32 = MultiplyAdd(u, v2, c32);
        }
        c[0] += Vector256.Sum(c00); c[1] += Vector256.Sum(c01); c[2] += Vector256.Sum(c02);
        c += ldc;
        c[0] += Vector256.Sum(c10); c[1] += Vector256.Sum(c11); c[2] += Vector256.Sum(c12);
        c += ldc;
        c[0] += Vector256.Sum(c20); c[1] += Vector256.Sum(c21); c[2] += Vector256.Sum(c22);
        c += ldc;
        c[0] += Vector256.Sum(c30); c[1] += Vector256.Sum(c31); c[2] += Vector256.Sum(c32);
    }

    // Block4x3 with 128-bit vectors.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block4x3Narrow(T* a, int lda, T* b0, T* b1, T* b2, int length, T* c, int ldc)
    {
        Vector128<T> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector128<T> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        T* a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int q = 0; q < length; q += Vector128<T>.Count)
        {
            Vector128<T> v0 = Vector128.Load(b0 + q), v1 = Vector128.Load(b1 + q), v2 = Vector128.Load(b2 + q);
            Vector128<T> u = Vector128.Load(a + q);
            c00 = MultiplyAdd(u, v0, c00); c01 = MultiplyAdd(u, v1, c01); c02 = MultiplyAdd(u, v2, c02);
            u = Vector128.Load(a1 + q);
            c10 = MultiplyAdd(u, v0, c10); c11 = MultiplyAdd(u, v1, c11); c12 = MultiplyAdd(u, v2, c12);
            u = Vector128.Load(a2 + q);
            c20 = MultiplyAdd(u, v0, c20); c21 = MultiplyAdd(u, v1, c21); c22 = MultiplyAdd(u, v2, c22);
            u = Vector128.Load(a3 + q);
            c30 = MultiplyAdd(u, v0, c30); c31 = MultiplyAdd(u, v1, c31); c32 = MultiplyAdd(u, v2, c32);
        }
        c[0] += Vector128.Sum(c00); c[1] += Vector128.Sum(c01); c[2] += Vector128.Sum(c02);
        c += ldc;
        c[0] += Vector128.Sum(c10); c[1] += Vector128.Sum(c11); c[2] += Vector128.Sum(c12);
        c += ldc;
        c[0] += Vector128.Sum(c20); c[1] += Vector128.Sum(c21); c[2] += Vector128.Sum(c22);
        c += ldc;
        c[0] += Vector128.Sum(c30); c[1] += Vector128.Sum(c31); c[2] += Vector128.Sum(c32);
    }

    static T Dot(T* a, T* b, int length)
    {
        Vector512<T> acc = Vector512<T>.Zero;
        for (int q = 0; q < length; q += Vector512<T>.Count)
            acc = FusedMultiplyAdd(Vector512.Load(a + q), Vector512.Load(b + q), acc);
        return Vector512.Sum(acc);
    }

    // Twenty-four dot products of rows a..a+7 (stride lda) with b0..b2: 24 accumulators, 3 row vectors and one of a in
    // registers. Per step 8 aligned loads of the output gradient and 3 unaligned ones of the shifted image feed 24
    // multiply-adds (the 4×4 block: 4 + 4 for 16).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block8x3(T* a, int lda, T* b0, T* b1, T* b2, int length, T* c, int ldc)
    {
        Vector512<T> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        Vector512<T> c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default;
        Vector512<T> c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        for (int q = 0; q < length; q += Vector512<T>.Count)
        {
            Vector512<T> v0 = Vector512.Load(b0 + q), v1 = Vector512.Load(b1 + q), v2 = Vector512.Load(b2 + q);
            Vector512<T> u = Vector512.Load(a + q);
            c00 = FusedMultiplyAdd(u, v0, c00); c01 = FusedMultiplyAdd(u, v1, c01); c02 = FusedMultiplyAdd(u, v2, c02);
            u = Vector512.Load(a + lda + q);
            c10 = FusedMultiplyAdd(u, v0, c10); c11 = FusedMultiplyAdd(u, v1, c11); c12 = FusedMultiplyAdd(u, v2, c12);
            u = Vector512.Load(a + 2 * lda + q);
            c20 = FusedMultiplyAdd(u, v0, c20); c21 = FusedMultiplyAdd(u, v1, c21); c22 = FusedMultiplyAdd(u, v2, c22);
            u = Vector512.Load(a + 3 * lda + q);
            c30 = FusedMultiplyAdd(u, v0, c30); c31 = FusedMultiplyAdd(u, v1, c31); c32 = FusedMultiplyAdd(u, v2, c32);
            u = Vector512.Load(a + 4 * lda + q);
            c40 = FusedMultiplyAdd(u, v0, c40); c41 = FusedMultiplyAdd(u, v1, c41); c42 = FusedMultiplyAdd(u, v2, c42);
            u = Vector512.Load(a + 5 * lda + q);
            c50 = FusedMultiplyAdd(u, v0, c50); c51 = FusedMultiplyAdd(u, v1, c51); c52 = FusedMultiplyAdd(u, v2, c52);
            u = Vector512.Load(a + 6 * lda + q);
            c60 = FusedMultiplyAdd(u, v0, c60); c61 = FusedMultiplyAdd(u, v1, c61); c62 = FusedMultiplyAdd(u, v2, c62);
            u = Vector512.Load(a + 7 * lda + q);
            c70 = FusedMultiplyAdd(u, v0, c70); c71 = FusedMultiplyAdd(u, v1, c71); c72 = FusedMultiplyAdd(u, v2, c72);
        }
        Add3(c, c00, c01, c02); c += ldc;
        Add3(c, c10, c11, c12); c += ldc;
        Add3(c, c20, c21, c22); c += ldc;
        Add3(c, c30, c31, c32); c += ldc;
        Add3(c, c40, c41, c42); c += ldc;
        Add3(c, c50, c51, c52); c += ldc;
        Add3(c, c60, c61, c62); c += ldc;
        Add3(c, c70, c71, c72);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Add3(T* c, Vector512<T> x0, Vector512<T> x1, Vector512<T> x2)
    {
        c[0] += Vector512.Sum(x0);
        c[1] += Vector512.Sum(x1);
        c[2] += Vector512.Sum(x2);
    }

    // Sixteen dot products of rows a..a+3 (stride lda) with b0..b3; the 16 accumulators and 8 row vectors fit the register file.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block4x4(T* a, int lda, T* b0, T* b1, T* b2, T* b3, int length, T* c, int ldc)
    {
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<T> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<T> c30 = default, c31 = default, c32 = default, c33 = default;
        T* a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int q = 0; q < length; q += Vector512<T>.Count)
        {
            Vector512<T> v0 = Vector512.Load(b0 + q), v1 = Vector512.Load(b1 + q), v2 = Vector512.Load(b2 + q), v3 = Vector512.Load(b3 + q);
            Vector512<T> u = Vector512.Load(a + q);
            c00 = FusedMultiplyAdd(u, v0, c00); c01 = FusedMultiplyAdd(u, v1, c01); c02 = FusedMultiplyAdd(u, v2, c02); c03 = FusedMultiplyAdd(u, v3, c03);
            u = Vector512.Load(a1 + q);
            c10 = FusedMultiplyAdd(u, v0, c10); c11 = FusedMultiplyAdd(u, v1, c11); c12 = FusedMultiplyAdd(u, v2, c12); c13 = FusedMultiplyAdd(u, v3, c13);
            u = Vector512.Load(a2 + q);
            c20 = FusedMultiplyAdd(u, v0, c20); c21 = FusedMultiplyAdd(u, v1, c21); c22 = FusedMultiplyAdd(u, v2, c22); c23 = FusedMultiplyAdd(u, v3, c23);
            u = Vector512.Load(a3 + q);
            c30 = FusedMultiplyAdd(u, v0, c30); c31 = FusedMultiplyAdd(u, v1, c31); c32 = FusedMultiplyAdd(u, v2, c32); c33 = FusedMultiplyAdd(u, v3, c33);
        }
        c[0] += Vector512.Sum(c00); c[1] += Vector512.Sum(c01); c[2] += Vector512.Sum(c02); c[3] += Vector512.Sum(c03);
        c += ldc;
        c[0] += Vector512.Sum(c10); c[1] += Vector512.Sum(c11); c[2] += Vector512.Sum(c12); c[3] += Vector512.Sum(c13);
        c += ldc;
        c[0] += Vector512.Sum(c20); c[1] += Vector512.Sum(c21); c[2] += Vector512.Sum(c22); c[3] += Vector512.Sum(c23);
        c += ldc;
        c[0] += Vector512.Sum(c30); c[1] += Vector512.Sum(c31); c[2] += Vector512.Sum(c32); c[3] += Vector512.Sum(c33);
    }
}
