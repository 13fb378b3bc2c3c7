using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Gemm;

/// <summary>
/// 6×(2·Vector256&lt;T&gt;.Count) micro-kernel: 12 accumulators plus two B vectors and a broadcast fit the register file.
/// The accumulators are plain locals stored straight to C, so the JIT keeps them in registers (copying them into a
/// stack array after the loop made it spill all of them on every iteration).
/// The rows are spelled out because only named locals stay in registers; arrays or spans of vectors spill.
/// </summary>
internal readonly unsafe struct MicroKernel256<T> : IMicroKernel<T> where T : unmanaged, INumber<T>
{
    public static int MR => 6;

    public static int NR => 2 * Vector256<T>.Count;

    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta) => RunStrided(kc, a, MR, b, NR, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta)
    {
        TilePrefetch.Rows(c, ldc, 6, 2 * Vector256<T>.Count * sizeof(T));
        Vector256<T>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default,
            c40 = default, c41 = default,
            c50 = default, c51 = default;
        Vector256<T> a0, a1;
        for (nint p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(b);
            Vector256<T> b1 = Vector256.Load(b + Vector256<T>.Count);
            a0 = Vector256.Create(a[0]);
            c00 = VectorMath.MultiplyAdd(a0, b0, c00);
            c01 = VectorMath.MultiplyAdd(a0, b1, c01);
            a1 = Vector256.Create(a[1]);
            c10 = VectorMath.MultiplyAdd(a1, b0, c10);
            c11 = VectorMath.MultiplyAdd(a1, b1, c11);
            a0 = Vector256.Create(a[2]);
            c20 = VectorMath.MultiplyAdd(a0, b0, c20);
            c21 = VectorMath.MultiplyAdd(a0, b1, c21);
            a1 = Vector256.Create(a[3]);
            c30 = VectorMath.MultiplyAdd(a1, b0, c30);
            c31 = VectorMath.MultiplyAdd(a1, b1, c31);
            a0 = Vector256.Create(a[4]);
            c40 = VectorMath.MultiplyAdd(a0, b0, c40);
            c41 = VectorMath.MultiplyAdd(a0, b1, c41);
            a1 = Vector256.Create(a[5]);
            c50 = VectorMath.MultiplyAdd(a1, b0, c50);
            c51 = VectorMath.MultiplyAdd(a1, b1, c51);
            a += aStride;
            b += bStride;
        }

        Vector256<T> va = Vector256.Create(alpha);
        if (beta == T.Zero)
        {
            StoreRow(c + 0 * ldc, c00, c01, va);
            StoreRow(c + 1 * ldc, c10, c11, va);
            StoreRow(c + 2 * ldc, c20, c21, va);
            StoreRow(c + 3 * ldc, c30, c31, va);
            StoreRow(c + 4 * ldc, c40, c41, va);
            StoreRow(c + 5 * ldc, c50, c51, va);
        }
        else
        {
            Vector256<T> vb = Vector256.Create(beta);
            StoreRow(c + 0 * ldc, c00, c01, va, vb);
            StoreRow(c + 1 * ldc, c10, c11, va, vb);
            StoreRow(c + 2 * ldc, c20, c21, va, vb);
            StoreRow(c + 3 * ldc, c30, c31, va, vb);
            StoreRow(c + 4 * ldc, c40, c41, va, vb);
            StoreRow(c + 5 * ldc, c50, c51, va, vb);
        }
    }

    public static bool ReadsRowsOfA => true;

    /// <summary>
    /// <see cref="RunStrided"/> with the six rows of A read where they lie, lda apart: six broadcasts from six row
    /// pointers at one index, so no transposing pack of A (about 2 cycles per element, a fifth of the product at
    /// N = 128).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunRowsOfA(nint kc, T* a, nint lda, T* b, nint bStride, T* c, nint ldc, T alpha, T beta)
    {
        TilePrefetch.Rows(c, ldc, 6, 2 * Vector256<T>.Count * sizeof(T));
        T* r0 = a, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda;
        Vector256<T>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default,
            c40 = default, c41 = default,
            c50 = default, c51 = default;
        Vector256<T> a0, a1;
        for (nint p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(b);
            Vector256<T> b1 = Vector256.Load(b + Vector256<T>.Count);
            a0 = Vector256.Create(r0[p]);
            c00 = VectorMath.MultiplyAdd(a0, b0, c00);
            c01 = VectorMath.MultiplyAdd(a0, b1, c01);
            a1 = Vector256.Create(r1[p]);
            c10 = VectorMath.MultiplyAdd(a1, b0, c10);
            c11 = VectorMath.MultiplyAdd(a1, b1, c11);
            a0 = Vector256.Create(r2[p]);
            c20 = VectorMath.MultiplyAdd(a0, b0, c20);
            c21 = VectorMath.MultiplyAdd(a0, b1, c21);
            a1 = Vector256.Create(r3[p]);
            c30 = VectorMath.MultiplyAdd(a1, b0, c30);
            c31 = VectorMath.MultiplyAdd(a1, b1, c31);
            a0 = Vector256.Create(r4[p]);
            c40 = VectorMath.MultiplyAdd(a0, b0, c40);
            c41 = VectorMath.MultiplyAdd(a0, b1, c41);
            a1 = Vector256.Create(r5[p]);
            c50 = VectorMath.MultiplyAdd(a1, b0, c50);
            c51 = VectorMath.MultiplyAdd(a1, b1, c51);
            b += bStride;
        }

        Vector256<T> va = Vector256.Create(alpha);
        if (beta == T.Zero)
        {
            StoreRow(c + 0 * ldc, c00, c01, va);
            StoreRow(c + 1 * ldc, c10, c11, va);
            StoreRow(c + 2 * ldc, c20, c21, va);
            StoreRow(c + 3 * ldc, c30, c31, va);
            StoreRow(c + 4 * ldc, c40, c41, va);
            StoreRow(c + 5 * ldc, c50, c51, va);
        }
        else
        {
            Vector256<T> vb = Vector256.Create(beta);
            StoreRow(c + 0 * ldc, c00, c01, va, vb);
            StoreRow(c + 1 * ldc, c10, c11, va, vb);
            StoreRow(c + 2 * ldc, c20, c21, va, vb);
            StoreRow(c + 3 * ldc, c30, c31, va, vb);
            StoreRow(c + 4 * ldc, c40, c41, va, vb);
            StoreRow(c + 5 * ldc, c50, c51, va, vb);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta)
    {
        TilePrefetch.Rows(c, ldc, 6, 2 * Vector256<T>.Count * sizeof(T));
        Vector256<T>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default,
            c40 = default, c41 = default,
            c50 = default, c51 = default;
        Vector256<T> a0, a1;
        for (nint p = 0; p < kc; p++)
        {
            T* row = b + offsets[p];
            Vector256<T> b0 = Vector256.Load(row);
            Vector256<T> b1 = Vector256.Load(row + Vector256<T>.Count);
            a0 = Vector256.Create(a[0]);
            c00 = VectorMath.MultiplyAdd(a0, b0, c00);
            c01 = VectorMath.MultiplyAdd(a0, b1, c01);
            a1 = Vector256.Create(a[1]);
            c10 = VectorMath.MultiplyAdd(a1, b0, c10);
            c11 = VectorMath.MultiplyAdd(a1, b1, c11);
            a0 = Vector256.Create(a[2]);
            c20 = VectorMath.MultiplyAdd(a0, b0, c20);
            c21 = VectorMath.MultiplyAdd(a0, b1, c21);
            a1 = Vector256.Create(a[3]);
            c30 = VectorMath.MultiplyAdd(a1, b0, c30);
            c31 = VectorMath.MultiplyAdd(a1, b1, c31);
            a0 = Vector256.Create(a[4]);
            c40 = VectorMath.MultiplyAdd(a0, b0, c40);
            c41 = VectorMath.MultiplyAdd(a0, b1, c41);
            a1 = Vector256.Create(a[5]);
            c50 = VectorMath.MultiplyAdd(a1, b0, c50);
            c51 = VectorMath.MultiplyAdd(a1, b1, c51);
            a += MR;
        }

        Vector256<T> va = Vector256.Create(alpha);
        if (beta == T.Zero)
        {
            StoreRow(c + 0 * ldc, c00, c01, va);
            StoreRow(c + 1 * ldc, c10, c11, va);
            StoreRow(c + 2 * ldc, c20, c21, va);
            StoreRow(c + 3 * ldc, c30, c31, va);
            StoreRow(c + 4 * ldc, c40, c41, va);
            StoreRow(c + 5 * ldc, c50, c51, va);
        }
        else
        {
            Vector256<T> vb = Vector256.Create(beta);
            StoreRow(c + 0 * ldc, c00, c01, va, vb);
            StoreRow(c + 1 * ldc, c10, c11, va, vb);
            StoreRow(c + 2 * ldc, c20, c21, va, vb);
            StoreRow(c + 3 * ldc, c30, c31, va, vb);
            StoreRow(c + 4 * ldc, c40, c41, va, vb);
            StoreRow(c + 5 * ldc, c50, c51, va, vb);
        }
    }

    public static int ShortMR => 4;

    /// <summary>
    /// <see cref="RunIndexed"/> on 4 rows (A packed 4 values per k): 8 accumulators, the same multiply-add chain per C
    /// element. 64 output channels are 10 six-row tiles and one of these, not 11 tiles of which the last is a third empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunIndexedShort(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta)
    {
        TilePrefetch.Rows(c, ldc, 4, 2 * Vector256<T>.Count * sizeof(T));
        Vector256<T>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default;
        Vector256<T> a0, a1;
        for (nint p = 0; p < kc; p++)
        {
            T* row = b + offsets[p];
            Vector256<T> b0 = Vector256.Load(row);
            Vector256<T> b1 = Vector256.Load(row + Vector256<T>.Count);
            a0 = Vector256.Create(a[0]);
            c00 = VectorMath.MultiplyAdd(a0, b0, c00);
            c01 = VectorMath.MultiplyAdd(a0, b1, c01);
            a1 = Vector256.Create(a[1]);
            c10 = VectorMath.MultiplyAdd(a1, b0, c10);
            c11 = VectorMath.MultiplyAdd(a1, b1, c11);
            a0 = Vector256.Create(a[2]);
            c20 = VectorMath.MultiplyAdd(a0, b0, c20);
            c21 = VectorMath.MultiplyAdd(a0, b1, c21);
            a1 = Vector256.Create(a[3]);
            c30 = VectorMath.MultiplyAdd(a1, b0, c30);
            c31 = VectorMath.MultiplyAdd(a1, b1, c31);
            a += 4;
        }

        Vector256<T> va = Vector256.Create(alpha);
        if (beta == T.Zero)
        {
            StoreRow(c + 0 * ldc, c00, c01, va);
            StoreRow(c + 1 * ldc, c10, c11, va);
            StoreRow(c + 2 * ldc, c20, c21, va);
            StoreRow(c + 3 * ldc, c30, c31, va);
        }
        else
        {
            Vector256<T> vb = Vector256.Create(beta);
            StoreRow(c + 0 * ldc, c00, c01, va, vb);
            StoreRow(c + 1 * ldc, c10, c11, va, vb);
            StoreRow(c + 2 * ldc, c20, c21, va, vb);
            StoreRow(c + 3 * ldc, c30, c31, va, vb);
        }
    }

    // alpha·acc (+ beta·C) as separate multiplies and an add, exactly like the scalar edge path, so a C element gets the
    // same bits whether its tile was full or an edge tile (MicroKernel256Rows4 stores this way too).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreRow(T* c, Vector256<T> x0, Vector256<T> x1, Vector256<T> va)
    {
        Vector256.Store(va * x0, c);
        Vector256.Store(va * x1, c + Vector256<T>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreRow(T* c, Vector256<T> x0, Vector256<T> x1, Vector256<T> va, Vector256<T> vb)
    {
        Vector256.Store(va * x0 + vb * Vector256.Load(c), c);
        Vector256.Store(va * x1 + vb * Vector256.Load(c + Vector256<T>.Count), c + Vector256<T>.Count);
    }
}
