using Ember.Kernels.Gemm;

namespace Ember.Tests.Kernels;

/// <summary>The transposing pack against its definition, bit for bit: dst[p·width + j] = src[j·ld + p], zero past count.</summary>
public sealed class PackTransposeTests
{
    // Counts below, at and between the 2-, 4- and 8-row blocks; depths around the 4- and 8-wide register transposes.
    [Theory]
    [InlineData(1, 12)]
    [InlineData(2, 6)]
    [InlineData(7, 12)]
    [InlineData(8, 8)]
    [InlineData(11, 12)]
    [InlineData(12, 12)]
    [InlineData(14, 16)]
    [InlineData(16, 16)]
    [InlineData(27, 32)]
    [InlineData(32, 32)]
    public unsafe void Float_MatchesDefinition(int count, int width)
    {
        if (!PackTranspose.Supported) return;
        foreach (int kb in new[] { 0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 33 })
        {
            int ld = kb + 5;
            var src = new float[Math.Max(1, count * ld)];
            for (int i = 0; i < src.Length; i++) src[i] = i * 0.5f + 1f;
            var dst = new float[width * kb + 1];
            Array.Fill(dst, float.NaN);
            fixed (float* s = src, d = dst)
                PackTranspose.Float(s, ld, count, width, kb, d);
            for (int p = 0; p < kb; p++)
                for (int j = 0; j < width; j++)
                {
                    float expected = j < count ? src[j * ld + p] : 0f;
                    Assert.True(expected.Equals(dst[p * width + j]), $"count {count}, width {width}, kb {kb}: dst[{p}·{width} + {j}] = {dst[p * width + j]}, expected {expected}");
                }
            Assert.True(float.IsNaN(dst[width * kb]), $"count {count}, width {width}, kb {kb}: wrote past the panel");
        }
    }
}
