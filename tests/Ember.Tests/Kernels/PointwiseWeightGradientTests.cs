using Ember.Kernels.Conv;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;
using static Ember.Tests.Kernels.KernelAssert;

namespace Ember.Tests.Kernels;

// In the kernel-settings collection: the tests force a vector width and the thread count.
[Collection(KernelSettingsCollection.Name)]
public class PointwiseWeightGradientTests
{
    // "N,C_in,H,W,C_out": 1×1, stride 1, no padding, one group; planes of at least PointwiseWeightGradient.MinimumPlane.
    public static TheoryData<string, string> Cases()
    {
        string[] geometries =
        [
            "3,7,31,34,10",   // 1054 positions (not whole vectors at any width), 3 chunks of one image; 10 × 7 leaves remainders of every block
            "9,6,32,32,8",    // 1024 positions, chunks of 2 images and a last chunk of 1; one 8-row block
            "2,12,33,40,24",  // 24 × 12 channels: whole 8×3 (AVX-512) and 4×3 blocks, 1320 positions
        ];
        return ConvKernelTests.OnEveryWidth(geometries);
    }

    static Conv2dGeometry Parse(string s)
    {
        int[] v = Array.ConvertAll(s.Split(','), int.Parse);
        return new Conv2dGeometry(v[0], v[1], v[2], v[3], v[4], 1, 1);
    }

    // gradWeight[co, ci] = Σ_n Σ_p gradOut[n, co, p] · x[n, ci, p], in float64.
    static double[] Naive(in Conv2dGeometry g, double[] x, double[] dy)
    {
        int plane = g.InPlane;
        var dw = new double[g.WeightLength];
        for (int n = 0; n < g.Batch; n++)
            for (int co = 0; co < g.OutChannels; co++)
                for (int ci = 0; ci < g.InChannels; ci++)
                {
                    double sum = 0;
                    for (int p = 0; p < plane; p++)
                        sum += dy[(n * g.OutChannels + co) * plane + p] * x[(n * g.InChannels + ci) * plane + p];
                    dw[co * g.InChannels + ci] += sum;
                }
        return dw;
    }

    // The float32 weight gradient on that many threads (the caller restores ParallelRange.MaxThreads).
    static float[] OnThreads(int threads, in Conv2dGeometry g, float[] x, float[] dy)
    {
        ParallelRange.MaxThreads = threads;
        var dw = new float[g.WeightLength];
        Conv2dKernel.BackwardWeight<float>(g, x, dy, dw);
        return dw;
    }

    [Theory, MemberData(nameof(Cases))]
    public void MatchesTheFloat64SumOnEveryWidth(string isa, string geometry)
    {
        var g = Parse(geometry);
        GemmDriver.ForcedIsa = Enum.Parse<GemmIsa>(isa);
        try
        {
            Assert.True(PointwiseWeightGradient.Applies(g), $"{isa}: {geometry} should take the dot-product path");
            double[] x = Random(g.InputLength, 21), dy = Random(g.OutputLength, 22);
            var dw = new double[g.WeightLength];
            Array.Fill(dw, double.NaN); // overwritten, not accumulated
            Conv2dKernel.BackwardWeight<double>(g, x, dy, dw);
            Close(Naive(g, x, dy), dw, 1e-12, $"{isa} double");

            float[] xf = ToFloat(x), dyf = ToFloat(dy);
            var dwf = new float[g.WeightLength];
            Array.Fill(dwf, float.NaN);
            Conv2dKernel.BackwardWeight<float>(g, xf, dyf, dwf);
            double[] reference = Naive(g, ToDouble(xf), ToDouble(dyf));
            Close(reference, dwf, 1e-5, $"{isa} float");

            // The GEMM per image that this path replaced sums in another order: both are float rounding off the same sum.
            bool saved = PointwiseWeightGradient.ForceGemm;
            PointwiseWeightGradient.ForceGemm = true;
            var gemm = new float[g.WeightLength];
            try { Conv2dKernel.BackwardWeight<float>(g, xf, dyf, gemm); }
            finally { PointwiseWeightGradient.ForceGemm = saved; }
            Close(reference, gemm, 1e-5, $"{isa} float through the GEMM");
        }
        finally { GemmDriver.ForcedIsa = GemmIsa.Auto; }
    }

