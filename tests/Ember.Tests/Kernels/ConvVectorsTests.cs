using Ember.Kernels.Conv;

namespace Ember.Tests.Kernels;

public unsafe class ConvVectorsTests
{
    // Every length across the vector widths' boundaries; the source holds exactly the 2·count − 1 elements read.
    [Fact]
    public void EvenShortTakesEveryOtherElement()
    {
        for (int count = 0; count <= 257; count++)
        {
            var source = new float[Math.Max(0, 2 * count - 1)];
            var sourceD = new double[source.Length];
            for (int i = 0; i < source.Length; i++) { source[i] = i * 0.5f - 7; sourceD[i] = source[i]; }
            var dst = new float[count + 1];
            var dstD = new double[count + 1];
            dst[count] = -1;
            dstD[count] = -1;
            fixed (float* s = source, d = dst)
                ConvVectors.EvenShort(s, d, count);
            fixed (double* s = sourceD, d = dstD)
                ConvVectors.EvenShort(s, d, count);
            for (int j = 0; j < count; j++)
            {
                Assert.True(dst[j] == source[2 * j], $"float, count {count}: dst[{j}] = {dst[j]}, expected {source[2 * j]}");
                Assert.True(dstD[j] == sourceD[2 * j], $"double, count {count}: dst[{j}] = {dstD[j]}, expected {sourceD[2 * j]}");
            }
            Assert.True(dst[count] == -1 && dstD[count] == -1, $"count {count}: wrote past the end");
        }
    }
}
