using Ember.Kernels.Conv;
using Ember.Kernels.Threading;
using static Ember.Tests.Kernels.KernelAssert;

namespace Ember.Tests.Kernels;

public class ResampleKernelTests
{
    // "N,C,H,W,H_out,W_out,scaleH,scaleW" (scale 0 = not given)
    public static TheoryData<string> Cases => new()
    {
        "2,3,4,5,8,10,0,0",       // ×2: PyTorch's shift path for nearest
        "1,2,3,13,6,26,0,0",      // ×2 with rows of whole vectors and a tail (nearest's widened-row path)
        "1,2,2,8,4,16,2,2",       // ×2 with scale_factor given
        "1,2,3,4,5,7,0,0",
        "2,1,5,5,5,5,0,0",        // identity size
        "1,2,7,9,3,4,0,0",        // downsampling
        "2,2,4,3,10,7,2.5,2.5",   // scale_factor given
        "1,1,10,10,3,3,0.35,0.35",// scale_factor given, differs from In/Out
        "3,2,1,6,1,13,0,2.2",     // 1-D as H = 1
        "1,2,1,1,4,3,0,0",        // a single pixel
    };

    static Upsample2dGeometry Parse(string s)
    {
        string[] p = s.Split(',');
        int[] v = Array.ConvertAll(p[..6], int.Parse);
        double sh = double.Parse(p[6], System.Globalization.CultureInfo.InvariantCulture), sw = double.Parse(p[7], System.Globalization.CultureInfo.InvariantCulture);
        return new Upsample2dGeometry(v[0], v[1], v[2], v[3], v[4], v[5], sh > 0 ? sh : null, sw > 0 ? sw : null);
    }

    // ---- The living definitions ----

    static int NearestSource(int dst, int input, int output, double? scale)
    {
        // PyTorch's legacy 'nearest': float arithmetic, with exact shortcuts for equal and doubled sizes.
        if (output == input) return dst;
        if (output == 2 * input) return dst / 2;
        float s = scale.HasValue ? (float)(1.0 / scale.Value) : (float)input / output;
        return Math.Min((int)MathF.Floor(dst * s), input - 1);
    }

