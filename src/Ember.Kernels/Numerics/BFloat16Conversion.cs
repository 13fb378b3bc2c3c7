using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ember.Kernels.Numerics;

/// <summary>
/// Whole-span bfloat16 ↔ float32 conversions, vectorized on every SIMD width (Vector512, Vector256, Vector128) with a
/// scalar tail. Bit for bit the scalar casts of <see cref="BFloat16"/> (c10::BFloat16): widening puts the 16 bits on
/// top of a float32 (exact); narrowing rounds to nearest, ties to even, overflowing to ±inf, and every NaN becomes the
/// quiet NaN 0x7FC0. The counterpart of TensorPrimitives.ConvertToSingle/ConvertToHalf for float16.
/// </summary>
public static class BFloat16Conversion
{
    /// <summary>destination[i] = (float)source[i]. The spans must not overlap.</summary>
    public static void ToSingle(ReadOnlySpan<BFloat16> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"bfloat16 → float32: destination has {destination.Length} elements, source {source.Length}", nameof(destination));
        ref ushort s = ref Unsafe.As<BFloat16, ushort>(ref MemoryMarshal.GetReference(source));
        ref uint d = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        nuint n = (nuint)source.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 32 <= n; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref s, i));
                Vector512.ShiftLeft(lo, 16).StoreUnsafe(ref d, i);
                Vector512.ShiftLeft(hi, 16).StoreUnsafe(ref d, i + 16);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref s, i));
                Vector256.ShiftLeft(lo, 16).StoreUnsafe(ref d, i);
                Vector256.ShiftLeft(hi, 16).StoreUnsafe(ref d, i + 8);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref s, i));
                Vector128.ShiftLeft(lo, 16).StoreUnsafe(ref d, i);
                Vector128.ShiftLeft(hi, 16).StoreUnsafe(ref d, i + 4);
            }
        for (; i < n; i++) Unsafe.Add(ref d, i) = (uint)Unsafe.Add(ref s, i) << 16;
    }

    /// <summary>destination[i] = (BFloat16)source[i]: round to nearest even, NaN → 0x7FC0. The spans must not overlap.</summary>
    public static void FromSingle(ReadOnlySpan<float> source, Span<BFloat16> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"float32 → bfloat16: destination has {destination.Length} elements, source {source.Length}", nameof(destination));
        ref uint s = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(source));
        ref ushort d = ref Unsafe.As<BFloat16, ushort>(ref MemoryMarshal.GetReference(destination));
        nuint n = (nuint)source.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 32 <= n; i += 32)
                Vector512.Narrow(Round(Vector512.LoadUnsafe(ref s, i)), Round(Vector512.LoadUnsafe(ref s, i + 16))).StoreUnsafe(ref d, i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
                Vector256.Narrow(Round(Vector256.LoadUnsafe(ref s, i)), Round(Vector256.LoadUnsafe(ref s, i + 8))).StoreUnsafe(ref d, i);
        if (Vector128.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
                Vector128.Narrow(Round(Vector128.LoadUnsafe(ref s, i)), Round(Vector128.LoadUnsafe(ref s, i + 4))).StoreUnsafe(ref d, i);
        for (; i < n; i++) Unsafe.Add(ref d, i) = Round(Unsafe.Add(ref s, i));
    }

    // c10::detail::round_to_nearest_even on the bits: add 0x7FFF plus the lowest kept bit, keep the top half. A NaN
    // could carry into the sign or lose its payload, so NaNs (|u| > inf's bits, a signed compare as |u| < 2³¹) are
    // replaced by the canonical quiet NaN. The result fits 16 bits, so Narrow's truncation keeps it whole.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> Round(Vector512<uint> u)
    {
        var rounded = (u + Vector512.Create(0x7FFFu) + ((u >> 16) & Vector512<uint>.One)) >> 16;
        var nan = Vector512.GreaterThan((u & Vector512.Create(0x7FFFFFFFu)).AsInt32(), Vector512.Create(0x7F800000)).AsUInt32();
        return Vector512.ConditionalSelect(nan, Vector512.Create(0x7FC0u), rounded);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> Round(Vector256<uint> u)
    {
        var rounded = (u + Vector256.Create(0x7FFFu) + ((u >> 16) & Vector256<uint>.One)) >> 16;
        var nan = Vector256.GreaterThan((u & Vector256.Create(0x7FFFFFFFu)).AsInt32(), Vector256.Create(0x7F800000)).AsUInt32();
        return Vector256.ConditionalSelect(nan, Vector256.Create(0x7FC0u), rounded);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<uint> Round(Vector128<uint> u)
    {
        var rounded = (u + Vector128.Create(0x7FFFu) + ((u >> 16) & Vector128<uint>.One)) >> 16;
        var nan = Vector128.GreaterThan((u & Vector128.Create(0x7FFFFFFFu)).AsInt32(), Vector128.Create(0x7F800000)).AsUInt32();
        return Vector128.ConditionalSelect(nan, Vector128.Create(0x7FC0u), rounded);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ushort Round(uint u) => (u & 0x7FFFFFFF) > 0x7F800000 ? (ushort)0x7FC0 : (ushort)((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}
