using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Gemm;

/// <summary>
/// 4×(2·Vector256&lt;T&gt;.Count) micro-kernel, AVX2: the rows of a product past the last whole 6-row tile of
/// <see cref="MicroKernel256{T}"/> where A is read in place (M mod 6 = 4: one tile, 2: two; GemmDriver.ShortTailRows),
/// so that they need no packed, zero-padded 6-row tile and no store through the scratch tile. The same multiply-add chain
/// per C element as the 6-row kernel, so the same bits.
/// </summary>
internal readonly unsafe struct MicroKernel256Rows4<T> : IMicroKernel<T> where T : unmanaged, INumber<T>
{
    public static int MR => 4;

    public static int NR => 2 * Vector256<T>.Count;

    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta) => Tile(kc, a, 1, MR, b, NR, c, ldc, alpha, beta);

    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        Tile(kc, a, 1, aStride, b, bStride, c, ldc, alpha, beta);

    public static bool ReadsRowsOfA => true;

    public static void RunRowsOfA(nint kc, T* a, nint lda, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        Tile(kc, a, lda, 1, b, bStride, c, ldc, alpha, beta);

    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        MicroKernel256<T>.RunIndexedShort(kc, a, b, offsets, c, ldc, alpha, beta);

    // Row r's value of step p at a[r·rowStride + p·stepStride]: a panel or a transposed A (1, stride), rows of A (lda, 1).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void Tile(nint kc, T* a, nint rowStride, nint stepStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta)
    {
        TilePrefetch.Rows(c, ldc, 4, 2 * Vector256<T>.Count * sizeof(T));
        T* r0 = a, r1 = r0 + rowStride, r2 = r1 + rowStride, r3 = r2 + rowStride;
        Vector256<T>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default;
        Vector256<T> a0, a1;
        for (nint p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(b);
            Vector256<T> b1 = Vector256.Load(b + Vector256<T>.Count);
            a0 = Vector256.Create(*r0);
            c00 = VectorMath.MultiplyAdd(a0, b0, c00);
            c01 = VectorMath.MultiplyAdd(a0, b1, c01);
            a1 = Vector256.Create(*r1);
            c10 = VectorMath.MultiplyAdd(a1, b0, c10);
            c11 = VectorMath.MultiplyAdd(a1, b1, c11);
            a0 = Vector256.Create(*r2);
            c20 = VectorMath.MultiplyAdd(a0, b0, c20);
            c21 = VectorMath.MultiplyAdd(a0, b1, c21);
            a1 = Vector256.Create(*r3);
            c30 = VectorMath.MultiplyAdd(a1, b0, c30);
            c31 = VectorMath.MultiplyAdd(a1, b1, c31);
            r0 += stepStride;
            r1 += stepStride;
            r2 += stepStride;
            r3 += stepStride;
            b += bStride;
        }

        // alpha·acc (+ beta·C) as the 6-row kernel stores, so the same bits.
        Vector256<T> va = Vector256.Create(alpha);
        if (beta == T.Zero)
        {
            MicroKernel256<T>.StoreRow(c, c00, c01, va);
            MicroKernel256<T>.StoreRow(c + ldc, c10, c11, va);
            MicroKernel256<T>.StoreRow(c + 2 * ldc, c20, c21, va);
            MicroKernel256<T>.StoreRow(c + 3 * ldc, c30, c31, va);
            return;
        }
        Vector256<T> vb = Vector256.Create(beta);
        MicroKernel256<T>.StoreRow(c, c00, c01, va, vb);
        MicroKernel256<T>.StoreRow(c + ldc, c10, c11, va, vb);
        MicroKernel256<T>.StoreRow(c + 2 * ldc, c20, c21, va, vb);
        MicroKernel256<T>.StoreRow(c + 3 * ldc, c30, c31, va, vb);
    }
}
