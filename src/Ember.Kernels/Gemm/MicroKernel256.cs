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
/// Every entry point, and <see cref="MicroKernel256Rows4{T}"/>'s, is the one loop of <see cref="Tile{TRows, TB}"/>.
/// </summary>
internal readonly unsafe struct MicroKernel256<T> : IMicroKernel<T> where T : unmanaged, INumber<T>
{
    public static int MR => Rows6.Value;

    public static int NR => 2 * Vector256<T>.Count;

    // The fixed split, not the team, as for the AVX-512 kernels: 2 threads, wall ms per call, the two alternating call
    // by call in one process, quiet Zen 5 (load 0.8-1.0, 3 rounds, 2026-12-07): 384² 0.55 → 0.49, 512² 1.20 → 1.16,
    // 768² 3.95 → 3.51, 1024² 9.66 → 8.82, 9.04 → 8.64, 9.35 → 8.93, 1536² 30.3 → 29.8, 2048² 69.6 → 68.4, 70.2 → 69.0,
    // 71.1 → 70.0 (team → split), and 9-10 % less CPU under load, where the team spins for a descheduled partner
    // (docs/bench-logs/2026-12-07-session32-s32-gemm-ab.txt). Session 20 read a tie on a loaded machine.
    public static bool SharesPacking => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta) =>
        Tile<Rows6, StridedB>(kc, a, 1, MR, b, NR, null, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        Tile<Rows6, StridedB>(kc, a, 1, aStride, b, bStride, null, c, ldc, alpha, beta);

    public static bool ReadsRowsOfA => true;

    /// <summary>
    /// <see cref="RunStrided"/> with the six rows of A read where they lie, lda apart, so no transposing pack of A
    /// (about 2 cycles per element, a fifth of the product at N = 128).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunRowsOfA(nint kc, T* a, nint lda, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        Tile<Rows6, StridedB>(kc, a, lda, 1, b, bStride, null, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        Tile<Rows6, IndexedB>(kc, a, 1, MR, b, 0, offsets, c, ldc, alpha, beta);

    public static int ShortMR => Rows4.Value;

    /// <summary>
    /// <see cref="RunIndexed"/> on 4 rows (A packed 4 values per k): 8 accumulators, the same multiply-add chain per C
    /// element. 64 output channels are 10 six-row tiles and one of these, not 11 tiles of which the last is a third empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunIndexedShort(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        Tile<Rows4, IndexedB>(kc, a, 1, ShortMR, b, 0, offsets, c, ldc, alpha, beta);

    /// <summary>
    /// The tile loop: C[0..TRows, 0..NR] = alpha·Σp A[r, p]·B[p, ·] (+ beta·C), row r's A value of step p at
    /// a[r·<paramref name="rowStride"/> + p·<paramref name="stepStride"/>] (a panel or a transposed A: 1 and its stride;
    /// rows of A: lda and 1) and step p's B row where <typeparamref name="TB"/> says. Two row pointers, each for three
    /// rows at 0, rowStride and 2·rowStride, so that every broadcast is one load from [row + 0|1|2·l] whatever the
    /// source, and the loop keeps its general registers. Rows 4 and 5 are guarded by <typeparamref name="TRows"/>, a
    /// constant in each instantiation, so the JIT drops them where the tile has 4 rows. Kept out of line: the driver's
    /// loops call it once per tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void Tile<TRows, TB>(nint kc, T* a, nint rowStride, nint stepStride, T* b, nint bStride, int* offsets,
        T* c, nint ldc, T alpha, T beta)
        where TRows : struct, ITileRows
        where TB : struct, IBSource
    {
        TilePrefetch.Rows(c, ldc, TRows.Value, 2 * Vector256<T>.Count * sizeof(T));
        nint l = rowStride * sizeof(T), step = stepStride * sizeof(T);
        byte* r0 = (byte*)a, r3 = r0 + 3 * l;
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
            T* row = TB.Indexed ? b + offsets[p] : b;
            Vector256<T> b0 = Vector256.Load(row);
            Vector256<T> b1 = Vector256.Load(row + Vector256<T>.Count);
            a0 = Vector256.Create(*(T*)r0);
            c00 = VectorMath.MultiplyAdd(a0, b0, c00);
            c01 = VectorMath.MultiplyAdd(a0, b1, c01);
            a1 = Vector256.Create(*(T*)(r0 + l));
            c10 = VectorMath.MultiplyAdd(a1, b0, c10);
            c11 = VectorMath.MultiplyAdd(a1, b1, c11);
            a0 = Vector256.Create(*(T*)(r0 + 2 * l));
            c20 = VectorMath.MultiplyAdd(a0, b0, c20);
            c21 = VectorMath.MultiplyAdd(a0, b1, c21);
            a1 = Vector256.Create(*(T*)r3);
            c30 = VectorMath.MultiplyAdd(a1, b0, c30);
            c31 = VectorMath.MultiplyAdd(a1, b1, c31);
            if (TRows.Value > 4)
            {
                a0 = Vector256.Create(*(T*)(r3 + l));
                c40 = VectorMath.MultiplyAdd(a0, b0, c40);
                c41 = VectorMath.MultiplyAdd(a0, b1, c41);
                a1 = Vector256.Create(*(T*)(r3 + 2 * l));
                c50 = VectorMath.MultiplyAdd(a1, b0, c50);
                c51 = VectorMath.MultiplyAdd(a1, b1, c51);
            }
            r0 += step;
            r3 += step;
            if (!TB.Indexed) b += bStride;
        }

        // alpha·acc (+ beta·C) as separate multiplies and an add, exactly like the scalar edge path, so a C element gets
        // the same bits whether its tile was full or an edge tile (the rows past TRows are never stored).
        Vector256<T> va = Vector256.Create(alpha);
        if (beta == T.Zero)
        {
            StoreRow(c + 0 * ldc, c00, c01, va);
            StoreRow(c + 1 * ldc, c10, c11, va);
            StoreRow(c + 2 * ldc, c20, c21, va);
            StoreRow(c + 3 * ldc, c30, c31, va);
            if (TRows.Value > 4)
            {
                StoreRow(c + 4 * ldc, c40, c41, va);
                StoreRow(c + 5 * ldc, c50, c51, va);
            }
        }
        else
        {
            Vector256<T> vb = Vector256.Create(beta);
            StoreRow(c + 0 * ldc, c00, c01, va, vb);
            StoreRow(c + 1 * ldc, c10, c11, va, vb);
            StoreRow(c + 2 * ldc, c20, c21, va, vb);
            StoreRow(c + 3 * ldc, c30, c31, va, vb);
            if (TRows.Value > 4)
            {
                StoreRow(c + 4 * ldc, c40, c41, va, vb);
                StoreRow(c + 5 * ldc, c50, c51, va, vb);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(T* c, Vector256<T> x0, Vector256<T> x1, Vector256<T> va)
    {
        Vector256.Store(va * x0, c);
        Vector256.Store(va * x1, c + Vector256<T>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(T* c, Vector256<T> x0, Vector256<T> x1, Vector256<T> va, Vector256<T> vb)
    {
        Vector256.Store(va * x0 + vb * Vector256.Load(c), c);
        Vector256.Store(va * x1 + vb * Vector256.Load(c + Vector256<T>.Count), c + Vector256<T>.Count);
    }
}
