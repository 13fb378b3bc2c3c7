using Ember.Kernels.Conv;
using Ember.Kernels.Threading;
using static Ember.Tests.Kernels.KernelAssert;

namespace Ember.Tests.Kernels;

public class PoolKernelTests
{
    // "N,C,H,W,kH,kW,sH,sW,pH,pW,dH,dW,ceil"
    public static TheoryData<string> MaxCases => new()
    {
        "1,1,5,5,2,2,2,2,0,0,1,1,0",
        "1,1,5,5,2,2,2,2,0,0,1,1,1",    // ceil mode adds a partial window
        "2,3,4,4,3,3,2,2,1,1,1,1,1",    // ceil mode: the third window starts inside the input and is kept
        "1,2,5,5,2,2,2,2,1,1,1,1,1",    // ceil mode: a fourth window would start in the right padding and is dropped
        "2,2,7,9,3,3,2,2,1,1,2,2,0",    // dilation 2
        "1,2,8,7,3,2,3,1,1,1,1,2,1",
        "3,2,1,11,1,3,1,2,0,1,1,1,1",   // max_pool1d as H = 1
        "2,1,9,9,5,5,3,3,2,2,1,1,1",
        "1,2,6,6,1,1,2,2,0,0,1,1,0",
        "2,2,10,9,4,3,3,2,2,1,1,1,1",
        "0,2,5,5,2,2,2,2,0,0,1,1,0",    // empty batch
        // stride 1 across the row, no dilation: without indices the columns are maxima of shifted row buffers
        "1,3,10,10,5,5,1,1,2,2,1,1,0",  // SPPF's 5×5 pool at YOLOv5's deepest level (320² input)
        "2,2,20,37,5,5,1,1,2,2,1,1,0",  // rows longer than a vector, with a tail
        "1,1,3,2,5,5,1,1,2,2,1,1,0",    // a row narrower than the window
        "2,2,7,13,3,4,2,1,1,2,1,1,1",   // even width, vertical stride 2, ceil mode
        "1,2,6,9,3,3,1,1,0,0,1,1,1",    // no padding, ceil mode
    };

    // "N,C,H,W,kH,kW,sH,sW,pH,pW,ceil"
    public static TheoryData<string> AvgCases => new()
    {
        "1,1,5,5,2,2,2,2,0,0,0",
        "1,1,5,5,2,2,2,2,0,0,1",
        "2,3,4,4,3,3,2,2,1,1,1",
        "1,2,5,5,2,2,2,2,1,1,1",
        "2,2,7,9,3,3,1,1,1,1,0",
        "1,2,8,7,3,2,3,1,1,1,1",
        "3,2,1,11,1,3,1,2,0,1,1",
        "2,1,9,9,5,5,3,3,2,2,1",
        "2,2,10,9,4,3,3,2,2,1,1",
    };

