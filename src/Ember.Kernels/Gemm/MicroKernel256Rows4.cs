using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ember.Kernels.Gemm;

/// <summary>
/// 4×(2·Vector256&lt;T&gt;.Count) micro-kernel, AVX2: the rows of a product past the last whole 6-row tile of
/// <see cref="MicroKernel256{T}"/> where A is read in place (M mod 6 = 4: one tile, 2: two; GemmDriver.ShortTailRows),
/// so that they need no packed, zero-padded 6-row tile and no store through the scratch tile. The 6-row kernel's loop
/// at 4 rows (<see cref="MicroKernel256{T}.Tile{TRows, TB}"/>): the same multiply-add chain per C element, so the same bits.
/// </summary>
internal readonly unsafe struct MicroKernel256Rows4<T> : IMicroKernel<T> where T : unmanaged, INumber<T>
{
    public static int MR => Rows4.Value;

    public static int NR => 2 * Vector256<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta) =>
        MicroKernel256<T>.Tile<Rows4, StridedB>(kc, a, 1, MR, b, NR, null, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        MicroKernel256<T>.Tile<Rows4, StridedB>(kc, a, 1, aStride, b, bStride, null, c, ldc, alpha, beta);

    public static bool ReadsRowsOfA => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunRowsOfA(nint kc, T* a, nint lda, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        MicroKernel256<T>.Tile<Rows4, StridedB>(kc, a, lda, 1, b, bStride, null, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        MicroKernel256<T>.RunIndexedShort(kc, a, b, offsets, c, ldc, alpha, beta);
}
