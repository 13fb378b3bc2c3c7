using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Ember.Kernels.Operators.VectorMath;

namespace Ember.Kernels.Gemm;

/// <summary>
/// 12×(2·Vector512&lt;T&gt;.Count) micro-kernel: 24 accumulators plus two B vectors and a broadcast fit the register file.
/// The accumulators are plain locals stored straight to C, so the JIT keeps them in registers (copying them into a
/// stack array after the loop made it spill all of them on every iteration).
/// The rows are spelled out because only named locals stay in registers; arrays or spans of vectors spill.
/// </summary>
internal readonly unsafe struct MicroKernel512<T> : IMicroKernel<T> where T : unmanaged, INumber<T>
{
    public static int MR => 12;

    public static int NR => 2 * Vector512<T>.Count;

    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta) => RunStrided(kc, a, MR, b, NR, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta)
    {
        TilePrefetch.Rows(c, ldc, 12, 2 * Vector512<T>.Count * sizeof(T));
        Vector512<T>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default,
            c40 = default, c41 = default,
            c50 = default, c51 = default,
            c60 = default, c61 = default,
            c70 = default, c71 = default,
            c80 = default, c81 = default,
            c90 = default, c91 = default,
            c100 = default, c101 = default,
            c110 = default, c111 = default;
        Vector512<T> a0, a1;
        for (nint p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b);
            Vector512<T> b1 = Vector512.Load(b + Vector512<T>.Count);
            a0 = Vector512.Create(a[0]);
            c00 = FusedMultiplyAdd(a0, b0, c00);
            c01 = FusedMultiplyAdd(a0, b1, c01);
            a1 = Vector512.Create(a[1]);
            c10 = FusedMultiplyAdd(a1, b0, c10);
            c11 = FusedMultiplyAdd(a1, b1, c11);
            a0 = Vector512.Create(a[2]);
            c20 = FusedMultiplyAdd(a0, b0, c20);
            c21 = FusedMultiplyAdd(a0, b1, c21);
            a1 = Vector512.Create(a[3]);
            c30 = FusedMultiplyAdd(a1, b0, c30);
            c31 = FusedMultiplyAdd(a1, b1, c31);
            a0 = Vector512.Create(a[4]);
            c40 = FusedMultiplyAdd(a0, b0, c40);
            c41 = FusedMultiplyAdd(a0, b1, c41);
            a1 = Vector512.Create(a[5]);
            c50 = FusedMultiplyAdd(a1, b0, c50);
            c51 = FusedMultiplyAdd(a1, b1, c51);
            a0 = Vector512.Create(a[6]);
            c60 = FusedMultiplyAdd(a0, b0, c60);
            c61 = FusedMultiplyAdd(a0, b1, c61);
            a1 = Vector512.Create(a[7]);
            c70 = FusedMultiplyAdd(a1, b0, c70);
            c71 = FusedMultiplyAdd(a1, b1, c71);
            a0 = Vector512.Create(a[8]);
            c80 = FusedMultiplyAdd(a0, b0, c80);
            c81 = FusedMultiplyAdd(a0, b1, c81);
            a1 = Vector512.Create(a[9]);
            c90 = FusedMultiplyAdd(a1, b0, c90);
            c91 = FusedMultiplyAdd(a1, b1, c91);
            a0 = Vector512.Create(a[10]);
            c100 = FusedMultiplyAdd(a0, b0, c100);
            c101 = FusedMultiplyAdd(a0, b1, c101);
            a1 = Vector512.Create(a[11]);
            c110 = FusedMultiplyAdd(a1, b0, c110);
            c111 = FusedMultiplyAdd(a1, b1, c111);
            a += aStride;
            b += bStride;
        }

        Vector512<T> va = Vector512.Create(alpha);
        if (beta == T.Zero)
        {
            StoreRow(c + 0 * ldc, c00, c01, va);
            StoreRow(c + 1 * ldc, c10, c11, va);
            StoreRow(c + 2 * ldc, c20, c21, va);
            StoreRow(c + 3 * ldc, c30, c31, va);
            StoreRow(c + 4 * ldc, c40, c41, va);
            StoreRow(c + 5 * ldc, c50, c51, va);
            StoreRow(c + 6 * ldc, c60, c61, va);
            StoreRow(c + 7 * ldc, c70, c71, va);
            StoreRow(c + 8 * ldc, c80, c81, va);
            StoreRow(c + 9 * ldc, c90, c91, va);
            StoreRow(c + 10 * ldc, c100, c101, va);
            StoreRow(c + 11 * ldc, c110, c111, va);
        }
        else
        {
            Vector512<T> vb = Vector512.Create(beta);
            StoreRow(c + 0 * ldc, c00, c01, va, vb);
            StoreRow(c + 1 * ldc, c10, c11, va, vb);
            StoreRow(c + 2 * ldc, c20, c21, va, vb);
            StoreRow(c + 3 * ldc, c30, c31, va, vb);
            StoreRow(c + 4 * ldc, c40, c41, va, vb);
            StoreRow(c + 5 * ldc, c50, c51, va, vb);
            StoreRow(c + 6 * ldc, c60, c61, va, vb);
            StoreRow(c + 7 * ldc, c70, c71, va, vb);
            StoreRow(c + 8 * ldc, c80, c81, va, vb);
            StoreRow(c + 9 * ldc, c90, c91, va, vb);
            StoreRow(c + 10 * ldc, c100, c101, va, vb);
            StoreRow(c + 11 * ldc, c110, c111, va, vb);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta)
    {
        TilePrefetch.Rows(c, ldc, 12, 2 * Vector512<T>.Count * sizeof(T));
        Vector512<T>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default,
            c40 = default, c41 = default,
            c50 = default, c51 = default,
            c60 = default, c61 = default,
            c70 = default, c71 = default,
            c80 = default, c81 = default,
            c90 = default, c91 = default,
            c100 = default, c101 = default,
            c110 = default, c111 = default;
        Vector512<T> a0, a1;
        for (nint p = 0; p < kc; p++)
        {
            T* row = b + offsets[p];
            Vector512<T> b0 = Vector512.Load(row);
            Vector512<T> b1 = Vector512.Load(row + Vector512<T>.Count);
            a0 = Vector512.Create(a[0]);
            c00 = FusedMultiplyAdd(a0, b0, c00);
            c01 = FusedMultiplyAdd(a0, b1, c01);
            a1 = Vector512.Create(a[1]);
            c10 = FusedMultiplyAdd(a1, b0, c10);
            c11 = FusedMultiplyAdd(a1, b1, c11);
            a0 = Vector512.Create(a[2]);
            c20 = FusedMultiplyAdd(a0, b0, c20);
            c21 = FusedMultiplyAdd(a0, b1, c21);
            a1 = Vector512.Create(a[3]);
            c30 = FusedMultiplyAdd(a1, b0, c30);
            c31 = FusedMultiplyAdd(a1, b1, c31);
            a0 = Vector512.Create(a[4]);
            c40 = FusedMultiplyAdd(a0, b0, c40);
            c41 = FusedMultiplyAdd(a0, b1, c41);
            a1 = Vector512.Create(a[5]);
            c50 = FusedMultiplyAdd(a1, b0, c50);
            c51 = FusedMultiplyAdd(a1, b1, c51);
            a0 = Vector512.Create(a[6]);
            c60 = FusedMultiplyAdd(a0, b0, c60);
            c61 = FusedMultiplyAdd(a0, b1, c61);
            a1 = Vector512.Create(a[7]);
            c70 = FusedMultiplyAdd(a1, b0, c70);
            c71 = FusedMultiplyAdd(a1, b1, c71);
            a0 = Vector512.Create(a[8]);
            c80 = FusedMultiplyAdd(a0, b0, c80);
            c81 = FusedMultiplyAdd(a0, b1, c81);
            a1 = Vector512.Create(a[9]);
            c90 = FusedMultiplyAdd(a1, b0, c90);
            c91 = FusedMultiplyAdd(a1, b1, c91);
            a0 = Vector512.Create(a[10]);
            c100 = FusedMultiplyAdd(a0, b0, c100);
            c101 = FusedMultiplyAdd(a0, b1, c101);
            a1 = Vector512.Create(a[11]);
            c110 = FusedMultiplyAdd(a1, b0, c110);
            c111 = FusedMultiplyAdd(a1, b1, c111);
            a += MR;
        }

        Vector512<T> va = Vector512.Create(alpha);
        if (beta == T.Zero)
        {
            StoreRow(c + 0 * ldc, c00, c01, va);
            StoreRow(c + 1 * ldc, c10, c11, va);
            StoreRow(c + 2 * ldc, c20, c21, va);
            StoreRow(c + 3 * ldc, c30, c31, va);
            StoreRow(c + 4 * ldc, c40, c41, va);
            StoreRow(c + 5 * ldc, c50, c51, va);
            StoreRow(c + 6 * ldc, c60, c61, va);
            StoreRow(c + 7 * ldc, c70, c71, va);
            StoreRow(c + 8 * ldc, c80, c81, va);
            StoreRow(c + 9 * ldc, c90, c91, va);
            StoreRow(c + 10 * ldc, c100, c101, va);
            StoreRow(c + 11 * ldc, c110, c111, va);
        }
        else
        {
            Vector512<T> vb = Vector512.Create(beta);
            StoreRow(c + 0 * ldc, c00, c01, va, vb);
            StoreRow(c + 1 * ldc, c10, c11, va, vb);
            StoreRow(c + 2 * ldc, c20, c21, va, vb);
            StoreRow(c + 3 * ldc, c30, c31, va, vb);
            StoreRow(c + 4 * ldc, c40, c41, va, vb);
            StoreRow(c + 5 * ldc, c50, c51, va, vb);
            StoreRow(c + 6 * ldc, c60, c61, va, vb);
            StoreRow(c + 7 * ldc, c70, c71, va, vb);
            StoreRow(c + 8 * ldc, c80, c81, va, vb);
            StoreRow(c + 9 * ldc, c90, c91, va, vb);
            StoreRow(c + 10 * ldc, c100, c101, va, vb);
            StoreRow(c + 11 * ldc, c110, c111, va, vb);
        }
    }

    // alpha·acc (+ beta·C) as separate multiplies and an add, exactly like the scalar edge path, so a C element gets the
    // same bits whether its tile was full or an edge tile.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(T* c, Vector512<T> x0, Vector512<T> x1, Vector512<T> va)
    {
        Vector512.Store(va * x0, c);
        Vector512.Store(va * x1, c + Vector512<T>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(T* c, Vector512<T> x0, Vector512<T> x1, Vector512<T> va, Vector512<T> vb)
    {
        Vector512.Store(va * x0 + vb * Vector512.Load(c), c);
        Vector512.Store(va * x1 + vb * Vector512.Load(c + Vector512<T>.Count), c + Vector512<T>.Count);
    }
}