    static Pool2dGeometry ParseMax(string s)
    {
        int[] v = Array.ConvertAll(s.Split(','), int.Parse);
        return new Pool2dGeometry(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12] != 0);
    }

    static Pool2dGeometry ParseAvg(string s)
    {
        int[] v = Array.ConvertAll(s.Split(','), int.Parse);
        return new Pool2dGeometry(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], ceilMode: v[10] != 0);
    }

    // ---- The living definitions ----

    static (double[] Out, long[] Indices) NaiveMax(Pool2dGeometry g, double[] x)
    {
        var y = new double[g.OutputLength];
        var idx = new long[g.OutputLength];
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutHeight; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++)
                {
                    double best = double.NegativeInfinity; long at = -1;
                    for (int i = 0; i < g.KernelHeight; i++)
                        for (int j = 0; j < g.KernelWidth; j++)
                        {
                            int ih = oh * g.StrideHeight - g.PadHeight + i * g.DilationHeight;
                            int iw = ow * g.StrideWidth - g.PadWidth + j * g.DilationWidth;
                            if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                            double v = x[p * g.InPlane + ih * g.InWidth + iw];
                            if (at < 0 || v > best) { best = v; at = ih * g.InWidth + iw; }
                        }
                    Assert.True(at >= 0, "every window must overlap the input");
                    y[p * g.OutPlane + oh * g.OutWidth + ow] = best;
                    idx[p * g.OutPlane + oh * g.OutWidth + ow] = at;
                }
        return (y, idx);
    }

    /// <summary>Visits (input index, output index, weight) for every tap of every window: the linear map of average pooling.</summary>
    static void ForEachAvgTap(Pool2dGeometry g, bool countIncludePad, int? divisorOverride, Action<int, int, double> visit)
    {
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutHeight; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++)
                {
                    int inside = 0, padded = 0;
                    for (int i = 0; i < g.KernelHeight; i++)
                        for (int j = 0; j < g.KernelWidth; j++)
                        {
                            int ih = oh * g.StrideHeight - g.PadHeight + i, iw = ow * g.StrideWidth - g.PadWidth + j;
                            // Taps beyond the right/bottom padding (ceil mode) count for nothing, not even as padding.
                            if (ih < g.InHeight + g.PadHeight && iw < g.InWidth + g.PadWidth) padded++;
                            if (ih >= 0 && ih < g.InHeight && iw >= 0 && iw < g.InWidth) inside++;
                        }
                    if (inside == 0) continue;
                    double divisor = divisorOverride ?? (countIncludePad ? padded : inside);
                    for (int i = 0; i < g.KernelHeight; i++)
                        for (int j = 0; j < g.KernelWidth; j++)
                        {
                            int ih = oh * g.StrideHeight - g.PadHeight + i, iw = ow * g.StrideWidth - g.PadWidth + j;
                            if (ih >= 0 && ih < g.InHeight && iw >= 0 && iw < g.InWidth)
                                visit(p * g.InPlane + ih * g.InWidth + iw, p * g.OutPlane + oh * g.OutWidth + ow, 1 / divisor);
                        }
                }
    }

    static int FloorStart(int i, int input, int output) => (int)Math.Floor((double)i * input / output);
    static int CeilEnd(int i, int input, int output) => (int)Math.Ceiling((double)(i + 1) * input / output);

    static (double[] Avg, double[] Max, long[] Indices) NaiveAdaptive(AdaptivePool2dGeometry g, double[] x)
    {
        var avg = new double[g.OutputLength];
        var max = new double[g.OutputLength];
        var idx = new long[g.OutputLength];
        for (int p = 0; p < g.Planes; p++)
            for (int oh = 0; oh < g.OutHeight; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++)
                {
                    int o = p * g.OutPlane + oh * g.OutWidth + ow;
                    double sum = 0, best = double.NegativeInfinity; int count = 0;
                    for (int ih = FloorStart(oh, g.InHeight, g.OutHeight); ih < CeilEnd(oh, g.InHeight, g.OutHeight); ih++)
                        for (int iw = FloorStart(ow, g.InWidth, g.OutWidth); iw < CeilEnd(ow, g.InWidth, g.OutWidth); iw++)
                        {
                            double v = x[p * g.InPlane + ih * g.InWidth + iw];
                            sum += v; count++;
                            if (v > best) { best = v; idx[o] = ih * g.InWidth + iw; }
                        }
                    avg[o] = sum / count;
                    max[o] = best;
                }
        return (avg, max, idx);
    }

    static double[] Scatter(int inputLength, int inPlane, int outPlane, double[] dy, long[] indices)
    {
        var dx = new double[inputLength];
        for (int o = 0; o < dy.Length; o++) dx[o / outPlane * inPlane + indices[o]] += dy[o];
        return dx;
    }

    // ---- Output sizes ----

    [Theory]
    [InlineData(5, 2, 2, 0, 1, false, 2)]
    [InlineData(5, 2, 2, 0, 1, true, 3)]
    [InlineData(4, 3, 2, 1, 1, true, 3)]   // the third window starts at 3, inside the input, so it is kept
    [InlineData(5, 2, 2, 1, 1, true, 3)]   // ⌊(5 + 2 − 1 − 1 + 1)/2⌋ + 1 = 4, but window 4 would start at 3·2 − 1 = 5, in the right padding: dropped
    [InlineData(5, 2, 2, 1, 1, false, 3)]
    [InlineData(4, 3, 2, 1, 1, false, 2)]
    [InlineData(6, 3, 2, 0, 1, true, 3)]
    [InlineData(6, 3, 2, 0, 1, false, 2)]
    [InlineData(7, 2, 2, 1, 1, true, 4)]
    [InlineData(7, 2, 2, 1, 1, false, 4)]
    [InlineData(28, 2, 2, 0, 1, false, 14)]
    [InlineData(9, 3, 1, 1, 2, false, 7)]  // dilation 2: 9 + 2 − 4 − 1 + 1
    public void OutputSizeFollowsPyTorch(int input, int kernel, int stride, int pad, int dilation, bool ceil, int expected)
        => Assert.Equal(expected, Pool2dGeometry.OutputSize(input, kernel, stride, pad, dilation, ceil));

    [Fact]
    public void GeometryRejectsBadSizes()
    {
        Assert.Contains("half of the kernel", Assert.Throws<ArgumentException>(() => new Pool2dGeometry(1, 1, 5, 5, 2, 2, 2, 2, 2, 0)).Message);
        Assert.Throws<ArgumentException>(() => new Pool2dGeometry(1, 1, 2, 2, 3, 3, 1, 1));
        Assert.Throws<ArgumentException>(() => new Pool2dGeometry(1, 1, 5, 5, 2, 2, 0, 2));
        Assert.Throws<ArgumentException>(() => new AdaptivePool2dGeometry(1, 1, 5, 5, 0, 2));
        var dilated = new Pool2dGeometry(1, 1, 5, 5, 2, 2, 1, 1, dilationHeight: 2);
        Assert.Contains("dilation", Assert.Throws<ArgumentException>(() => AvgPool2dKernel.Forward<float>(dilated, new float[25], new float[dilated.OutputLength])).Message);
    }

    // ---- MaxPool2d ----

    [Theory, MemberData(nameof(MaxCases))]
    public void MaxPoolMatchesDirectLoop(string geometry)
    {
        var g = ParseMax(geometry);
        double[] x = Random(g.InputLength, 1), dy = Random(g.OutputLength, 2);
        (double[] expected, long[] expectedIdx) = NaiveMax(g, x);
        var y = new double[g.OutputLength];
        var idx = new long[g.OutputLength];
        MaxPool2dKernel.Forward<double>(g, x, y, idx);
        Close(expected, y, 0, "max pool");
        Assert.Equal(expectedIdx, idx);

        var yf = new float[g.OutputLength];
        var idxf = new long[g.OutputLength];
        MaxPool2dKernel.Forward<float>(g, ToFloat(x), yf, idxf);
        Close(NaiveMax(g, ToDouble(ToFloat(x))).Out, yf, 0, "float max pool");
        Assert.Equal(expectedIdx, idxf);
        var yNoIndices = new float[g.OutputLength];
        MaxPool2dKernel.Forward<float>(g, ToFloat(x), yNoIndices, default); // indices are optional (a separable path)
        Assert.Equal(yf, yNoIndices);
        var yd = new double[g.OutputLength];
        MaxPool2dKernel.Forward<double>(g, x, yd, default);
        Assert.Equal(y, yd);

        var dx = new double[g.InputLength];
        Array.Fill(dx, double.NaN);
        MaxPool2dKernel.Backward<double>(g, dy, idx, dx);
        Close(Scatter(g.InputLength, g.InPlane, g.OutPlane, dy, expectedIdx), dx, 0, "max pool backward");
    }

    [Theory]
    [InlineData("1,2,5,5,3,3,2,2,1,1,1,1,1")]
    [InlineData("2,1,6,5,2,3,2,1,1,1,2,1,0")]
    public void MaxPoolBackwardMatchesFiniteDifferences(string geometry)
    {
        var g = ParseMax(geometry);
        double[] x = Random(g.InputLength, 3), dy = Random(g.OutputLength, 4);
        var y = new double[g.OutputLength];
        var idx = new long[g.OutputLength];
        MaxPool2dKernel.Forward<double>(g, x, y, idx);
        var dx = new double[g.InputLength];
        MaxPool2dKernel.Backward<double>(g, dy, idx, dx);
        FiniteDifference(x, () => { MaxPool2dKernel.Forward<double>(g, x, y, default); return Dot(dy, y); }, dx, "max pool d/dx");
    }

    [Fact]
    public void MaxPoolPropagatesNaNAndKeepsFirstOfTies()
    {
        var g = new Pool2dGeometry(1, 1, 2, 4, 2, 2, 2, 2);
        double[] x = [1, 3, 2, double.NaN, 3, 0, 5, 2];
        var y = new double[2];
        var idx = new long[2];
        MaxPool2dKernel.Forward<double>(g, x, y, idx);
        Assert.Equal(3, y[0]);
        Assert.Equal(1, idx[0]); // 3 at index 1 and again at 4: the first wins
        Assert.True(double.IsNaN(y[1]));
        Assert.Equal(3, idx[1]);

        // Without indices, a 3×3 window (the separable path) lets NaN win too.
        var g3 = new Pool2dGeometry(1, 1, 3, 4, 3, 3, 1, 1, 1, 1);
        double[] x3 = [1, 2, 3, 4, 5, double.NaN, 7, 8, 9, 10, 11, 12];
        var y3 = new double[g3.OutputLength];
        MaxPool2dKernel.Forward<double>(g3, x3, y3, default);
        double nan = double.NaN;
        Assert.Equal([nan, nan, nan, 8, nan, nan, nan, 12, nan, nan, nan, 12], y3);
        var withIndices = new double[g3.OutputLength];
        MaxPool2dKernel.Forward<double>(g3, x3, withIndices, new long[g3.OutputLength]);
        Assert.Equal(withIndices, y3);
    }

    [Fact]
    public void MaxPoolTwoByTwoFastPathFollowsTheGeneralRule()
    {
        // The unrolled 2×2/stride-2 path on NaN, −∞ and ties, by hand and against the naive reference loop.
        var g = new Pool2dGeometry(1, 1, 2, 8, 2, 2, 2, 2);
        double[] x = [double.NaN, 1, double.NegativeInfinity, double.NegativeInfinity, 4, 4, 0, -1,
                      double.NaN, 2, double.NegativeInfinity, double.NegativeInfinity, 4, 5, 0, 0];
        var y = new double[4];
        var idx = new long[4];
        MaxPool2dKernel.Forward<double>(g, x, y, idx);
        Assert.True(double.IsNaN(y[0]));
        Assert.Equal(8, idx[0]);                       // the later NaN wins
        Assert.Equal(double.NegativeInfinity, y[1]);
        Assert.Equal(2, idx[1]);                       // all −∞: the first tap
        Assert.Equal(5, y[2]);
        Assert.Equal(13, idx[2]);
        Assert.Equal(0, y[3]);
        Assert.Equal(6, idx[3]);                       // ties keep the first
        var (expected, expectedIdx) = NaiveMax(g, x);            // the naive loop has no NaN rule: skip window 0
        Assert.Equal(expectedIdx.Skip(1), idx.Skip(1));
        Assert.Equal(expected.Skip(1), y.Skip(1));
    }

    [Theory]
    [InlineData(2, 3, 28, 28)]  // 392 pairs per plane, rows of 14 outputs (8 + 6)
    [InlineData(1, 2, 6, 36)]   // rows of 18 outputs (16 + 2)
    [InlineData(1, 1, 4, 16)]   // rows of 8
    [InlineData(3, 2, 14, 14)]  // rows of 7: scalar rows after vector pairs
    public void MaxPoolFloatVectorPathMatchesTheScalarRule(int n, int c, int h, int w)
    {
        // The float 2×2 path works in two vector passes; the double path is the scalar loop. Ties, −∞ and NaN are planted.
        var g = new Pool2dGeometry(n, c, h, w, 2, 2, 2, 2);
        double[] x = Random(g.InputLength, 7);
        for (int i = 0; i < x.Length; i++)
        {
            if (i % 37 == 5) x[i] = double.NaN;
            else if (i % 41 == 3) x[i] = double.NegativeInfinity;
            else if (i % 11 == 0) x[i] = 0.5;
            else x[i] = Math.Round(x[i] * 4) / 4; // many ties
        }
        var y = FloatPathMatchesScalarLoop(g, x);
        Assert.Contains(y, float.IsNaN);
        var yNoIndices = new float[g.OutputLength];
        MaxPool2dKernel.Forward<float>(g, ToFloat(x), yNoIndices, default);
        Assert.Equal(y, yNoIndices);
    }

    [Theory]
    [InlineData(2, 3, 10, 10, 5, 2)]  // SPPF's 5×5 pool: rows of 10 outputs (8 + 2)
    [InlineData(1, 2, 7, 21, 3, 1)]   // rows of 21 (16 + 5)
    [InlineData(1, 1, 9, 13, 4, 1)]   // an even window: 12 outputs per row
    [InlineData(1, 2, 5, 5, 5, 0)]    // one output: the scalar tail only
    [InlineData(1, 1, 20, 20, 5, 2)]
    public void MaxPoolFloatSlidingPathWithIndicesMatchesTheScalarRule(int n, int c, int h, int w, int k, int pad)
    {
        // The float stride-1 path with indices works row by row, then over rows; the double path is the scalar loop.
        // Ties, −∞ (a whole −∞ window included), NaN and signed zeros are planted.
        var g = new Pool2dGeometry(n, c, h, w, k, k, 1, 1, pad, pad);
        double[] x = Random(g.InputLength, 9);
        for (int i = 0; i < x.Length; i++)
        {
            if (i % 37 == 5) x[i] = double.NaN;
            else if (i % 41 == 3 || i < k * w) x[i] = double.NegativeInfinity;
            else if (i % 13 == 0) x[i] = i % 2 == 0 ? 0.0 : -0.0;
            else x[i] = Math.Round(x[i] * 4) / 4; // many ties
        }
        FloatPathMatchesScalarLoop(g, x);
    }

    // A float fast path against the double scalar loop: indices equal, values bit for bit; returns the float output.
    static float[] FloatPathMatchesScalarLoop(Pool2dGeometry g, double[] x)
    {
        var expected = new double[g.OutputLength];
        var expectedIdx = new long[g.OutputLength];
        MaxPool2dKernel.Forward<double>(g, x, expected, expectedIdx);
        var y = new float[g.OutputLength];
        var idx = new long[g.OutputLength];
        MaxPool2dKernel.Forward<float>(g, ToFloat(x), y, idx);
        Assert.Equal(expectedIdx, idx);
        Assert.Equal(expected.Select(v => BitConverter.SingleToInt32Bits((float)v)), y.Select(BitConverter.SingleToInt32Bits));
        return y;
    }

    [Fact]
    public void MaxPoolBackwardRejectsForeignIndices()
    {
        var g = new Pool2dGeometry(1, 1, 4, 4, 2, 2, 2, 2);
        Assert.Contains("outside", Assert.Throws<ArgumentException>(() =>
            MaxPool2dKernel.Backward<float>(g, new float[4], new long[] { 0, 1, 2, 16 }, new float[16])).Message);
        Assert.Contains("MaxPool2d forward", Assert.Throws<ArgumentException>(() =>
            MaxPool2dKernel.Forward<float>(g, new float[15], new float[4], default)).Message);
    }

    // ---- AvgPool2d ----

    [Theory, MemberData(nameof(AvgCases))]
    public void AvgPoolMatchesDirectLoop(string geometry)
    {
        var g = ParseAvg(geometry);
        double[] x = Random(g.InputLength, 1), dy = Random(g.OutputLength, 2);
        foreach (bool includePad in new[] { true, false })
            foreach (int? divisor in new int?[] { null, 3 })
            {
                string what = $"avg pool (count_include_pad {includePad}, divisor {divisor})";
                var expected = new double[g.OutputLength];
                var expectedDx = new double[g.InputLength];
                ForEachAvgTap(g, includePad, divisor, (xi, yi, weight) => { expected[yi] += weight * x[xi]; expectedDx[xi] += weight * dy[yi]; });
                var y = new double[g.OutputLength];
                AvgPool2dKernel.Forward<double>(g, x, y, includePad, divisor);
                Close(expected, y, 1e-12, what);
                var yf = new float[g.OutputLength];
                AvgPool2dKernel.Forward<float>(g, ToFloat(x), yf, includePad, divisor);
                Close(expected, yf, 1e-5, "float " + what);
                var dx = new double[g.InputLength];
                Array.Fill(dx, double.NaN);
                AvgPool2dKernel.Backward<double>(g, dy, dx, includePad, divisor);
                Close(expectedDx, dx, 1e-12, what + " backward");
            }
    }

    [Fact]
    public void AvgPoolBackwardMatchesFiniteDifferences()
    {
        var g = new Pool2dGeometry(2, 1, 5, 6, 3, 3, 2, 2, 1, 1, ceilMode: true);
        double[] x = Random(g.InputLength, 3), dy = Random(g.OutputLength, 4);
        var y = new double[g.OutputLength];
        var dx = new double[g.InputLength];
        AvgPool2dKernel.Backward<double>(g, dy, dx, countIncludePad: false);
        FiniteDifference(x, () => { AvgPool2dKernel.Forward<double>(g, x, y, countIncludePad: false); return Dot(dy, y); }, dx, "avg pool d/dx");
    }

    // ---- Adaptive pooling ----

    [Theory]
    [InlineData(2, 3, 7, 9, 3, 4)]
    [InlineData(1, 2, 5, 5, 5, 5)]
    [InlineData(1, 1, 4, 6, 7, 9)]   // output larger than input: windows repeat
    [InlineData(3, 2, 10, 10, 1, 1)] // global pooling
    [InlineData(2, 2, 1, 13, 1, 5)]  // adaptive pool1d as H = 1
    public void AdaptivePoolsMatchDirectLoop(int n, int c, int h, int w, int outH, int outW)
    {
        var g = new AdaptivePool2dGeometry(n, c, h, w, outH, outW);
        double[] x = Random(g.InputLength, 1), dy = Random(g.OutputLength, 2);
        (double[] avg, double[] max, long[] idx) = NaiveAdaptive(g, x);

        var y = new double[g.OutputLength];
        AdaptiveAvgPool2dKernel.Forward<double>(g, x, y);
        Close(avg, y, 1e-12, "adaptive avg");
        var yf = new float[g.OutputLength];
        AdaptiveAvgPool2dKernel.Forward<float>(g, ToFloat(x), yf);
        Close(avg, yf, 1e-5, "float adaptive avg");
        var dx = new double[g.InputLength];
        Array.Fill(dx, double.NaN);
        AdaptiveAvgPool2dKernel.Backward<double>(g, dy, dx);
        FiniteDifference(x, () => { AdaptiveAvgPool2dKernel.Forward<double>(g, x, y); return Dot(dy, y); }, dx, "adaptive avg d/dx");

        var got = new long[g.OutputLength];
        AdaptiveMaxPool2dKernel.Forward<double>(g, x, y, got);
        Close(max, y, 0, "adaptive max");
        Assert.Equal(idx, got);
        Array.Fill(dx, double.NaN);
        AdaptiveMaxPool2dKernel.Backward<double>(g, dy, got, dx);
        Close(Scatter(g.InputLength, g.InPlane, g.OutPlane, dy, idx), dx, 0, "adaptive max backward");
    }

    [Fact]
    public void ResultsAreBitIdenticalForOneAndTwoThreads()
    {
        var g = new Pool2dGeometry(4, 5, 13, 12, 3, 3, 2, 2, 1, 1, ceilMode: true);
        var a = new AdaptivePool2dGeometry(4, 5, 13, 12, 5, 4);
        float[] x = ToFloat(Random(g.InputLength, 1)), dy = ToFloat(Random(g.OutputLength, 2)), dya = ToFloat(Random(a.OutputLength, 3));
        float[][] Run()
        {
            var y = new float[g.OutputLength]; var idx = new long[g.OutputLength]; var dx = new float[g.InputLength];
            var ya = new float[g.OutputLength]; var dxa = new float[g.InputLength];
            var yb = new float[a.OutputLength]; var dxb = new float[a.InputLength];
            MaxPool2dKernel.Forward<float>(g, x, y, idx);
            MaxPool2dKernel.Backward<float>(g, dy, idx, dx);
            AvgPool2dKernel.Forward<float>(g, x, ya);
            AvgPool2dKernel.Backward<float>(g, dy, dxa);
            AdaptiveAvgPool2dKernel.Forward<float>(a, x, yb);
            AdaptiveAvgPool2dKernel.Backward<float>(a, dya, dxb);
            return [y, dx, ya, dxa, yb, dxb];
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
