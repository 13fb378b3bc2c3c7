using System.Numerics.Tensors;
using Ember.Kernels.Numerics;

namespace Ember.Tests.Kernels;

/// <summary>
/// The vectorized float16 ↔ float32 span conversions against TensorPrimitives' (which the tensors' casts used before
/// them) and the scalar casts of <see cref="Half"/>, bit for bit: every float16, the rounding edge of every float16 step
/// over the whole float32 range, NaNs, infinities, subnormals and −0, at every length 0–257 and misaligned, so each SIMD
/// width's main loop and the scalar tail are reached (CI reruns this class with AVX-512 and AVX2 off).
/// </summary>
public sealed class Float16ConversionTests
{
    [Fact]
    public void ToSingle_EveryFloat16_MatchesTensorPrimitivesAndTheCast()
    {
        var src = SixteenBitFloatPatterns.Every(BitConverter.UInt16BitsToHalf);
        var dst = new float[src.Length];
        var reference = new float[src.Length];
        Float16Conversion.ToSingle(src, dst);
        TensorPrimitives.ConvertToSingle(src, reference);
        for (int i = 0; i < src.Length; i++)
        {
            uint got = BitConverter.SingleToUInt32Bits(dst[i]);
            Assert.True(got == BitConverter.SingleToUInt32Bits(reference[i]), $"bits 0x{i:X4}: got 0x{got:X8}, TensorPrimitives 0x{BitConverter.SingleToUInt32Bits(reference[i]):X8}");
            Assert.True(got == BitConverter.SingleToUInt32Bits((float)src[i]), $"bits 0x{i:X4}: got 0x{got:X8}, the cast 0x{BitConverter.SingleToUInt32Bits((float)src[i]):X8}");
        }
    }

    [Fact]
    public void FromSingle_RoundingEdges_MatchTensorPrimitivesAndTheCast()
    {
        var bits = SixteenBitFloatPatterns.RoundingEdges(droppedBits: 13);
        var src = SixteenBitFloatPatterns.Floats(bits);
        var dst = new Half[src.Length];
        var reference = new Half[src.Length];
        Float16Conversion.FromSingle(src, dst);
        TensorPrimitives.ConvertToHalf(src, reference);
        for (int i = 0; i < src.Length; i++)
        {
            ushort got = BitConverter.HalfToUInt16Bits(dst[i]);
            Assert.True(got == BitConverter.HalfToUInt16Bits(reference[i]), $"float bits 0x{bits[i]:X8}: got 0x{got:X4}, TensorPrimitives 0x{BitConverter.HalfToUInt16Bits(reference[i]):X4}");
            Assert.True(got == BitConverter.HalfToUInt16Bits((Half)src[i]), $"float bits 0x{bits[i]:X8}: got 0x{got:X4}, the cast 0x{BitConverter.HalfToUInt16Bits((Half)src[i]):X4}");
        }
    }

