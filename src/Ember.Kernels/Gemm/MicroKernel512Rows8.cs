using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Gemm;

/// <summary>8×(2·Vector512&lt;T&gt;.Count) micro-kernel, AVX-512 for row counts that are multiples of 8 but not of 12 (32 or 64 output channels: 12-row panels would compute 36 or 72 rows); the code is <see cref="RegisterTile{T, TRows}"/>.</summary>
internal readonly unsafe struct MicroKernel512Rows8<T> : IMicroKernel<T> where T : unmanaged, INumber<T>
{
    public static int MR => Rows8.Value;

    public static int NR => 2 * Vector512<T>.Count;

    // As the 12-row kernel (MicroKernel512.SharesPacking): the fixed split, not the team.
    public static bool SharesPacking => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta) =>
        RegisterTile<T, Rows8>.RunStrided(kc, a, MR, b, NR, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        RegisterTile<T, Rows8>.RunStrided(kc, a, aStride, b, bStride, c, ldc, alpha, beta);

    public static bool ReadsRowsOfA => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunRowsOfA(nint kc, T* a, nint lda, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        RegisterTile<T, Rows8>.RunRowsOfA(kc, a, lda, b, bStride, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        RegisterTile<T, Rows8>.RunIndexed(kc, a, b, offsets, c, ldc, alpha, beta);

    public static int NarrowNR => Vector512<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunIndexedNarrow(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        RegisterTile<T, Rows8>.RunIndexedOneVector(kc, a, b, offsets, c, ldc, alpha, beta);
}
