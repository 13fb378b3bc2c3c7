using Ember.Kernels.Numerics;

namespace Ember.Tests.Kernels;

/// <summary>
/// The vectorized bfloat16 ↔ float32 span conversions against the scalar casts (c10::BFloat16's definition), bit for
/// bit: every bfloat16, the rounding edge of every bfloat16 step, NaNs, infinities, subnormals and −0, at every length
/// 0–257 and misaligned, so each SIMD width's main loop and the scalar tail are reached (CI reruns this class with AVX-512
/// and AVX2 off).
/// </summary>
public sealed class BFloat16ConversionTests
{
    [Fact]
    public void ToSingle_EveryBFloat16_IsTheBitsShiftedUp()
    {
        var src = SixteenBitFloatPatterns.Every(BFloat16.FromBits);
        var dst = new float[src.Length];
        BFloat16Conversion.ToSingle(src, dst);
        for (int i = 0; i < src.Length; i++)
        {
            // the definition: the 16 bits become the top half of a float32, NaN payloads and −0 included
            uint expected = (uint)i << 16;
            Assert.True(BitConverter.SingleToUInt32Bits(dst[i]) == expected, $"bits 0x{i:X4}: got 0x{BitConverter.SingleToUInt32Bits(dst[i]):X8}, expected 0x{expected:X8}");
        }
    }

    [Fact]
    public void FromSingle_RoundingEdges_MatchScalarCast()
    {
        var bits = SixteenBitFloatPatterns.RoundingEdges(droppedBits: 16);
        var src = SixteenBitFloatPatterns.Floats(bits);
        var dst = new BFloat16[src.Length];
        BFloat16Conversion.FromSingle(src, dst);
        for (int i = 0; i < src.Length; i++)
        {
            ushort expected = ((BFloat16)src[i]).Bits;
            Assert.True(dst[i].Bits == expected, $"float bits 0x{bits[i]:X8}: got 0x{dst[i].Bits:X4}, expected 0x{expected:X4}");
        }
    }

    // Hand-checked against c10's round_to_nearest_even, independent of the scalar cast.
    [Theory]
    [InlineData(0x3F808000u, 0x3F80)] // 1 + 2⁻⁸: a tie, the kept bit is even → down
    [InlineData(0x3F818000u, 0x3F82)] // a tie with an odd kept bit → up
    [InlineData(0x3F808001u, 0x3F81)] // just above the tie → up
    [InlineData(0x3F807FFFu, 0x3F80)] // just below → down
    [InlineData(0x7F7FFFFFu, 0x7F80)] // float32's max overflows to +inf
    [InlineData(0xFF7F8000u, 0xFF80)] // a tie at −3.39e38 with an odd kept bit → −inf
    [InlineData(0x7F800000u, 0x7F80)] // +inf
    [InlineData(0xFF800000u, 0xFF80)] // −inf
    [InlineData(0x7F800001u, 0x7FC0)] // signalling NaN → canonical quiet NaN
    [InlineData(0xFFC00000u, 0x7FC0)] // negative quiet NaN → canonical (positive) quiet NaN
    [InlineData(0x7FFFFFFFu, 0x7FC0)] // NaN whose rounding would carry into the sign
    [InlineData(0x80000000u, 0x8000)] // −0 keeps its sign
    [InlineData(0x00008000u, 0x0000)] // subnormal tie, even → 0
    [InlineData(0x00018000u, 0x0002)] // subnormal tie, odd → up
    [InlineData(0x807FFFFFu, 0x8080)] // the largest negative subnormal rounds up to −(smallest normal)
    public void FromSingle_EdgeCases_AreC10s(uint floatBits, int expected)
    {
        SixteenBitFloatPatterns.AtEveryPosition(floatBits, (src, at) =>
        {
            var dst = new BFloat16[src.Length];
            BFloat16Conversion.FromSingle(src, dst);
            Assert.True(dst[at].Bits == expected, $"0x{floatBits:X8} at index {at}: got 0x{dst[at].Bits:X4}, expected 0x{expected:X4}");
            Assert.True(dst[at == 0 ? 1 : 0].Bits == 0x3F80, $"0x{floatBits:X8} at index {at}: a neighbouring 1.0 became 0x{dst[at == 0 ? 1 : 0].Bits:X4}");
        });
    }

    [Fact]
    public void BothDirections_EveryLengthAndOffset_MatchScalar()
    {
        SixteenBitFloatPatterns.EveryLengthAndOffset(SixteenBitFloatPatterns.RoundingEdges(droppedBits: 16), seed: 22, (pool, length, offset) =>
        {
            var src = pool.AsSpan(offset, length);
            var narrow = new BFloat16[length + 2];
            narrow[length + 1] = BFloat16.FromBits(0x1234);
            BFloat16Conversion.FromSingle(src, narrow.AsSpan(1, length + 1));
            Assert.True(narrow[0].Bits == 0 && narrow[length + 1].Bits == 0x1234, $"FromSingle length {length}, offset {offset}: wrote outside the source's length");
            for (int i = 0; i < length; i++)
                Assert.True(narrow[i + 1].Bits == ((BFloat16)src[i]).Bits, $"FromSingle length {length}, offset {offset}, index {i}: got 0x{narrow[i + 1].Bits:X4}, expected 0x{((BFloat16)src[i]).Bits:X4}");

            var wide = new float[length + 2];
            wide[length + 1] = 7f;
            BFloat16Conversion.ToSingle(narrow.AsSpan(1, length), wide.AsSpan(1, length + 1));
            Assert.True(wide[0] == 0f && wide[length + 1] == 7f, $"ToSingle length {length}, offset {offset}: wrote outside the source's length");
            for (int i = 0; i < length; i++)
                Assert.True(BitConverter.SingleToUInt32Bits(wide[i + 1]) == (uint)narrow[i + 1].Bits << 16, $"ToSingle length {length}, index {i}");
        });
    }

    [Fact]
    public void ShortDestination_Throws()
    {
        var e1 = Assert.Throws<ArgumentException>(() => BFloat16Conversion.FromSingle(new float[5], new BFloat16[4]));
        Assert.Contains("destination has 4 elements, source 5", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => BFloat16Conversion.ToSingle(new BFloat16[5], new float[4]));
        Assert.Contains("destination has 4 elements, source 5", e2.Message);
    }
}
