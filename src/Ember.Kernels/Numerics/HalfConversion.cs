using System.Runtime.InteropServices;

namespace Ember.Kernels.Numerics;

/// <summary>
/// float16/bfloat16 ↔ float32 for kernels written once over the half element type: <see cref="Half"/> goes through
/// <see cref="Float16Conversion"/>, <see cref="BFloat16"/> through <see cref="BFloat16Conversion"/> (the same conversions as the
/// tensors' casts, so widening is exact and rounding is the cast's round-to-nearest-even).
/// </summary>
public static class HalfConversion
{
    /// <summary>destination[i] = (float)source[i].</summary>
    public static void ToSingle<THalf>(ReadOnlySpan<THalf> source, Span<float> destination) where THalf : unmanaged
    {
        if (typeof(THalf) == typeof(BFloat16)) BFloat16Conversion.ToSingle(MemoryMarshal.Cast<THalf, BFloat16>(source), destination);
        else if (typeof(THalf) == typeof(Half)) Float16Conversion.ToSingle(MemoryMarshal.Cast<THalf, Half>(source), destination);
        else throw Unsupported<THalf>();
    }

    /// <summary>destination[i] = (THalf)source[i], rounded to nearest even.</summary>
    public static void FromSingle<THalf>(ReadOnlySpan<float> source, Span<THalf> destination) where THalf : unmanaged
    {
        if (typeof(THalf) == typeof(BFloat16)) BFloat16Conversion.FromSingle(source, MemoryMarshal.Cast<THalf, BFloat16>(destination));
        else if (typeof(THalf) == typeof(Half)) Float16Conversion.FromSingle(source, MemoryMarshal.Cast<THalf, Half>(destination));
        else throw Unsupported<THalf>();
    }

    static NotSupportedException Unsupported<THalf>() => new($"half conversion: expected a Half or BFloat16 element type, got {typeof(THalf).Name}");
}
