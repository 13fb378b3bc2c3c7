using System.Globalization;

namespace Ember.Kernels.Numerics;

/// <summary>
/// Brain floating point (torch.bfloat16): the upper 16 bits of a float32 (1 sign, 8 exponent, 7 mantissa bits).
/// .NET 10 has no System.Numerics.BFloat16, so this is ours. Conversions follow c10::BFloat16 exactly: float → bfloat16
/// rounds to nearest, ties to even, overflowing to ±inf, and every NaN becomes the canonical quiet NaN 0x7FC0.
/// Arithmetic is not offered: kernels widen to float32, compute, and round back, as PyTorch's CPU does.
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>, IComparable<BFloat16>, IFormattable
{
    /// <summary>The raw bits.</summary>
    public readonly ushort Bits;

    BFloat16(ushort bits) => Bits = bits;

    /// <summary>A value from its raw bits.</summary>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>Largest finite value, 3.3895e38.</summary>
    public static BFloat16 MaxValue => new(0x7F7F);
    /// <summary>Smallest positive normal value, 1.1755e-38.</summary>
    public static BFloat16 SmallestNormal => new(0x0080);
    /// <summary>Positive infinity.</summary>
    public static BFloat16 PositiveInfinity => new(0x7F80);
    /// <summary>Negative infinity.</summary>
    public static BFloat16 NegativeInfinity => new(0xFF80);
    /// <summary>The canonical quiet NaN (c10's 0x7FC0).</summary>
    public static BFloat16 NaN => new(0x7FC0);

    /// <summary>Round to nearest even (c10::detail::round_to_nearest_even).</summary>
    public static explicit operator BFloat16(float value)
    {
        if (float.IsNaN(value)) return new(0x7FC0);
        uint u = BitConverter.SingleToUInt32Bits(value);
        uint bias = ((u >> 16) & 1) + 0x7FFF;
        return new((ushort)((u + bias) >> 16));
    }

    /// <summary>Through float32 first, as c10 does (so a double can round twice).</summary>
    public static explicit operator BFloat16(double value) => (BFloat16)(float)value;

    /// <summary>Exact: the bits become the high half of a float32.</summary>
    public static implicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.Bits << 16);

    /// <summary>Exact.</summary>
    public static explicit operator double(BFloat16 value) => (float)value;

    /// <summary>True for NaN.</summary>
    public static bool IsNaN(BFloat16 value) => (value.Bits & 0x7FFF) > 0x7F80;

    /// <inheritdoc/>
    public bool Equals(BFloat16 other) => (float)this == (float)other;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);
    /// <inheritdoc/>
    public override int GetHashCode() => ((float)this).GetHashCode();
    /// <inheritdoc/>
    public int CompareTo(BFloat16 other) => ((float)this).CompareTo((float)other);
    /// <summary>IEEE equality: NaN equals nothing, +0 equals −0.</summary>
    public static bool operator ==(BFloat16 a, BFloat16 b) => (float)a == (float)b;
    /// <summary>IEEE inequality.</summary>
    public static bool operator !=(BFloat16 a, BFloat16 b) => (float)a != (float)b;
    /// <inheritdoc/>
    public override string ToString() => ((float)this).ToString(CultureInfo.InvariantCulture);
    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ((float)this).ToString(format, formatProvider);
}
