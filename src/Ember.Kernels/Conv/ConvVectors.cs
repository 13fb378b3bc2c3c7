using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ember.Kernels.Conv;

/// <summary>
/// Multiply-add and short-row copies at every vector width, for the convolution kernels' AVX2 and Vector128 paths.
/// MultiplyAddEstimate is a hardware FMA where there is one (x64 with FMA, ARM64) and a multiply then add elsewhere:
/// the same choice as the GEMM micro-kernels, so a path never runs a software-emulated fused operation.
/// </summary>
internal static unsafe class ConvVectors
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MultiplyAdd<T>(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector256.MultiplyAddEstimate(x.As<T, float>(), y.As<T, float>(), acc.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector256.MultiplyAddEstimate(x.As<T, double>(), y.As<T, double>(), acc.As<T, double>()).As<double, T>();
        return x * y + acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MultiplyAdd<T>(Vector128<T> x, Vector128<T> y, Vector128<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector128.MultiplyAddEstimate(x.As<T, float>(), y.As<T, float>(), acc.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector128.MultiplyAddEstimate(x.As<T, double>(), y.As<T, double>(), acc.As<T, double>()).As<double, T>();
        return x * y + acc;
    }

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
