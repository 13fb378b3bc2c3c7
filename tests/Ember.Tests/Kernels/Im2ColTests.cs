using Ember.Kernels.Conv;

namespace Ember.Tests.Kernels;

/// <summary>
/// Im2Col.Pack and Accumulate against their definitions written as plain loops, bit for bit: stride 2 runs eight columns
/// at a time with vector permutes (where Vector256 is accelerated), and must copy and add exactly as the scalar loops do,
/// at widths around the vector's 8 and 16 (rows ending inside a vector), odd and even kernels and paddings, and a zero
/// sign (the scatter adds −0 to the lanes it skips).
/// </summary>
public class Im2ColTests
{
    [Theory]
    [InlineData(2, 5, 7, 3, 2, 1)]
    [InlineData(3, 9, 16, 3, 2, 1)]
    [InlineData(2, 8, 17, 3, 2, 1)]
    [InlineData(3, 12, 33, 6, 2, 2)]   // YOLOv5's stem
    [InlineData(1, 6, 40, 3, 2, 0)]
    [InlineData(2, 7, 41, 1, 2, 0)]    // a strided 1×1
    [InlineData(2, 6, 23, 3, 3, 1)]    // stride 3 stays scalar
    public void Strided_pack_and_accumulate_equal_the_plain_loops(int channels, int height, int width, int kernel, int stride, int padding)
    {
        var g = new Conv2dGeometry(1, channels, height, width, 4, kernel, kernel, stride, stride, padding, padding, 1, 1, 1);
        var rng = new Random(width * 31 + kernel);
        var x = new float[channels * height * width];
        for (int i = 0; i < x.Length; i++) x[i] = i % 13 == 0 ? -0f : (float)((rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-10, 10)));
        int rows = g.ColumnRows, plane = g.OutPlane;

        var columns = new float[rows * plane];
        Im2Col.Pack<float>(g, x, columns);
        var expected = new float[rows * plane];
        var dx = new float[x.Length];
        var expectedDx = new float[x.Length];
        Array.Fill(dx, -0f);
        Array.Fill(expectedDx, -0f);
        Im2Col.Accumulate<float>(g, columns, dx);
        int row = 0;
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < kernel; i++)
                for (int j = 0; j < kernel; j++, row++)
                    for (int oh = 0; oh < g.OutHeight; oh++)
                        for (int ow = 0; ow < g.OutWidth; ow++)
                        {
                            int ih = oh * stride - padding + i, iw = ow * stride - padding + j;
                            bool inside = ih >= 0 && ih < height && iw >= 0 && iw < width;
                            float v = inside ? x[(c * height + ih) * width + iw] : 0f;
                            expected[row * plane + oh * g.OutWidth + ow] = v;
                            if (inside) expectedDx[(c * height + ih) * width + iw] += v;
                        }
        AssertSameBits(expected, columns, "pack");
        AssertSameBits(expectedDx, dx, "accumulate");
    }

    static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, the plain loop gives {expected[i]:R}");
    }
}
