using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ember.Kernels.Conv;

/// <summary>
/// Short-row copies at every vector width, for the convolution kernels' AVX2 and Vector128 paths (their multiply-adds
/// are <see cref="Operators.VectorMath"/>'s, shared with the GEMM micro-kernels).
/// </summary>
internal static unsafe class ConvVectors
{
    /// <summary>
    /// dst[0..count) = src[0..count) with the widest accelerated vectors, then narrower ones. Image rows are short (28
    /// floats at 28×28): a Memmove call per row costs as much as the copy, and an unaccelerated Vector512 is emulated.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyShort<T>(T* src, T* dst, int count) where T : unmanaged
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + Vector512<T>.Count <= count; j += Vector512<T>.Count) Vector512.Store(Vector512.Load(src + j), dst + j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + Vector256<T>.Count <= count; j += Vector256<T>.Count) Vector256.Store(Vector256.Load(src + j), dst + j);
        if (Vector128.IsHardwareAccelerated)
            for (; j + Vector128<T>.Count <= count; j += Vector128<T>.Count) Vector128.Store(Vector128.Load(src + j), dst + j);
        for (; j < count; j++) dst[j] = src[j];
    }

    /// <summary>dst[0..count) = src[0..count) + value, the widest accelerated vectors first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddShort<T>(T* src, T value, T* dst, int count) where T : unmanaged, System.Numerics.INumber<T>
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var v = Vector512.Create(value);
            for (; j + Vector512<T>.Count <= count; j += Vector512<T>.Count) Vector512.Store(Vector512.Load(src + j) + v, dst + j);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var v = Vector256.Create(value);
            for (; j + Vector256<T>.Count <= count; j += Vector256<T>.Count) Vector256.Store(Vector256.Load(src + j) + v, dst + j);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var v = Vector128.Create(value);
            for (; j + Vector128<T>.Count <= count; j += Vector128<T>.Count) Vector128.Store(Vector128.Load(src + j) + v, dst + j);
        }
        for (; j < count; j++) dst[j] = src[j] + value;
    }

    /// <summary>
    /// dst[0..count) = src[0], src[2], …, src[2·(count − 1)]: one phase of a stride-2 row (the strided convolution's phase
    /// split). Reads nothing past src[2·(count − 1)]: a vector step runs only while its last lane, src[2j + 2V − 1], lies
    /// before that element, so the last row of a buffer is safe.
    /// </summary>
    public static void EvenShort<T>(T* src, T* dst, int count) where T : unmanaged
    {
        int j = 0;
        if (typeof(T) == typeof(float))
        {
            float* s = (float*)src, d = (float*)dst;
            if (Avx512F.IsSupported)
            {
                var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
                for (; j + 16 < count; j += 16)
                    Avx512F.PermuteVar16x32x2(Vector512.Load(s + 2 * j), even, Vector512.Load(s + 2 * j + 16)).Store(d + j);
            }
            if (Avx2.IsSupported)
                for (; j + 8 < count; j += 8)
                {
                    // [a0 a2 b0 b2 | a4 a6 b4 b6], then the 64-bit pairs reordered to [a0 a2 a4 a6 b0 b2 b4 b6].
                    var pairs = Avx.Shuffle(Vector256.Load(s + 2 * j), Vector256.Load(s + 2 * j + 8), 0b10_00_10_00);
                    Avx2.Permute4x64(pairs.AsDouble(), 0b11_01_10_00).AsSingle().Store(d + j);
                }
            for (; j < count; j++) d[j] = s[2 * j];
            return;
        }
        if (typeof(T) == typeof(double) && Avx512F.IsSupported)
        {
            double* s = (double*)src, d = (double*)dst;
            var even = Vector512.Create(0L, 2, 4, 6, 8, 10, 12, 14);
            for (; j + 8 < count; j += 8)
                Avx512F.PermuteVar8x64x2(Vector512.Load(s + 2 * j), even, Vector512.Load(s + 2 * j + 8)).Store(d + j);
        }
        for (; j < count; j++) dst[j] = src[2 * j];
    }
}
