using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
}
