using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ember.Kernels.Numerics;

/// <summary>
/// Whole-span float16 ↔ float32 conversions, vectorized on every SIMD width (Vector512, Vector256, Vector128) with a
/// scalar tail: the float16 counterpart of <see cref="BFloat16Conversion"/>. Bit for bit TensorPrimitives.ConvertToSingle
/// and ConvertToHalf (and the scalar casts of <see cref="Half"/>): widening is exact, a NaN comes out quiet; narrowing
/// rounds to nearest, ties to even, overflows to ±inf, and a NaN stays a NaN: quiet, with its sign and the top 10 bits
/// of its payload.
/// </summary>
/// <remarks>
/// Why not TensorPrimitives: its float16 conversions go through generic operator layers whose per-call type tests and
/// tuple returns (perf, session 14: ConvertTruncating, IsInt32Like, a Vector128 tuple widening) made an fp16 autocast
/// step pay about 9% in conversions where bf16 paid 5.7% for the same passes.
/// </remarks>
public static class Float16Conversion
{
    /// <summary>destination[i] = (float)source[i]. The spans must not overlap.</summary>
    public static void ToSingle(ReadOnlySpan<Half> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"float16 → float32: destination has {destination.Length} elements, source {source.Length}", nameof(destination));
        ref ushort s = ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(source));
        ref uint d = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        nuint n = (nuint)source.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 32 <= n; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref s, i));
                Widen(lo).StoreUnsafe(ref d, i);
                Widen(hi).StoreUnsafe(ref d, i + 16);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref s, i));
                Widen(lo).StoreUnsafe(ref d, i);
                Widen(hi).StoreUnsafe(ref d, i + 8);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref s, i));
                Widen(lo).StoreUnsafe(ref d, i);
                Widen(hi).StoreUnsafe(ref d, i + 4);
            }
        for (; i < n; i++) Unsafe.Add(ref d, i) = BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf(Unsafe.Add(ref s, i)));
    }

    /// <summary>destination[i] = (Half)source[i]: round to nearest even, a NaN quiet with its payload's top bits. The spans must not overlap.</summary>
    public static void FromSingle(ReadOnlySpan<float> source, Span<Half> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"float32 → float16: destination has {destination.Length} elements, source {source.Length}", nameof(destination));
        ref uint s = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(source));
        ref ushort d = ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(destination));
        nuint n = (nuint)source.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 32 <= n; i += 32)
                Vector512.Narrow(Narrow(Vector512.LoadUnsafe(ref s, i)), Narrow(Vector512.LoadUnsafe(ref s, i + 16))).StoreUnsafe(ref d, i);
        if (Vector256.IsHardwareAccelerated)
            for (; i + 16 <= n; i += 16)
                Vector256.Narrow(Narrow(Vector256.LoadUnsafe(ref s, i)), Narrow(Vector256.LoadUnsafe(ref s, i + 8))).StoreUnsafe(ref d, i);
        if (Vector128.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8)
                Vector128.Narrow(Narrow(Vector128.LoadUnsafe(ref s, i)), Narrow(Vector128.LoadUnsafe(ref s, i + 4))).StoreUnsafe(ref d, i);
        for (; i < n; i++) Unsafe.Add(ref d, i) = Narrow(Unsafe.Add(ref s, i));
    }

    // float16 → float32, exact (every float16 is a float32). Exponent and mantissa move up 13 bits and the exponent is
    // rebased by 127 − 15 (0x38000000); infinities and NaNs (exponent all ones) get float32's all-ones exponent and the
    // mantissa moved up, a NaN also the quiet bit (as the cast and TensorPrimitives do: a signalling NaN comes out
    // quiet); subnormals (exponent zero) are mantissa · 2⁻²⁴, computed exactly as (2⁻¹⁴ + mantissa · 2⁻²⁴) − 2⁻¹⁴ on
    // the bits 0x38800000 + (mantissa ≪ 13) (zero gives +0). The sign goes on last. Input: one float16 per 32-bit lane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> Widen(Vector512<uint> h)
    {
        var magnitude = (h & Vector512.Create(0x7FFFu)) << 13;
        var exponent = h & Vector512.Create(0x7C00u);
        var normal = magnitude + Vector512.Create(0x38000000u);
        var quiet = ~Vector512.Equals(h & Vector512.Create(0x3FFu), Vector512<uint>.Zero) & Vector512.Create(0x400000u);
        var special = magnitude | Vector512.Create(0x7F800000u) | quiet;
        var subnormal = (Vector512.Create(0x38800000u) + magnitude).AsSingle() - Vector512.Create(0x38800000u).AsSingle();
        var result = Vector512.ConditionalSelect(Vector512.Equals(exponent, Vector512.Create(0x7C00u)), special, normal);
        result = Vector512.ConditionalSelect(Vector512.Equals(exponent, Vector512<uint>.Zero), subnormal.AsUInt32(), result);
        return result | ((h & Vector512.Create(0x8000u)) << 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> Widen(Vector256<uint> h)
    {
        var magnitude = (h & Vector256.Create(0x7FFFu)) << 13;
        var exponent = h & Vector256.Create(0x7C00u);
        var normal = magnitude + Vector256.Create(0x38000000u);
        var quiet = ~Vector256.Equals(h & Vector256.Create(0x3FFu), Vector256<uint>.Zero) & Vector256.Create(0x400000u);
        var special = magnitude | Vector256.Create(0x7F800000u) | quiet;
        var subnormal = (Vector256.Create(0x38800000u) + magnitude).AsSingle() - Vector256.Create(0x38800000u).AsSingle();
        var result = Vector256.ConditionalSelect(Vector256.Equals(exponent, Vector256.Create(0x7C00u)), special, normal);
        result = Vector256.ConditionalSelect(Vector256.Equals(exponent, Vector256<uint>.Zero), subnormal.AsUInt32(), result);
        return result | ((h & Vector256.Create(0x8000u)) << 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<uint> Widen(Vector128<uint> h)
    {
        var magnitude = (h & Vector128.Create(0x7FFFu)) << 13;
        var exponent = h & Vector128.Create(0x7C00u);
        var normal = magnitude + Vector128.Create(0x38000000u);
        var quiet = ~Vector128.Equals(h & Vector128.Create(0x3FFu), Vector128<uint>.Zero) & Vector128.Create(0x400000u);
        var special = magnitude | Vector128.Create(0x7F800000u) | quiet;
        var subnormal = (Vector128.Create(0x38800000u) + magnitude).AsSingle() - Vector128.Create(0x38800000u).AsSingle();
        var result = Vector128.ConditionalSelect(Vector128.Equals(exponent, Vector128.Create(0x7C00u)), special, normal);
        result = Vector128.ConditionalSelect(Vector128.Equals(exponent, Vector128<uint>.Zero), subnormal.AsUInt32(), result);
        return result | ((h & Vector128.Create(0x8000u)) << 16);
    }

    // float32 → float16, round to nearest even, on the bits a of |x|. Normal results (a ≥ 2⁻¹⁴'s bits 0x38800000): the
    // exponent is rebased by 15 − 127 (adding 0xC8000000 wraps to it), then 0xFFF plus the lowest kept bit is added
    // before the 13 dropped bits go: a carry out of the mantissa steps the exponent, and from 65520 up reaches
    // 0x7C00 (inf) by itself. Subnormal results: |x| + 0.5 puts the 10 kept bits at the bottom of 0.5's mantissa and the
    // float adder rounds them to nearest even; subtracting 0.5's bits leaves the float16 bits (2⁻¹⁴ comes out as 0x400).
    // From 65536 up (inf included) the result is inf; a NaN becomes the quiet NaN 0x7E00 with the top 10 payload bits
    // (as TensorPrimitives and the cast). The sign goes on last. Output: one float16
    // per 32-bit lane, so Narrow's truncation keeps it whole.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> Narrow(Vector512<uint> u)
    {
        var a = u & Vector512.Create(0x7FFFFFFFu);
        var normal = (a + Vector512.Create(0xC8000FFFu) + ((a >> 13) & Vector512<uint>.One)) >> 13;
        var subnormal = (a.AsSingle() + Vector512.Create(0.5f)).AsUInt32() - Vector512.Create(0x3F000000u);
        var result = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(0x38800000u)), subnormal, normal);
        result = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(a, Vector512.Create(0x47800000u)), Vector512.Create(0x7C00u), result);
        result = Vector512.ConditionalSelect(Vector512.GreaterThan(a, Vector512.Create(0x7F800000u)), ((a >> 13) & Vector512.Create(0x3FFu)) | Vector512.Create(0x7E00u), result);
        return result | ((u >> 16) & Vector512.Create(0x8000u));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> Narrow(Vector256<uint> u)
    {
        var a = u & Vector256.Create(0x7FFFFFFFu);
        var normal = (a + Vector256.Create(0xC8000FFFu) + ((a >> 13) & Vector256<uint>.One)) >> 13;
        var subnormal = (a.AsSingle() + Vector256.Create(0.5f)).AsUInt32() - Vector256.Create(0x3F000000u);
        var result = Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(0x38800000u)), subnormal, normal);
        result = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(a, Vector256.Create(0x47800000u)), Vector256.Create(0x7C00u), result);
        result = Vector256.ConditionalSelect(Vector256.GreaterThan(a, Vector256.Create(0x7F800000u)), ((a >> 13) & Vector256.Create(0x3FFu)) | Vector256.Create(0x7E00u), result);
        return result | ((u >> 16) & Vector256.Create(0x8000u));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<uint> Narrow(Vector128<uint> u)
    {
        var a = u & Vector128.Create(0x7FFFFFFFu);
        var normal = (a + Vector128.Create(0xC8000FFFu) + ((a >> 13) & Vector128<uint>.One)) >> 13;
        var subnormal = (a.AsSingle() + Vector128.Create(0.5f)).AsUInt32() - Vector128.Create(0x3F000000u);
        var result = Vector128.ConditionalSelect(Vector128.LessThan(a, Vector128.Create(0x38800000u)), subnormal, normal);
        result = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(a, Vector128.Create(0x47800000u)), Vector128.Create(0x7C00u), result);
        result = Vector128.ConditionalSelect(Vector128.GreaterThan(a, Vector128.Create(0x7F800000u)), ((a >> 13) & Vector128.Create(0x3FFu)) | Vector128.Create(0x7E00u), result);
        return result | ((u >> 16) & Vector128.Create(0x8000u));
    }

    /// <summary>The float16 bits of the float32 bits <paramref name="u"/>, rounded as the vector forms.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ushort Narrow(uint u)
    {
        uint a = u & 0x7FFFFFFF;
        uint result = a > 0x7F800000 ? 0x7E00u | ((a >> 13) & 0x3FF)
            : a >= 0x47800000 ? 0x7C00u
            : a < 0x38800000 ? BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle(a) + 0.5f) - 0x3F000000u
            : (a + 0xC8000FFFu + ((a >> 13) & 1)) >> 13;
        return (ushort)(result | ((u >> 16) & 0x8000));
    }
}
