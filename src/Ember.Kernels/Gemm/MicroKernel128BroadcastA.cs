using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ember.Kernels.Gemm;

/// <summary>
/// The 6×(2·Vector128&lt;T&gt;.Count) micro-kernel of <see cref="MicroKernel128{T}"/> over an A panel packed with each
/// value already broadcast to a whole vector (<see cref="ACopies"/> copies), for x86 without FMA (the Vector128 path of
/// a machine run with AVX2 off). There every multiply-add is a multiply and an add, and the JIT broadcasts a value from
/// memory with a load and a shuffle (vmovss, vpermilps): six shuffles beside twelve multiplies and twelve adds on the
/// same ports. A broadcast packed once per A block is a plain load, for the load ports: 1.2x at 256²-1024² on one
/// thread of this Intel Xeon (SPR class). Where AVX is on, the plain kernel broadcasts float with AVX's vbroadcastss,
/// a plain load too, so this kernel runs there only for depths whose four-fold A sliver fits half of L1
/// (<see cref="GemmDriver.BroadcastSliverFits"/>). Same multiplies and adds per C element as
/// <see cref="MicroKernel128{T}"/>, so the same bits.
/// </summary>
internal readonly unsafe struct MicroKernel128BroadcastA<T> : IMicroKernel<T> where T : unmanaged, INumber<T>
{
    public static int MR => 6;

    public static int NR => 2 * Vector128<T>.Count;

    public static int ACopies => Vector128<T>.Count;

    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta) => RunStrided(kc, a, MR * ACopies, b, NR, c, ldc, alpha, beta);

    /// <summary>
    /// <see cref="IMicroKernel{T}.RunStrided"/> over broadcast panels: the six A vectors of step p start at
    /// a + p·<paramref name="aStride"/> (a packed panel: MR·ACopies). The loop is <see cref="MicroKernel128{T}"/>'s.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        MicroKernel128<T>.Tile<VectorA, StridedB>(kc, a, aStride, b, bStride, null, c, ldc, alpha, beta);

    /// <summary>Row r's value as the r-th vector of the step: a plain load, no shuffle.</summary>
    readonly struct VectorA : MicroKernel128<T>.IBroadcastSource
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<T> Row(T* a, int r) => Vector128.Load(a + r * Vector128<T>.Count);
    }

    /// <summary>Not used: the convolutions pack A for <see cref="MicroKernel128{T}"/>, one value per row and step.</summary>
    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        throw new NotSupportedException("MicroKernel128BroadcastA serves the GEMM driver only; the convolutions use MicroKernel128");
}
