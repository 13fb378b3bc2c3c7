using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Gemm;

/// <summary>
/// 4×(3·Vector256&lt;T&gt;.Count) micro-kernel, AVX2 for row counts that are multiples of 4 but not of 6 (32 or 64 output
/// channels of a convolution: 6-row panels would compute 36 or 66 rows): 12 accumulators, three B vectors and a
/// broadcast fill the 16 ymm registers, and each step loads 3 B vectors and 4 broadcasts for 12 multiply-adds (2 and 6
/// for <see cref="MicroKernel256{T}"/>). 24 columns also tile a 28×28 convolution's 28×30 grid exactly.
/// </summary>
/// <remarks>
/// Each C element is the same chain of multiply-adds over k as in <see cref="MicroKernel256{T}"/>, so the bits are too.
/// </remarks>
internal readonly unsafe struct MicroKernel256Rows4<T> : IMicroKernel<T> where T : unmanaged, INumber<T>
{
    public static int MR => 4;

    public static int NR => 3 * Vector256<T>.Count;

    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta) => RunStrided(kc, a, MR, b, NR, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta)
    {
        TilePrefetch.Rows(c, ldc, 4, 3 * Vector256<T>.Count * sizeof(T));
        Vector256<T>
            c00 = default, c01 = default, c02 = default,
            c10 = default, c11 = default, c12 = default,
            c20 = default, c21 = default, c22 = default,
            c30 = default, c31 = default, c32 = default;
        for (nint p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(b);
            Vector256<T> b1 = Vector256.Load(b + Vector256<T>.Count);
            Vector256<T> b2 = Vector256.Load(b + 2 * Vector256<T>.Count);
            Vector256<T> s = Vector256.Create(a[0]);
            c00 = VectorMath.MultiplyAdd(s, b0, c00);
            c01 = VectorMath.MultiplyAdd(s, b1, c01);
            c02 = VectorMath.MultiplyAdd(s, b2, c02);
            s = Vector256.Create(a[1]);
            c10 = VectorMath.MultiplyAdd(s, b0, c10);
            c11 = VectorMath.MultiplyAdd(s, b1, c11);
            c12 = VectorMath.MultiplyAdd(s, b2, c12);
            s = Vector256.Create(a[2]);
            c20 = VectorMath.MultiplyAdd(s, b0, c20);
            c21 = VectorMath.MultiplyAdd(s, b1, c21);
            c22 = VectorMath.MultiplyAdd(s, b2, c22);
            s = Vector256.Create(a[3]);
            c30 = VectorMath.MultiplyAdd(s, b0, c30);
            c31 = VectorMath.MultiplyAdd(s, b1, c31);
            c32 = VectorMath.MultiplyAdd(s, b2, c32);
            a += aStride;
            b += bStride;
        }
        Store(c, ldc, alpha, beta, c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta)
    {
        TilePrefetch.Rows(c, ldc, 4, 3 * Vector256<T>.Count * sizeof(T));
        Vector256<T>
            c00 = default, c01 = default, c02 = default,
            c10 = default, c11 = default, c12 = default,
            c20 = default, c21 = default, c22 = default,
            c30 = default, c31 = default, c32 = default;
        for (nint p = 0; p < kc; p++)
        {
            T* row = b + offsets[p];
            Vector256<T> b0 = Vector256.Load(row);
            Vector256<T> b1 = Vector256.Load(row + Vector256<T>.Count);
            Vector256<T> b2 = Vector256.Load(row + 2 * Vector256<T>.Count);
            Vector256<T> s = Vector256.Create(a[0]);
            c00 = VectorMath.MultiplyAdd(s, b0, c00);
            c01 = VectorMath.MultiplyAdd(s, b1, c01);
            c02 = VectorMath.MultiplyAdd(s, b2, c02);
            s = Vector256.Create(a[1]);
            c10 = VectorMath.MultiplyAdd(s, b0, c10);
            c11 = VectorMath.MultiplyAdd(s, b1, c11);
            c12 = VectorMath.MultiplyAdd(s, b2, c12);
            s = Vector256.Create(a[2]);
            c20 = VectorMath.MultiplyAdd(s, b0, c20);
            c21 = VectorMath.MultiplyAdd(s, b1, c21);
            c22 = VectorMath.MultiplyAdd(s, b2, c22);
            s = Vector256.Create(a[3]);
            c30 = VectorMath.MultiplyAdd(s, b0, c30);
            c31 = VectorMath.MultiplyAdd(s, b1, c31);
            c32 = VectorMath.MultiplyAdd(s, b2, c32);
            a += MR;
        }
        Store(c, ldc, alpha, beta, c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(T* c, nint ldc, T alpha, T beta,
        Vector256<T> c00, Vector256<T> c01, Vector256<T> c02, Vector256<T> c10, Vector256<T> c11, Vector256<T> c12,
        Vector256<T> c20, Vector256<T> c21, Vector256<T> c22, Vector256<T> c30, Vector256<T> c31, Vector256<T> c32)
    {
        Vector256<T> va = Vector256.Create(alpha);
        if (beta == T.Zero)
        {
            StoreRow(c, c00, c01, c02, va);
            StoreRow(c + ldc, c10, c11, c12, va);
            StoreRow(c + 2 * ldc, c20, c21, c22, va);
            StoreRow(c + 3 * ldc, c30, c31, c32, va);
        }
        else
        {
            Vector256<T> vb = Vector256.Create(beta);
            StoreRow(c, c00, c01, c02, va, vb);
            StoreRow(c + ldc, c10, c11, c12, va, vb);
            StoreRow(c + 2 * ldc, c20, c21, c22, va, vb);
            StoreRow(c + 3 * ldc, c30, c31, c32, va, vb);
        }
    }

    // alpha·acc (+ beta·C) as separate multiplies and an add, like the other kernels and the scalar edge path.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(T* c, Vector256<T> x0, Vector256<T> x1, Vector256<T> x2, Vector256<T> va)
    {
        Vector256.Store(va * x0, c);
        Vector256.Store(va * x1, c + Vector256<T>.Count);
        Vector256.Store(va * x2, c + 2 * Vector256<T>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(T* c, Vector256<T> x0, Vector256<T> x1, Vector256<T> x2, Vector256<T> va, Vector256<T> vb)
    {
        Vector256.Store(va * x0 + vb * Vector256.Load(c), c);
        Vector256.Store(va * x1 + vb * Vector256.Load(c + Vector256<T>.Count), c + Vector256<T>.Count);
        Vector256.Store(va * x2 + vb * Vector256.Load(c + 2 * Vector256<T>.Count), c + 2 * Vector256<T>.Count);
    }
}
