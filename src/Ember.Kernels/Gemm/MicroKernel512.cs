using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Gemm;

/// <summary>
/// 12×(2·Vector512&lt;T&gt;.Count) micro-kernel, the AVX-512 path: 24 zmm accumulators; the code is
/// <see cref="RegisterTile{T, TRows}"/>. Its short form is the 8-row tile (128 output channels: 10·12 + 8 rows, not 132).
/// </summary>
internal readonly unsafe struct MicroKernel512<T> : IMicroKernel<T> where T : unmanaged, INumber<T>
{
    public static int MR => Rows12.Value;

    public static int NR => 2 * Vector512<T>.Count;

    // The fixed split, not the team: 2 threads, wall time per call with the two alternating call by call in one process
    // (ABBA, AVX-512, load ~3.2 on this 2-core Zen 5, 2026-12-05): median 384² 0.40 → 0.32 ms, 512² 1.17 → 0.73,
    // 768² 4.29 → 4.00, 1024² 12.1 → 10.6, 1536² 36.1 → 33.7, 2048² 97.8 → 87.4 ms (team → fixed split); the team's
    // block syncs cost more than the second packing at this kernel's speed; the AVX2 and Vector128 kernels tied
    // (docs/bench-logs/2026-12-05-session20-s20-gemm-ab.txt).
    public static bool SharesPacking => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta) =>
        RegisterTile<T, Rows12>.RunStrided(kc, a, MR, b, NR, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        RegisterTile<T, Rows12>.RunStrided(kc, a, aStride, b, bStride, c, ldc, alpha, beta);

    public static bool ReadsRowsOfA => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunRowsOfA(nint kc, T* a, nint lda, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        RegisterTile<T, Rows12>.RunRowsOfA(kc, a, lda, b, bStride, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        RegisterTile<T, Rows12>.RunIndexed(kc, a, b, offsets, c, ldc, alpha, beta);

    public static int NarrowNR => Vector512<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunIndexedNarrow(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        RegisterTile<T, Rows12>.RunIndexedOneVector(kc, a, b, offsets, c, ldc, alpha, beta);

    public static int ShortMR => Rows8.Value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunIndexedShort(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        RegisterTile<T, Rows8>.RunIndexed(kc, a, b, offsets, c, ldc, alpha, beta);
}
