using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Gemm;

/// <summary>
/// The AVX-512 register-blocked GEMM micro-kernel, written once over the tile height: a
/// <typeparamref name="TRows"/>×(2·Vector512&lt;T&gt;.Count) tile of C in 2·MR accumulators plus two B vectors and a
/// broadcast of A. <see cref="MicroKernel512{T}"/> (12×32 in 24 zmm) and <see cref="MicroKernel512Rows8{T}"/> (8×32) are
/// this kernel: a full tile, whether A is packed or read in place and B packed, read in place or gathered, is the one
/// loop of <c>Tile</c>; the one-vector narrow form has its own.
/// </summary>
/// <remarks>
/// The accumulators are plain locals, spelled out row by row, and stored straight to C: only named locals stay in
/// registers (arrays or spans of vectors spill, and copying the accumulators into a stack array after the loop made the
/// JIT spill all of them on every iteration). The rows past 6 and past 8 are guarded by <typeparamref name="TRows"/>,
/// a constant in each instantiation, so the JIT drops them and their accumulators where the tile is smaller.
/// The vectors are Vector512 itself, not the <see cref="ISimd{TSelf, T}"/> wrapper: through the wrapper the JIT wrote
/// the second multiply-add of each row into the dying broadcast register and moved it to the accumulator, 8 or 12 extra
/// zmm moves per step (41 instructions for 16 multiply-adds at 8 rows). That was free on the Intel Xeon of earlier
/// sessions, but on this Zen 5 it cost 3-4%: the 28×28 convolution forward (8 rows, one thread, best of 300) went from
/// 183 to 190 GFLOP/s without the moves (docs/bench-logs/2026-12-04-session12-s12-conv-ab.txt).
/// <see cref="MicroKernel256{T}"/> and <see cref="MicroKernel128{T}"/> have their own loops of this shape (6 rows fit 16
/// registers): one body over the vector width would go through that wrapper and its moves.
/// </remarks>
internal static unsafe class RegisterTile<T, TRows>
    where T : unmanaged, INumber<T>
    where TRows : struct, ITileRows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        Tile<StridedB>(kc, a, 1, aStride, b, bStride, null, c, ldc, alpha, beta);

    /// <summary>
    /// <see cref="RunStrided"/> with the rows of A read where they lie, <paramref name="lda"/> apart (op(A) not
    /// transposed), instead of from a panel that a transposing pack made. The multiply-adds are those of
    /// <see cref="RunStrided"/>, so the bits are too.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunRowsOfA(nint kc, T* a, nint lda, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        Tile<StridedB>(kc, a, lda, 1, b, bStride, null, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        Tile<IndexedB>(kc, a, 1, TRows.Value, b, 0, offsets, c, ldc, alpha, beta);

    /// <summary>
    /// The tile loop: row r's A value of step p at a[r·<paramref name="rowStride"/> + p·<paramref name="stepStride"/>]
    /// (a panel or a transposed A: 1 and its stride; rows of A: lda and 1), step p's B row where
    /// <typeparamref name="TB"/> says. Four row pointers, each for three rows at 0, rowStride and 2·rowStride, so that
    /// every broadcast is one load from [row + 0|1|2·l] whatever the source and the loop keeps its registers (twelve row
    /// pointers would not fit the sixteen general registers). Kept out of line: the driver's loops call it once per tile.
    /// Its call passes two more arguments (on the stack) than the three loops' did: 64³ measured ~1.3% under main at one
    /// and two threads (best of 15, CPU time), larger products within noise
    /// (docs/bench-logs/2026-12-06-session23-s23-fold-ab.txt).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static void Tile<TB>(nint kc, T* a, nint rowStride, nint stepStride, T* b, nint bStride, int* offsets,
        T* c, nint ldc, T alpha, T beta)
        where TB : struct, IBSource
    {
        TilePrefetch.Rows(c, ldc, TRows.Value, 2 * Vector512<T>.Count * sizeof(T));
        nint l = rowStride * sizeof(T), step = stepStride * sizeof(T);
        byte* r0 = (byte*)a, r3 = r0 + 3 * l, r6 = r0 + 6 * l, r9 = r0 + 9 * l;
        Vector512<T>
            c00 = Vector512<T>.Zero, c01 = Vector512<T>.Zero,
            c10 = Vector512<T>.Zero, c11 = Vector512<T>.Zero,
            c20 = Vector512<T>.Zero, c21 = Vector512<T>.Zero,
            c30 = Vector512<T>.Zero, c31 = Vector512<T>.Zero,
            c40 = Vector512<T>.Zero, c41 = Vector512<T>.Zero,
            c50 = Vector512<T>.Zero, c51 = Vector512<T>.Zero,
            c60 = Vector512<T>.Zero, c61 = Vector512<T>.Zero,
            c70 = Vector512<T>.Zero, c71 = Vector512<T>.Zero,
            c80 = Vector512<T>.Zero, c81 = Vector512<T>.Zero,
            c90 = Vector512<T>.Zero, c91 = Vector512<T>.Zero,
            c100 = Vector512<T>.Zero, c101 = Vector512<T>.Zero,
            c110 = Vector512<T>.Zero, c111 = Vector512<T>.Zero;
        Vector512<T> a0, a1;
        for (nint p = 0; p < kc; p++)
        {
            T* row = TB.Indexed ? b + offsets[p] : b;
            Vector512<T> b0 = Vector512.Load(row);
            Vector512<T> b1 = Vector512.Load(row + Vector512<T>.Count);
            a0 = Vector512.Create(*(T*)r0);
            c00 = VectorMath.FusedMultiplyAdd(a0, b0, c00);
            c01 = VectorMath.FusedMultiplyAdd(a0, b1, c01);
            a1 = Vector512.Create(*(T*)(r0 + l));
            c10 = VectorMath.FusedMultiplyAdd(a1, b0, c10);
            c11 = VectorMath.FusedMultiplyAdd(a1, b1, c11);
            a0 = Vector512.Create(*(T*)(r0 + 2 * l));
            c20 = VectorMath.FusedMultiplyAdd(a0, b0, c20);
            c21 = VectorMath.FusedMultiplyAdd(a0, b1, c21);
            a1 = Vector512.Create(*(T*)r3);
            c30 = VectorMath.FusedMultiplyAdd(a1, b0, c30);
            c31 = VectorMath.FusedMultiplyAdd(a1, b1, c31);
            a0 = Vector512.Create(*(T*)(r3 + l));
            c40 = VectorMath.FusedMultiplyAdd(a0, b0, c40);
            c41 = VectorMath.FusedMultiplyAdd(a0, b1, c41);
            a1 = Vector512.Create(*(T*)(r3 + 2 * l));
            c50 = VectorMath.FusedMultiplyAdd(a1, b0, c50);
            c51 = VectorMath.FusedMultiplyAdd(a1, b1, c51);
            if (TRows.Value > 6)
            {
                a0 = Vector512.Create(*(T*)r6);
                c60 = VectorMath.FusedMultiplyAdd(a0, b0, c60);
                c61 = VectorMath.FusedMultiplyAdd(a0, b1, c61);
                a1 = Vector512.Create(*(T*)(r6 + l));
                c70 = VectorMath.FusedMultiplyAdd(a1, b0, c70);
                c71 = VectorMath.FusedMultiplyAdd(a1, b1, c71);
            }
            if (TRows.Value > 8)
            {
                a0 = Vector512.Create(*(T*)(r6 + 2 * l));
                c80 = VectorMath.FusedMultiplyAdd(a0, b0, c80);
                c81 = VectorMath.FusedMultiplyAdd(a0, b1, c81);
                a1 = Vector512.Create(*(T*)r9);
                c90 = VectorMath.FusedMultiplyAdd(a1, b0, c90);
                c91 = VectorMath.FusedMultiplyAdd(a1, b1, c91);
                a0 = Vector512.Create(*(T*)(r9 + l));
                c100 = VectorMath.FusedMultiplyAdd(a0, b0, c100);
                c101 = VectorMath.FusedMultiplyAdd(a0, b1, c101);
                a1 = Vector512.Create(*(T*)(r9 + 2 * l));
                c110 = VectorMath.FusedMultiplyAdd(a1, b0, c110);
                c111 = VectorMath.FusedMultiplyAdd(a1, b1, c111);
            }
            r0 += step;
            r3 += step;
            if (TRows.Value > 6) r6 += step;
            if (TRows.Value > 8) r9 += step;
            if (!TB.Indexed) b += bStride;
        }

        StoreTile(c, ldc, alpha, beta, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51,
            c60, c61, c70, c71, c80, c81, c90, c91, c100, c101, c110, c111);
    }

    /// <summary>
    /// <see cref="RunIndexed"/> on the first Vector512&lt;T&gt;.Count columns only (C's others are left alone): for a
    /// convolution grid's last panel when its used positions fit one vector (28×28: 8 of 32). Each C element is the same
    /// chain of multiply-adds as in <see cref="RunIndexed"/>, so the bits are too.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunIndexedOneVector(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta)
    {
        Vector512<T> c00 = Vector512<T>.Zero, c10 = Vector512<T>.Zero, c20 = Vector512<T>.Zero, c30 = Vector512<T>.Zero, c40 = Vector512<T>.Zero, c50 = Vector512<T>.Zero, c60 = Vector512<T>.Zero, c70 = Vector512<T>.Zero, c80 = Vector512<T>.Zero, c90 = Vector512<T>.Zero, c100 = Vector512<T>.Zero, c110 = Vector512<T>.Zero;
        for (nint p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b + offsets[p]);
            c00 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c00);
            c10 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c10);
            c20 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c20);
            c30 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c30);
            c40 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c40);
            c50 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c50);
            if (TRows.Value > 6)
            {
                c60 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c60);
                c70 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c70);
            }
            if (TRows.Value > 8)
            {
                c80 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[8]), b0, c80);
                c90 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[9]), b0, c90);
                c100 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[10]), b0, c100);
                c110 = VectorMath.FusedMultiplyAdd(Vector512.Create(a[11]), b0, c110);
            }
            a += TRows.Value;
        }
        Vector512<T> va = Vector512.Create(alpha);
        if (beta == T.Zero)
        {
            (va * c00).Store(c + 0 * ldc);
            (va * c10).Store(c + 1 * ldc);
            (va * c20).Store(c + 2 * ldc);
            (va * c30).Store(c + 3 * ldc);
            (va * c40).Store(c + 4 * ldc);
            (va * c50).Store(c + 5 * ldc);
            if (TRows.Value > 6)
            {
                (va * c60).Store(c + 6 * ldc);
                (va * c70).Store(c + 7 * ldc);
            }
            if (TRows.Value > 8)
            {
                (va * c80).Store(c + 8 * ldc);
                (va * c90).Store(c + 9 * ldc);
                (va * c100).Store(c + 10 * ldc);
                (va * c110).Store(c + 11 * ldc);
            }
        }
        else
        {
            Vector512<T> vb = Vector512.Create(beta);
            (va * c00 + vb * Vector512.Load(c + 0 * ldc)).Store(c + 0 * ldc);
            (va * c10 + vb * Vector512.Load(c + 1 * ldc)).Store(c + 1 * ldc);
            (va * c20 + vb * Vector512.Load(c + 2 * ldc)).Store(c + 2 * ldc);
            (va * c30 + vb * Vector512.Load(c + 3 * ldc)).Store(c + 3 * ldc);
            (va * c40 + vb * Vector512.Load(c + 4 * ldc)).Store(c + 4 * ldc);
            (va * c50 + vb * Vector512.Load(c + 5 * ldc)).Store(c + 5 * ldc);
            if (TRows.Value > 6)
            {
                (va * c60 + vb * Vector512.Load(c + 6 * ldc)).Store(c + 6 * ldc);
                (va * c70 + vb * Vector512.Load(c + 7 * ldc)).Store(c + 7 * ldc);
            }
            if (TRows.Value > 8)
            {
                (va * c80 + vb * Vector512.Load(c + 8 * ldc)).Store(c + 8 * ldc);
                (va * c90 + vb * Vector512.Load(c + 9 * ldc)).Store(c + 9 * ldc);
                (va * c100 + vb * Vector512.Load(c + 10 * ldc)).Store(c + 10 * ldc);
                (va * c110 + vb * Vector512.Load(c + 11 * ldc)).Store(c + 11 * ldc);
            }
        }
    }

    // The tile's rows onto C (the rows past TRows are never stored, and the JIT drops them).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreTile(T* c, nint ldc, T alpha, T beta,
        Vector512<T> c00, Vector512<T> c01, Vector512<T> c10, Vector512<T> c11, Vector512<T> c20, Vector512<T> c21,
        Vector512<T> c30, Vector512<T> c31, Vector512<T> c40, Vector512<T> c41, Vector512<T> c50, Vector512<T> c51,
        Vector512<T> c60, Vector512<T> c61, Vector512<T> c70, Vector512<T> c71, Vector512<T> c80, Vector512<T> c81,
        Vector512<T> c90, Vector512<T> c91, Vector512<T> c100, Vector512<T> c101, Vector512<T> c110, Vector512<T> c111)
    {
        Vector512<T> va = Vector512.Create(alpha);
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
            Vector512<T> vb = Vector512.Create(beta);
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
    static void StoreRow(T* c, Vector512<T> x0, Vector512<T> x1, Vector512<T> va)
    {
        (va * x0).Store(c);
        (va * x1).Store(c + Vector512<T>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(T* c, Vector512<T> x0, Vector512<T> x1, Vector512<T> va, Vector512<T> vb)
    {
        (va * x0 + vb * Vector512.Load(c)).Store(c);
        (va * x1 + vb * Vector512.Load(c + Vector512<T>.Count)).Store(c + Vector512<T>.Count);
    }
}
