using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Gemm;

/// <summary>
/// 6×(2·Vector128&lt;T&gt;.Count) micro-kernel: 12 accumulators plus two B vectors and a broadcast fit the register file.
/// The accumulators are plain locals stored straight to C, so the JIT keeps them in registers (copying them into a
/// stack array after the loop made it spill all of them on every iteration).
/// The rows are spelled out because only named locals stay in registers; arrays or spans of vectors spill.
/// </summary>
internal readonly unsafe struct MicroKernel128<T> : IMicroKernel<T> where T : unmanaged, INumber<T>
{
    public static int MR => 6;

    public static int NR => 2 * Vector128<T>.Count;

    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta) => RunStrided(kc, a, MR, b, NR, c, ldc, alpha, beta);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        Tile<ScalarA, StridedB>(kc, a, aStride, b, bStride, null, c, ldc, alpha, beta);

    /// <summary>
    /// The tile loop over an A read through <typeparamref name="TA"/>: value by value (<see cref="ScalarA"/>, a
    /// broadcast per row and step) or as ready broadcasts (<see cref="MicroKernel128BroadcastA{T}"/>), and step p's B row
    /// where <typeparamref name="TB"/> says. The JIT compiles one loop per pair of sources, with the reads inlined. Kept
    /// out of line: inlined into the driver's loops, it kept the driver's locals across its k loop and spilled and
    /// reloaded three of them on every step.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void Tile<TA, TB>(nint kc, T* a, nint aStride, T* b, nint bStride, int* offsets, T* c, nint ldc, T alpha, T beta)
        where TA : struct, IBroadcastSource
        where TB : struct, IBSource
    {
        Vector128<T>
            c00 = default, c01 = default,
            c10 = default, c11 = default,
            c20 = default, c21 = default,
            c30 = default, c31 = default,
            c40 = default, c41 = default,
            c50 = default, c51 = default;
        Vector128<T> a0, a1;
        for (nint p = 0; p < kc; p++)
        {
            T* row = TB.Indexed ? b + offsets[p] : b;
            Vector128<T> b0 = Vector128.Load(row);
            Vector128<T> b1 = Vector128.Load(row + Vector128<T>.Count);
            a0 = TA.Row(a, 0);
            c00 = VectorMath.MultiplyAdd(a0, b0, c00);
            c01 = VectorMath.MultiplyAdd(a0, b1, c01);
            a1 = TA.Row(a, 1);
            c10 = VectorMath.MultiplyAdd(a1, b0, c10);
            c11 = VectorMath.MultiplyAdd(a1, b1, c11);
            a0 = TA.Row(a, 2);
            c20 = VectorMath.MultiplyAdd(a0, b0, c20);
            c21 = VectorMath.MultiplyAdd(a0, b1, c21);
            a1 = TA.Row(a, 3);
            c30 = VectorMath.MultiplyAdd(a1, b0, c30);
            c31 = VectorMath.MultiplyAdd(a1, b1, c31);
            a0 = TA.Row(a, 4);
            c40 = VectorMath.MultiplyAdd(a0, b0, c40);
            c41 = VectorMath.MultiplyAdd(a0, b1, c41);
            a1 = TA.Row(a, 5);
            c50 = VectorMath.MultiplyAdd(a1, b0, c50);
            c51 = VectorMath.MultiplyAdd(a1, b1, c51);
            a += aStride;
            if (!TB.Indexed) b += bStride;
        }
        StoreTile(c, ldc, alpha, beta, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    /// <summary>How a tile loop reads row r's A value of a step at <c>a</c>, as a vector of that value.</summary>
    internal interface IBroadcastSource
    {
        static abstract Vector128<T> Row(T* a, int r);
    }

    /// <summary>
    /// One value per row: a broadcast of a[r]. Where AVX is on but AVX2 is off (the Vector128 path of an x86 machine),
    /// the JIT writes Vector128.Create from memory as a load and a shuffle (vmovss, vpermilps), six shuffles a step on
    /// the ports the multiplies and adds need; AVX's vbroadcastss from memory is a plain load.
    /// </summary>
    internal readonly struct ScalarA : IBroadcastSource
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<T> Row(T* a, int r) =>
            typeof(T) == typeof(float) && Avx.IsSupported ? Avx.BroadcastScalarToVector128((float*)(a + r)).As<float, T>() : Vector128.Create(a[r]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        Tile<ScalarA, IndexedB>(kc, a, MR, b, 0, offsets, c, ldc, alpha, beta);

    // The tile's rows onto C.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreTile(T* c, nint ldc, T alpha, T beta,
        Vector128<T> c00, Vector128<T> c01, Vector128<T> c10, Vector128<T> c11, Vector128<T> c20, Vector128<T> c21,
        Vector128<T> c30, Vector128<T> c31, Vector128<T> c40, Vector128<T> c41, Vector128<T> c50, Vector128<T> c51)
    {
        Vector128<T> va = Vector128.Create(alpha);
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
            Vector128<T> vb = Vector128.Create(beta);
            StoreRow(c + 0 * ldc, c00, c01, va, vb);
            StoreRow(c + 1 * ldc, c10, c11, va, vb);
            StoreRow(c + 2 * ldc, c20, c21, va, vb);
            StoreRow(c + 3 * ldc, c30, c31, va, vb);
            StoreRow(c + 4 * ldc, c40, c41, va, vb);
            StoreRow(c + 5 * ldc, c50, c51, va, vb);
        }
    }

    // alpha·acc (+ beta·C) as separate multiplies and an add, exactly like the scalar edge path, so a C element gets the
    // same bits whether its tile was full or an edge tile.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(T* c, Vector128<T> x0, Vector128<T> x1, Vector128<T> va)
    {
        Vector128.Store(va * x0, c);
        Vector128.Store(va * x1, c + Vector128<T>.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(T* c, Vector128<T> x0, Vector128<T> x1, Vector128<T> va, Vector128<T> vb)
    {
        Vector128.Store(va * x0 + vb * Vector128.Load(c), c);
        Vector128.Store(va * x1 + vb * Vector128.Load(c + Vector128<T>.Count), c + Vector128<T>.Count);
    }
}
