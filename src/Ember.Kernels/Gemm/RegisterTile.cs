using System.Numerics;
using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Gemm;

/// <summary>
/// The register-blocked GEMM micro-kernel, written once over the width and the tile height: a
/// <typeparamref name="TRows"/>×(2·TVec.Count) tile of C in 2·MR accumulators plus two B vectors and a broadcast of A.
/// <see cref="MicroKernel512{T}"/> (12×32 in 24 zmm) and <see cref="MicroKernel512Rows8{T}"/> (8×32) are this kernel.
/// </summary>
/// <remarks>
/// The accumulators are plain locals, spelled out row by row, and stored straight to C: only named locals stay in
/// registers (arrays or spans of vectors spill, and copying the accumulators into a stack array after the loop made the
/// JIT spill all of them on every iteration). The rows past 6 and past 8 are guarded by <typeparamref name="TRows"/>,
/// a constant in each instantiation, so the JIT drops them and their accumulators where the tile is smaller.
/// The multiply-add is <see cref="ISimd{TSelf, T}.MultiplyAddEstimate"/>: fused where the CPU has FMA (always with
/// AVX-512), a multiply and an add on a Vector128 path without it, never emulated.
/// Through the <see cref="ISimd{TSelf, T}"/> wrapper the JIT writes the second multiply-add of each row into the dying
/// broadcast register and moves it to the accumulator (one extra register move per row). With 32 zmm registers that
/// costs nothing: 177.4 GFLOP/s for this kernel and for the hand-written 12×32 one it replaced, panels in L1, one thread,
/// best of 2000 (the FMA peak). With AVX2's 16 ymm it measured 86.8 against 92.2 GFLOP/s for the hand-written 6×16
/// kernel (and 47.0 against 47.7 for Vector128's 6×8), so <see cref="MicroKernel256{T}"/> and
/// <see cref="MicroKernel128{T}"/> keep their own code.
/// </remarks>
internal static unsafe class RegisterTile<T, TVec, TRows>
    where T : unmanaged, INumber<T>
    where TVec : struct, ISimd<TVec, T>
    where TRows : struct, ITileRows
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta)
    {
        TilePrefetch.Rows(c, ldc, TRows.Value, 2 * TVec.Count * sizeof(T));
        TVec
            c00 = TVec.Zero, c01 = TVec.Zero,
            c10 = TVec.Zero, c11 = TVec.Zero,
            c20 = TVec.Zero, c21 = TVec.Zero,
            c30 = TVec.Zero, c31 = TVec.Zero,
            c40 = TVec.Zero, c41 = TVec.Zero,
            c50 = TVec.Zero, c51 = TVec.Zero,
            c60 = TVec.Zero, c61 = TVec.Zero,
            c70 = TVec.Zero, c71 = TVec.Zero,
            c80 = TVec.Zero, c81 = TVec.Zero,
            c90 = TVec.Zero, c91 = TVec.Zero,
            c100 = TVec.Zero, c101 = TVec.Zero,
            c110 = TVec.Zero, c111 = TVec.Zero;
        TVec a0, a1;
        for (nint p = 0; p < kc; p++)
        {
            TVec b0 = TVec.Load(b);
            TVec b1 = TVec.Load(b + TVec.Count);
            a0 = TVec.Create(a[0]);
            c00 = TVec.MultiplyAddEstimate(a0, b0, c00);
            c01 = TVec.MultiplyAddEstimate(a0, b1, c01);
            a1 = TVec.Create(a[1]);
            c10 = TVec.MultiplyAddEstimate(a1, b0, c10);
            c11 = TVec.MultiplyAddEstimate(a1, b1, c11);
            a0 = TVec.Create(a[2]);
            c20 = TVec.MultiplyAddEstimate(a0, b0, c20);
            c21 = TVec.MultiplyAddEstimate(a0, b1, c21);
            a1 = TVec.Create(a[3]);
            c30 = TVec.MultiplyAddEstimate(a1, b0, c30);
            c31 = TVec.MultiplyAddEstimate(a1, b1, c31);
            a0 = TVec.Create(a[4]);
            c40 = TVec.MultiplyAddEstimate(a0, b0, c40);
            c41 = TVec.MultiplyAddEstimate(a0, b1, c41);
            a1 = TVec.Create(a[5]);
            c50 = TVec.MultiplyAddEstimate(a1, b0, c50);
            c51 = TVec.MultiplyAddEstimate(a1, b1, c51);
            if (TRows.Value > 6)
            {
                a0 = TVec.Create(a[6]);
                c60 = TVec.MultiplyAddEstimate(a0, b0, c60);
                c61 = TVec.MultiplyAddEstimate(a0, b1, c61);
                a1 = TVec.Create(a[7]);
                c70 = TVec.MultiplyAddEstimate(a1, b0, c70);
                c71 = TVec.MultiplyAddEstimate(a1, b1, c71);
            }
            if (TRows.Value > 8)
            {
                a0 = TVec.Create(a[8]);
                c80 = TVec.MultiplyAddEstimate(a0, b0, c80);
                c81 = TVec.MultiplyAddEstimate(a0, b1, c81);
                a1 = TVec.Create(a[9]);
                c90 = TVec.MultiplyAddEstimate(a1, b0, c90);
                c91 = TVec.MultiplyAddEstimate(a1, b1, c91);
                a0 = TVec.Create(a[10]);
                c100 = TVec.MultiplyAddEstimate(a0, b0, c100);
                c101 = TVec.MultiplyAddEstimate(a0, b1, c101);
                a1 = TVec.Create(a[11]);
                c110 = TVec.MultiplyAddEstimate(a1, b0, c110);
                c111 = TVec.MultiplyAddEstimate(a1, b1, c111);
            }
            a += aStride;
            b += bStride;
        }

        TVec va = TVec.Create(alpha);
        if (beta == T.Zero)
        {
            StoreRow(c + 0 * ldc, c00, c01, va);
            StoreRow(c + 1 * ldc, c10, c11, va);
            StoreRow(c + 2 * ldc, c20, c21, va);
            StoreRow(c + 3 * ldc, c30, c31, va);
            StoreRow(c + 4 * ldc, c40, c41, va);
            StoreRow(c + 5 * ldc, c50, c51, va);
            if (TRows.Value > 6)
            {
                StoreRow(c + 6 * ldc, c60, c61, va);
                StoreRow(c + 7 * ldc, c70, c71, va);
            }
            if (TRows.Value > 8)
            {
                StoreRow(c + 8 * ldc, c80, c81, va);
                StoreRow(c + 9 * ldc, c90, c91, va);
                StoreRow(c + 10 * ldc, c100, c101, va);
                StoreRow(c + 11 * ldc, c110, c111, va);
            }
        }
        else
        {
            TVec vb = TVec.Create(beta);
            StoreRow(c + 0 * ldc, c00, c01, va, vb);
            StoreRow(c + 1 * ldc, c10, c11, va, vb);
            StoreRow(c + 2 * ldc, c20, c21, va, vb);
            StoreRow(c + 3 * ldc, c30, c31, va, vb);
            StoreRow(c + 4 * ldc, c40, c41, va, vb);
            StoreRow(c + 5 * ldc, c50, c51, va, vb);
            if (TRows.Value > 6)
            {
                StoreRow(c + 6 * ldc, c60, c61, va, vb);
                StoreRow(c + 7 * ldc, c70, c71, va, vb);
            }
            if (TRows.Value > 8)
            {
                StoreRow(c + 8 * ldc, c80, c81, va, vb);
                StoreRow(c + 9 * ldc, c90, c91, va, vb);
                StoreRow(c + 10 * ldc, c100, c101, va, vb);
                StoreRow(c + 11 * ldc, c110, c111, va, vb);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta)
    {
        TilePrefetch.Rows(c, ldc, TRows.Value, 2 * TVec.Count * sizeof(T));
        TVec
            c00 = TVec.Zero, c01 = TVec.Zero,
            c10 = TVec.Zero, c11 = TVec.Zero,
            c20 = TVec.Zero, c21 = TVec.Zero,
            c30 = TVec.Zero, c31 = TVec.Zero,
            c40 = TVec.Zero, c41 = TVec.Zero,
            c50 = TVec.Zero, c51 = TVec.Zero,
            c60 = TVec.Zero, c61 = TVec.Zero,
            c70 = TVec.Zero, c71 = TVec.Zero,
            c80 = TVec.Zero, c81 = TVec.Zero,
            c90 = TVec.Zero, c91 = TVec.Zero,
            c100 = TVec.Zero, c101 = TVec.Zero,
            c110 = TVec.Zero, c111 = TVec.Zero;
        TVec a0, a1;
        for (nint p = 0; p < kc; p++)
        {
            T* row = b + offsets[p];
            TVec b0 = TVec.Load(row);
            TVec b1 = TVec.Load(row + TVec.Count);
            a0 = TVec.Create(a[0]);
            c00 = TVec.MultiplyAddEstimate(a0, b0, c00);
            c01 = TVec.MultiplyAddEstimate(a0, b1, c01);
            a1 = TVec.Create(a[1]);
            c10 = TVec.MultiplyAddEstimate(a1, b0, c10);
            c11 = TVec.MultiplyAddEstimate(a1, b1, c11);
            a0 = TVec.Create(a[2]);
            c20 = TVec.MultiplyAddEstimate(a0, b0, c20);
            c21 = TVec.MultiplyAddEstimate(a0, b1, c21);
            a1 = TVec.Create(a[3]);
            c30 = TVec.MultiplyAddEstimate(a1, b0, c30);
            c31 = TVec.MultiplyAddEstimate(a1, b1, c31);
            a0 = TVec.Create(a[4]);
            c40 = TVec.MultiplyAddEstimate(a0, b0, c40);
            c41 = TVec.MultiplyAddEstimate(a0, b1, c41);
            a1 = TVec.Create(a[5]);
            c50 = TVec.MultiplyAddEstimate(a1, b0, c50);
            c51 = TVec.MultiplyAddEstimate(a1, b1, c51);
            if (TRows.Value > 6)
            {
                a0 = TVec.Create(a[6]);
                c60 = TVec.MultiplyAddEstimate(a0, b0, c60);
                c61 = TVec.MultiplyAddEstimate(a0, b1, c61);
                a1 = TVec.Create(a[7]);
                c70 = TVec.MultiplyAddEstimate(a1, b0, c70);
                c71 = TVec.MultiplyAddEstimate(a1, b1, c71);
            }
            if (TRows.Value > 8)
            {
                a0 = TVec.Create(a[8]);
                c80 = TVec.MultiplyAddEstimate(a0, b0, c80);
                c81 = TVec.MultiplyAddEstimate(a0, b1, c81);
                a1 = TVec.Create(a[9]);
                c90 = TVec.MultiplyAddEstimate(a1, b0, c90);
                c91 = TVec.MultiplyAddEstimate(a1, b1, c91);
                a0 = TVec.Create(a[10]);
                c100 = TVec.MultiplyAddEstimate(a0, b0, c100);
                c101 = TVec.MultiplyAddEstimate(a0, b1, c101);
                a1 = TVec.Create(a[11]);
                c110 = TVec.MultiplyAddEstimate(a1, b0, c110);
                c111 = TVec.MultiplyAddEstimate(a1, b1, c111);
            }
            a += TRows.Value;

        }

        TVec va = TVec.Create(alpha);
        if (beta == T.Zero)
        {
            StoreRow(c + 0 * ldc, c00, c01, va);
            StoreRow(c + 1 * ldc, c10, c11, va);
            StoreRow(c + 2 * ldc, c20, c21, va);
            StoreRow(c + 3 * ldc, c30, c31, va);
            StoreRow(c + 4 * ldc, c40, c41, va);
            StoreRow(c + 5 * ldc, c50, c51, va);
            if (TRows.Value > 6)
            {
                StoreRow(c + 6 * ldc, c60, c61, va);
                StoreRow(c + 7 * ldc, c70, c71, va);
            }
            if (TRows.Value > 8)
            {
                StoreRow(c + 8 * ldc, c80, c81, va);
                StoreRow(c + 9 * ldc, c90, c91, va);
                StoreRow(c + 10 * ldc, c100, c101, va);
                StoreRow(c + 11 * ldc, c110, c111, va);
            }
        }
        else
        {
            TVec vb = TVec.Create(beta);
            StoreRow(c + 0 * ldc, c00, c01, va, vb);
            StoreRow(c + 1 * ldc, c10, c11, va, vb);
            StoreRow(c + 2 * ldc, c20, c21, va, vb);
            StoreRow(c + 3 * ldc, c30, c31, va, vb);
            StoreRow(c + 4 * ldc, c40, c41, va, vb);
            StoreRow(c + 5 * ldc, c50, c51, va, vb);
            if (TRows.Value > 6)
            {
                StoreRow(c + 6 * ldc, c60, c61, va, vb);
                StoreRow(c + 7 * ldc, c70, c71, va, vb);
            }
            if (TRows.Value > 8)
            {
                StoreRow(c + 8 * ldc, c80, c81, va, vb);
                StoreRow(c + 9 * ldc, c90, c91, va, vb);
                StoreRow(c + 10 * ldc, c100, c101, va, vb);
                StoreRow(c + 11 * ldc, c110, c111, va, vb);
            }
        }
    }

    // alpha·acc (+ beta·C) as separate multiplies and an add, exactly like the scalar edge path, so a C element gets the
    // same bits whether its tile was full or an edge tile.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(T* c, TVec x0, TVec x1, TVec va)
    {
        (va * x0).Store(c);
        (va * x1).Store(c + TVec.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(T* c, TVec x0, TVec x1, TVec va, TVec vb)
    {
        (va * x0 + vb * TVec.Load(c)).Store(c);
        (va * x1 + vb * TVec.Load(c + TVec.Count)).Store(c + TVec.Count);
    }
}