    /// <summary>Visits (input index, output index, weight) for every term of the resampling's linear map.</summary>
    static void ForEachNearestTerm(Upsample2dGeometry g, Action<int, int, double> visit)
    {
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutHeight; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++)
                    visit(p * g.InPlane + NearestSource(oh, g.InHeight, g.OutHeight, g.ScaleHeight) * g.InWidth + NearestSource(ow, g.InWidth, g.OutWidth, g.ScaleWidth),
                        p * g.OutPlane + oh * g.OutWidth + ow, 1);
    }

    static (int I0, int I1, double L0, double L1) LinearSource(int dst, int input, int output, bool alignCorners, double? scale)
    {
        double src = alignCorners
            ? (output > 1 ? dst * (input - 1.0) / (output - 1) : 0)
            : Math.Max((dst + 0.5) * (scale.HasValue ? 1 / scale.Value : (double)input / output) - 0.5, 0);
        int i0 = Math.Min((int)Math.Floor(src), input - 1);
        int i1 = Math.Min(i0 + 1, input - 1);
        double l1 = Math.Min(src - i0, 1);
        return (i0, i1, 1 - l1, l1);
    }

    static void ForEachBilinearTerm(Upsample2dGeometry g, bool alignCorners, Action<int, int, double> visit)
    {
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutHeight; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++)
                {
                    var (h0, h1, hl0, hl1) = LinearSource(oh, g.InHeight, g.OutHeight, alignCorners, g.ScaleHeight);
                    var (w0, w1, wl0, wl1) = LinearSource(ow, g.InWidth, g.OutWidth, alignCorners, g.ScaleWidth);
                    int o = p * g.OutPlane + oh * g.OutWidth + ow, b = p * g.InPlane;
                    visit(b + h0 * g.InWidth + w0, o, hl0 * wl0);
                    visit(b + h0 * g.InWidth + w1, o, hl0 * wl1);
                    visit(b + h1 * g.InWidth + w0, o, hl1 * wl0);
                    visit(b + h1 * g.InWidth + w1, o, hl1 * wl1);
                }
    }

    static (double[] Y, double[] Dx) Apply(Upsample2dGeometry g, Action<Upsample2dGeometry, Action<int, int, double>> terms, double[] x, double[] dy)
    {
        var y = new double[g.OutputLength];
        var dx = new double[g.InputLength];
        terms(g, (xi, yi, weight) => { y[yi] += weight * x[xi]; dx[xi] += weight * dy[yi]; });
        return (y, dx);
    }

    // ---- Known PyTorch values ----

    [Fact]
    public void NearestIndicesMatchPyTorch()
    {
        // interpolate(size=3) of 10 samples picks 0, 3, 6; interpolate(scale_factor=0.35) maps through 1/0.35 instead: 0, 2, 5.
        Assert.Equal([0, 3, 6], Enumerable.Range(0, 3).Select(d => UpsampleNearest2dKernel.SourceIndex(d, 10, 3, null)));
        Assert.Equal([0, 2, 5], Enumerable.Range(0, 3).Select(d => UpsampleNearest2dKernel.SourceIndex(d, 10, 3, 0.35)));
        Assert.Equal([0, 0, 1, 1, 2], Enumerable.Range(0, 5).Select(d => UpsampleNearest2dKernel.SourceIndex(d, 3, 5, null)));
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 3, 3)]
    [InlineData(3, 2, 4)]
    [InlineData(2, 4, 9)]
    [InlineData(1, 3, 20)]
    public void NearestDoublingBackwardAddsInOutputOrderBitForBit(int planes, int h, int w)
    {
        // The ×2 backward sums each 2×2 block with vector shuffles; the general loop's order (from zero, output rows top
        // to bottom, left to right) in float32 is the definition, including the sign of a zero sum.
        var g = new Upsample2dGeometry(1, planes, h, w, 2 * h, 2 * w);
        var rng = new Random(3);
        var dy = new float[g.OutputLength];
        for (int i = 0; i < dy.Length; i++) dy[i] = i % 11 == 0 ? -0f : (float)((rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-12, 12)));
        var expected = new float[g.InputLength];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < 2 * h; oh++)
                for (int ow = 0; ow < 2 * w; ow++)
                    expected[p * h * w + oh / 2 * w + ow / 2] += dy[p * g.OutPlane + oh * 2 * w + ow];
        var dx = new float[g.InputLength];
        UpsampleNearest2dKernel.Backward<float>(g, dy, dx);
        for (int i = 0; i < dx.Length; i++)
            Assert.True(BitConverter.SingleToUInt32Bits(expected[i]) == BitConverter.SingleToUInt32Bits(dx[i]), $"element {i}: {dx[i]:R}, expected {expected[i]:R}");
    }

    [Fact]
    public void BilinearMatchesPyTorchValues()
    {
        // torch.nn.functional.interpolate(torch.arange(4.).view(1, 1, 1, 4), size=(1, 8), mode='bilinear', align_corners=...)
        var g = new Upsample2dGeometry(1, 1, 1, 4, 1, 8);
        double[] x = [0, 1, 2, 3];
        var y = new double[8];
        UpsampleBilinear2dKernel.Forward<double>(g, false, x, y);
        Assert.Equal([0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3], y);
        UpsampleBilinear2dKernel.Forward<double>(g, true, x, y);
        Close([0, 3 / 7.0, 6 / 7.0, 9 / 7.0, 12 / 7.0, 15 / 7.0, 18 / 7.0, 3], y, 1e-15, "align_corners");
    }

    // ---- Against the definitions ----

    [Theory, MemberData(nameof(Cases))]
    public void NearestMatchesDefinition(string geometry)
    {
        var g = Parse(geometry);
        double[] x = Random(g.InputLength, 1), dy = Random(g.OutputLength, 2);
        var (expected, expectedDx) = Apply(g, ForEachNearestTerm, x, dy);
        var y = new double[g.OutputLength];
        UpsampleNearest2dKernel.Forward<double>(g, x, y);
        Close(expected, y, 0, "nearest");
        var yf = new float[g.OutputLength];
        UpsampleNearest2dKernel.Forward<float>(g, ToFloat(x), yf);
        Close(ToDouble(ToFloat(expected)), yf, 0, "float nearest");
        var dx = new double[g.InputLength];
        Array.Fill(dx, double.NaN);
        UpsampleNearest2dKernel.Backward<double>(g, dy, dx);
        Close(expectedDx, dx, 1e-12, "nearest backward");
    }

    [Theory, MemberData(nameof(Cases))]
    public void BilinearMatchesDefinition(string geometry)
    {
        var g = Parse(geometry);
        double[] x = Random(g.InputLength, 1), dy = Random(g.OutputLength, 2);
        foreach (bool alignCorners in new[] { false, true })
        {
            string what = $"bilinear (align_corners {alignCorners})";
            var (expected, expectedDx) = Apply(g, (gg, visit) => ForEachBilinearTerm(gg, alignCorners, visit), x, dy);
            var y = new double[g.OutputLength];
            UpsampleBilinear2dKernel.Forward<double>(g, alignCorners, x, y);
            Close(expected, y, 1e-12, what);
            var yf = new float[g.OutputLength];
            UpsampleBilinear2dKernel.Forward<float>(g, alignCorners, ToFloat(x), yf);
            Close(expected, yf, 1e-5, "float " + what);
            var dx = new double[g.InputLength];
            Array.Fill(dx, double.NaN);
            UpsampleBilinear2dKernel.Backward<double>(g, alignCorners, dy, dx);
            Close(expectedDx, dx, 1e-12, what + " backward");
            var dxf = new float[g.InputLength];
            UpsampleBilinear2dKernel.Backward<float>(g, alignCorners, ToFloat(dy), dxf);
            Close(expectedDx, dxf, 1e-5, "float " + what + " backward");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BackwardMatchesFiniteDifferences(bool alignCorners)
    {
        var g = new Upsample2dGeometry(2, 1, 3, 4, 5, 7);
        double[] x = Random(g.InputLength, 3), dy = Random(g.OutputLength, 4);
        var y = new double[g.OutputLength];
        var dx = new double[g.InputLength];
        UpsampleBilinear2dKernel.Backward<double>(g, alignCorners, dy, dx);
        FiniteDifference(x, () => { UpsampleBilinear2dKernel.Forward<double>(g, alignCorners, x, y); return Dot(dy, y); }, dx, "bilinear d/dx");
        UpsampleNearest2dKernel.Backward<double>(g, dy, dx);
        FiniteDifference(x, () => { UpsampleNearest2dKernel.Forward<double>(g, x, y); return Dot(dy, y); }, dx, "nearest d/dx");
    }

    [Fact]
    public void ShortSpansThrow()
    {
        var g = new Upsample2dGeometry(1, 2, 3, 3, 6, 6);
        Assert.Contains("UpsampleBilinear2d forward", Assert.Throws<ArgumentException>(() =>
            UpsampleBilinear2dKernel.Forward<float>(g, false, new float[18], new float[71])).Message);
        Assert.Throws<ArgumentException>(() => UpsampleNearest2dKernel.Backward<float>(g, new float[72], new float[17]));
        Assert.Throws<ArgumentException>(() => new Upsample2dGeometry(1, 1, 3, 3, 6, 6, scaleHeight: 0));
    }

    [Fact]
    public void ResultsAreBitIdenticalForOneAndTwoThreads()
    {
        var g = new Upsample2dGeometry(4, 6, 9, 11, 20, 17);
        float[] x = ToFloat(Random(g.InputLength, 1)), dy = ToFloat(Random(g.OutputLength, 2));
        float[][] Run()
        {
            var y = new float[g.OutputLength]; var dx = new float[g.InputLength];
            var yn = new float[g.OutputLength]; var dxn = new float[g.InputLength];
            UpsampleBilinear2dKernel.Forward<float>(g, false, x, y);
            UpsampleBilinear2dKernel.Backward<float>(g, false, dy, dx);
            UpsampleNearest2dKernel.Forward<float>(g, x, yn);
            UpsampleNearest2dKernel.Backward<float>(g, dy, dxn);
            return [y, dx, yn, dxn];
        }
        int saved = ParallelRange.MaxThreads;
        try
        {
            ParallelRange.MaxThreads = 1;
            float[][] one = Run();
            ParallelRange.MaxThreads = 2;
            float[][] two = Run();
            for (int k = 0; k < one.Length; k++)
                Assert.True(one[k].AsSpan().SequenceEqual(two[k]), $"result {k} differs between 1 and 2 threads");
        }
        finally { ParallelRange.MaxThreads = saved; }
    }
}
