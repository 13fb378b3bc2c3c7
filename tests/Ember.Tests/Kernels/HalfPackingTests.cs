using System.Numerics.Tensors;
using Ember.Kernels.Gemm;
using Ember.Kernels.Numerics;

namespace Ember.Tests.Kernels;

/// <summary>
/// HalfPacking's inline line widening against the span conversions it replaced (TensorPrimitives for float16,
/// BFloat16Conversion for bfloat16), bit for bit: every one of the 65536 bit patterns (NaNs with their payloads,
/// infinities, subnormals, ±0) at every start offset within a vector and at line lengths 0–40, so the vector loops
/// and the scalar tail are both covered. The GEMM results themselves are checked in <see cref="HalfGemmTests"/>.
/// </summary>
public sealed unsafe class HalfPackingTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Widen_EveryBitPattern_MatchesSpanConversion(bool bfloat)
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        var expected = Reference(bfloat, bits);
        var actual = new float[bits.Length];
        var source = bfloat ? PanelSource.BFloat16 : PanelSource.Half;
        fixed (ushort* s = bits)
        fixed (float* d = actual)
        {
            // lines of 1..40 values one after another, so every pattern lands in a vector body and in a tail somewhere
            for (int start = 0, len = 1; start < bits.Length; start += len, len = len % 40 + 1)
                HalfPacking.Widen(source, s + start, d + start, Math.Min(len, bits.Length - start));
        }
        AssertBits(expected, actual, bfloat);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Widen_LengthsAndOffsets_WriteOnlyTheLine(bool bfloat)
    {
        var rng = new Random(5);
        var bits = new ushort[64];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)rng.Next(65536);
        var source = bfloat ? PanelSource.BFloat16 : PanelSource.Half;
        for (int offset = 0; offset < 8; offset++)
            for (int len = 0; len <= 40; len++)
            {
                var actual = new float[64];
                Array.Fill(actual, 123f);
                fixed (ushort* s = bits)
                fixed (float* d = actual)
                    HalfPacking.Widen(source, s + offset, d + offset, len);
                var expected = Reference(bfloat, bits.AsSpan(offset, len).ToArray());
                AssertBits(expected, actual.AsSpan(offset, len).ToArray(), bfloat);
                for (int i = 0; i < actual.Length; i++)
                    if (i < offset || i >= offset + len) Assert.True(actual[i] == 123f, $"offset {offset}, length {len}: wrote element {i}");
            }
    }

    static float[] Reference(bool bfloat, ushort[] bits)
    {
        var result = new float[bits.Length];
        if (bfloat) BFloat16Conversion.ToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, BFloat16>(bits), result);
        else TensorPrimitives.ConvertToSingle(System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, Half>(bits), result);
        return result;
    }

    static void AssertBits(float[] expected, float[] actual, bool bfloat)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            uint e = BitConverter.SingleToUInt32Bits(expected[i]), a = BitConverter.SingleToUInt32Bits(actual[i]);
            Assert.True(e == a, $"{(bfloat ? "bfloat16" : "float16")} element {i}: widened to 0x{a:X8}, expected 0x{e:X8}");
        }
    }
}