    [Theory, MemberData(nameof(Cases))]
    public void IsBitIdenticalForOneAndTwoThreads(string isa, string geometry)
    {
        var g = Parse(geometry);
        float[] x = ToFloat(Random(g.InputLength, 23)), dy = ToFloat(Random(g.OutputLength, 24));
        int saved = ParallelRange.MaxThreads;
        GemmDriver.ForcedIsa = Enum.Parse<GemmIsa>(isa);
        try
        {
            float[] one = OnThreads(1, g, x, dy), two = OnThreads(2, g, x, dy);
            Assert.True(one.AsSpan().SequenceEqual(two), $"{isa}: the weight gradient differs between 1 and 2 threads");
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedIsa = GemmIsa.Auto;
        }
    }

    // A thread's copied rows capped (ForcedScratchBytes, in positions per channel of float32 here): one image per piece
    // where two would not fit, or each plane in pieces, the last one past the plane's end zero-padded.
    [Theory]
    [InlineData("9,6,32,32,8", 1500)]   // 1024 positions: one image per piece instead of the chunk's two
    [InlineData("9,6,32,32,8", 400)]    // each plane in three pieces
    [InlineData("3,7,31,34,10", 300)]   // 1054 positions in four pieces, the last one ending in padding
    public void PiecesMatchTheFloat64SumOnEveryWidth(string geometry, int positions)
    {
        var g = Parse(geometry);
        var widths = ConvKernelTests.AcceleratedWidths();
        double[] x = Random(g.InputLength, 25), dy = Random(g.OutputLength, 26);
        float[] xf = ToFloat(x), dyf = ToFloat(dy);
        double[] reference = Naive(g, ToDouble(xf), ToDouble(dyf));
        long saved = PointwiseWeightGradient.ForcedScratchBytes;
        int threads = ParallelRange.MaxThreads;
        PointwiseWeightGradient.ForcedScratchBytes = (long)positions * (g.InChannels + g.OutChannels) * sizeof(float);
        try
        {
            foreach (GemmIsa isa in widths)
            {
                GemmDriver.ForcedIsa = isa;
                var dw = new double[g.WeightLength];
                Conv2dKernel.BackwardWeight<double>(g, x, dy, dw);
                Close(Naive(g, x, dy), dw, 1e-12, $"{isa} double in pieces");
                float[] one = OnThreads(1, g, xf, dyf), two = OnThreads(2, g, xf, dyf);
                Close(reference, one, 1e-5, $"{isa} float in pieces");
                Assert.True(one.AsSpan().SequenceEqual(two), $"{isa}: pieces differ between 1 and 2 threads");
            }
        }
        finally
        {
            PointwiseWeightGradient.ForcedScratchBytes = saved;
            ParallelRange.MaxThreads = threads;
            GemmDriver.ForcedIsa = GemmIsa.Auto;
        }
    }

    [Fact]
    public void ShortPlanesAndGroupsKeepTheGemm()
    {
        Assert.False(PointwiseWeightGradient.Applies(new Conv2dGeometry(2, 8, 16, 16, 8, 1, 1)));             // 256 positions
        Assert.False(PointwiseWeightGradient.Applies(new Conv2dGeometry(2, 8, 32, 32, 8, 1, 1, groups: 2)));  // groups
        Assert.False(PointwiseWeightGradient.Applies(new Conv2dGeometry(2, 8, 64, 64, 8, 1, 1, 2, 2)));       // stride 2
        Assert.True(PointwiseWeightGradient.Applies(new Conv2dGeometry(2, 8, 32, 32, 8, 1, 1)));
    }
}
