using Ember.Kernels.Conv;
using Ember.Kernels.Threading;
using static Ember.Tests.Kernels.KernelAssert;

namespace Ember.Tests.Kernels;

/// <summary>
/// The weight gradient of strided convolutions that go through the phase-split shifted GEMM (YOLOv5's 3×3 stride-2
/// downsampling convs and 6×6 stride-2 stem, and an asymmetric stride) against the direct sum, in float64 and float32,
/// and bit-identical on 1 and 2 threads.
/// </summary>
public class StridedWeightGradientTests
{
    [Theory]
    [InlineData("2,8,16,16,16,3,3,2,2,1,1")]   // 3×3 stride 2, padding 1
    [InlineData("3,5,13,11,7,3,3,2,2,1,1")]    // odd sizes: phases of unequal size
    [InlineData("2,3,24,24,8,6,6,2,2,2,2")]    // the 6×6 stem
    [InlineData("2,4,12,10,6,3,3,2,1,1,1")]    // stride 2 × 1
    [InlineData("17,4,10,10,4,3,3,2,2,1,1")]   // more images than the 8 weight chunks
    public void Matches_the_direct_sum_and_any_thread_count(string geometry)
    {
        int[] v = Array.ConvertAll(geometry.Split(','), int.Parse);
        var g = new Conv2dGeometry(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], 1, 1, 1);
        double[] x = Random(g.InputLength, 1), dy = Random(g.OutputLength, 2);
        var expected = new double[g.WeightLength];
        for (int n = 0; n < g.Batch; n++)
            for (int co = 0; co < g.OutChannels; co++)
                for (int ci = 0; ci < g.InChannels; ci++)
                    for (int i = 0; i < g.KernelHeight; i++)
                        for (int j = 0; j < g.KernelWidth; j++)
                            for (int oh = 0; oh < g.OutHeight; oh++)
                                for (int ow = 0; ow < g.OutWidth; ow++)
                                {
                                    int ih = oh * g.StrideHeight - g.PadHeight + i, iw = ow * g.StrideWidth - g.PadWidth + j;
                                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                                    expected[((co * g.InChannels + ci) * g.KernelHeight + i) * g.KernelWidth + j] +=
                                        dy[((n * g.OutChannels + co) * g.OutHeight + oh) * g.OutWidth + ow] * x[((n * g.InChannels + ci) * g.InHeight + ih) * g.InWidth + iw];
                                }
        var dw = new double[g.WeightLength];
        Array.Fill(dw, double.NaN);
        Conv2dKernel.BackwardWeight<double>(g, x, dy, dw);
        Close(expected, dw, 1e-12, "float64 grad weight");

        int saved = ParallelRange.MaxThreads;
        try
        {
            float[] Run(int threads)
            {
                ParallelRange.MaxThreads = threads;
                var dwf = new float[g.WeightLength];
                Array.Fill(dwf, float.NaN);
                Conv2dKernel.BackwardWeight<float>(g, ToFloat(x), ToFloat(dy), dwf);
                return dwf;
            }
            float[] one = Run(1), two = Run(2);
            Close(expected, one, 1e-4, "float32 grad weight");
            Assert.True(one.AsSpan().SequenceEqual(two), "the float32 weight gradient differs between 1 and 2 threads");
        }
        finally { ParallelRange.MaxThreads = saved; }
    }
}