    // Hand-checked against IEEE 754 round-to-nearest-even, independent of either reference.
    [Theory]
    [InlineData(0x3F801000u, 0x3C00)] // 1 + 2⁻¹¹: a tie, the kept bit is even → down
    [InlineData(0x3F803000u, 0x3C02)] // 1 + 3·2⁻¹¹: a tie with an odd kept bit → up
    [InlineData(0x3F801001u, 0x3C01)] // just above the tie → up
    [InlineData(0x3F800FFFu, 0x3C00)] // just below → down
    [InlineData(0x477FE000u, 0x7BFF)] // 65504, float16's max
    [InlineData(0x477FEFFFu, 0x7BFF)] // just below 65520 → max
    [InlineData(0x477FF000u, 0x7C00)] // 65520, a tie with an odd kept bit → +inf
    [InlineData(0xC7800000u, 0xFC00)] // −65536 → −inf
    [InlineData(0x7F7FFFFFu, 0x7C00)] // float32's max → +inf
    [InlineData(0x7F800000u, 0x7C00)] // +inf
    [InlineData(0xFF800000u, 0xFC00)] // −inf
    [InlineData(0x7F800001u, 0x7E00)] // signalling NaN, payload below float16's bits → quiet NaN
    [InlineData(0x7F802000u, 0x7E01)] // signalling NaN keeps the top 10 payload bits, made quiet
    [InlineData(0xFFC00000u, 0xFE00)] // negative quiet NaN keeps its sign
    [InlineData(0x7FFFFFFFu, 0x7FFF)] // NaN with every payload bit
    [InlineData(0x80000000u, 0x8000)] // −0 keeps its sign
    [InlineData(0x38800000u, 0x0400)] // 2⁻¹⁴, the smallest normal
    [InlineData(0x387FFFFFu, 0x0400)] // just below it rounds up to it
    [InlineData(0x33800000u, 0x0001)] // 2⁻²⁴, the smallest subnormal
    [InlineData(0x33000000u, 0x0000)] // 2⁻²⁵, half of it: a tie, even → 0
    [InlineData(0x33000001u, 0x0001)] // just above → the smallest subnormal
    [InlineData(0x33C00000u, 0x0002)] // 1.5·2⁻²⁴: a tie between 1 and 2 subnormal steps, even → 2
    [InlineData(0x00000001u, 0x0000)] // float32's smallest subnormal → 0
    [InlineData(0x807FFFFFu, 0x8000)] // float32's largest subnormal, negative → −0
    public void FromSingle_EdgeCases_AreIeee(uint floatBits, int expected)
    {
        SixteenBitFloatPatterns.AtEveryPosition(floatBits, (src, at) =>
        {
            var dst = new Half[src.Length];
            Float16Conversion.FromSingle(src, dst);
            Assert.True(BitConverter.HalfToUInt16Bits(dst[at]) == expected, $"0x{floatBits:X8} at index {at}: got 0x{BitConverter.HalfToUInt16Bits(dst[at]):X4}, expected 0x{expected:X4}");
            Assert.True(BitConverter.HalfToUInt16Bits(dst[at == 0 ? 1 : 0]) == 0x3C00, $"0x{floatBits:X8} at index {at}: a neighbouring 1.0 changed");
        });
    }

    [Fact]
    public void BothDirections_EveryLengthAndOffset_MatchTensorPrimitives()
    {
        SixteenBitFloatPatterns.EveryLengthAndOffset(SixteenBitFloatPatterns.RoundingEdges(droppedBits: 13), seed: 23, (pool, length, offset) =>
        {
            var src = pool.AsSpan(offset, length);
            var narrow = new Half[length + 2];
            narrow[length + 1] = BitConverter.UInt16BitsToHalf(0x1234);
            Float16Conversion.FromSingle(src, narrow.AsSpan(1, length + 1));
            Assert.True(BitConverter.HalfToUInt16Bits(narrow[0]) == 0 && BitConverter.HalfToUInt16Bits(narrow[length + 1]) == 0x1234, $"FromSingle length {length}, offset {offset}: wrote outside the source's length");
            var expectedNarrow = new Half[length];
            TensorPrimitives.ConvertToHalf(src, expectedNarrow);
            for (int i = 0; i < length; i++)
                Assert.True(BitConverter.HalfToUInt16Bits(narrow[i + 1]) == BitConverter.HalfToUInt16Bits(expectedNarrow[i]), $"FromSingle length {length}, offset {offset}, index {i}");

            var wide = new float[length + 2];
            wide[length + 1] = 7f;
            Float16Conversion.ToSingle(narrow.AsSpan(1, length), wide.AsSpan(1, length + 1));
            Assert.True(wide[0] == 0f && wide[length + 1] == 7f, $"ToSingle length {length}, offset {offset}: wrote outside the source's length");
            var expectedWide = new float[length];
            TensorPrimitives.ConvertToSingle(narrow.AsSpan(1, length), expectedWide);
            for (int i = 0; i < length; i++)
                Assert.True(BitConverter.SingleToUInt32Bits(wide[i + 1]) == BitConverter.SingleToUInt32Bits(expectedWide[i]), $"ToSingle length {length}, offset {offset}, index {i}");
        });
    }

    [Fact]
    public void ShortDestination_Throws()
    {
        var e1 = Assert.Throws<ArgumentException>(() => Float16Conversion.FromSingle(new float[5], new Half[4]));
        Assert.Contains("destination has 4 elements, source 5", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => Float16Conversion.ToSingle(new Half[5], new float[4]));
        Assert.Contains("destination has 4 elements, source 5", e2.Message);
    }
}
