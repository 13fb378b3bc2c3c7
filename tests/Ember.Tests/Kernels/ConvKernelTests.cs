using System.Runtime.Intrinsics;
using Ember.Kernels.Conv;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;
using static Ember.Tests.Kernels.KernelAssert;

namespace Ember.Tests.Kernels;

// In the kernel-settings collection: some tests change the thread count or force a vector width, which must not
// change under another test's feet (a bit-identity check would then compare two different kernels).
[Collection(KernelSettingsCollection.Name)]
public class ConvKernelTests
{
    /// <summary>The GEMM widths this process runs: Vector128 everywhere, then 256 and 512 bits where accelerated.</summary>
    internal static List<GemmIsa> AcceleratedWidths()
    {
        var widths = new List<GemmIsa> { GemmIsa.Vector128 };
        if (Vector256.IsHardwareAccelerated) widths.Add(GemmIsa.Vector256);
        if (Vector512.IsHardwareAccelerated) widths.Add(GemmIsa.Vector512);
        return widths;
    }

    // "N,C_in,H,W,C_out,kH,kW,sH,sW,pH,pW,dH,dW,groups"
    public static TheoryData<string> ConvCases => new()
    {
        "1,1,5,5,1,3,3,1,1,0,0,1,1,1",
        "3,2,7,6,4,3,3,1,1,1,1,1,1,1",
        "2,4,9,8,6,3,3,2,2,1,1,1,1,2",
        "3,4,8,9,4,3,3,1,1,1,1,1,1,4",      // depthwise
        "2,3,10,11,6,5,5,2,2,2,2,1,1,3",    // depthwise, channel multiplier 2
        "1,2,9,9,3,3,3,1,1,2,2,2,2,1",      // dilation 2
        "3,4,6,7,4,1,1,1,1,0,0,1,1,1",      // pointwise: no im2col copy
        "2,4,7,7,2,1,1,2,2,0,0,1,1,2",      // 1×1 stride 2
        "3,2,1,13,4,1,3,1,1,0,1,1,1,1",     // conv1d as H = 1
        "2,2,1,15,4,1,5,1,2,0,2,1,2,2",     // conv1d with stride, dilation, groups
        "1,3,5,4,2,5,3,1,1,2,1,1,1,1",      // kernel 5×3 on a 5×4 input
        "2,2,9,7,3,3,2,2,1,1,0,1,2,1",      // asymmetric stride, padding, dilation
        "3,6,12,10,6,3,3,2,2,2,2,2,2,3",
        "1,2,6,6,2,5,5,2,2,0,0,1,1,1",      // stride leaves the last columns unread
        "2,4,9,8,8,3,3,1,2,2,1,2,1,4",      // depthwise (direct kernel) with asymmetric stride and dilation
        "2,1,7,6,5,3,3,1,1,1,1,1,1,1",      // one input channel: direct kernel with multiplier 5
        "0,2,5,5,3,3,3,1,1,1,1,1,1,1",      // empty batch
        // Stride 1 goes through ShiftedGemmConv (forward and, when d·(k − 1) ≥ padding, the input gradient):
        "2,32,12,13,64,3,3,1,1,1,1,1,1,1",  // k = 288 in two slices, 64 rows on the 8-row kernel, 6 column panels
        "2,6,9,10,20,3,3,1,1,0,0,1,1,2",    // groups, no padding, 10 rows per group (an edge panel of the 12-row kernel)
        "1,4,7,8,12,5,5,1,1,3,3,1,1,1",     // 5×5 with padding 3
        "1,3,5,5,4,3,3,1,1,3,3,1,1,1",      // padding 3 > d·(k − 1): the input gradient takes the im2col path
        "2,5,6,9,7,2,3,1,1,1,0,2,1,1",      // even kernel height, dilation 2, rectangular
    };

    // "N,C_in,H,W,C_out,kH,kW,sH,sW,pH,pW,opH,opW,dH,dW,groups"
    public static TheoryData<string> TransposedCases => new()
    {
        "2,3,4,5,2,3,3,2,2,1,1,1,1,1,1,1",
        "1,4,3,3,6,3,3,2,2,0,0,0,0,1,1,2",
        "3,2,5,4,2,3,3,1,1,1,1,0,0,2,2,2",
        "2,2,3,4,4,2,2,3,3,0,0,2,2,1,1,1",
        "1,2,4,4,2,3,3,1,1,0,0,1,1,2,2,1",  // output padding ≥ stride (allowed because < dilation)
        "2,3,1,7,3,1,3,1,2,0,1,0,1,1,1,1",  // conv_transpose1d as H = 1
        "2,4,3,5,4,1,1,1,1,0,0,0,0,1,1,4",  // pointwise, depthwise
    };

    static Conv2dGeometry Parse(string s)
    {
        int[] v = Array.ConvertAll(s.Split(','), int.Parse);
        return new Conv2dGeometry(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]);
    }

    static ConvTranspose2dGeometry ParseTransposed(string s)
    {
        int[] v = Array.ConvertAll(s.Split(','), int.Parse);
        return new ConvTranspose2dGeometry(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]);
    }

    // ---- The living definition: direct loops over every (output, tap) pair. ----

    /// <summary>Calls visit(xIndex, wIndex, yIndex) for every input·weight product that contributes to an output of the convolution.</summary>
    static void ForEachTap(in Conv2dGeometry g, Action<int, int, int> visit)
    {
        int inG = g.InChannelsPerGroup, outG = g.OutChannelsPerGroup;
        for (int n = 0; n < g.Batch; n++)
            for (int co = 0; co < g.OutChannels; co++)
                for (int oh = 0; oh < g.OutHeight; oh++)
                    for (int ow = 0; ow < g.OutWidth; ow++)
                        for (int cig = 0; cig < inG; cig++)
                            for (int i = 0; i < g.KernelHeight; i++)
                                for (int j = 0; j < g.KernelWidth; j++)
                                {
                                    int ih = oh * g.StrideHeight - g.PadHeight + i * g.DilationHeight;
                                    int iw = ow * g.StrideWidth - g.PadWidth + j * g.DilationWidth;
                                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                                    int ci = co / outG * inG + cig;
                                    visit(((n * g.InChannels + ci) * g.InHeight + ih) * g.InWidth + iw,
                                        ((co * inG + cig) * g.KernelHeight + i) * g.KernelWidth + j,
                                        ((n * g.OutChannels + co) * g.OutHeight + oh) * g.OutWidth + ow);
                                }
    }

    static double[] NaiveForward(Conv2dGeometry g, double[] x, double[] w, double[]? b)
    {
        var y = new double[g.OutputLength];
        if (b is not null)
            for (int k = 0; k < y.Length; k++) y[k] = b[k / g.OutPlane % g.OutChannels];
        ForEachTap(g, (xi, wi, yi) => y[yi] += w[wi] * x[xi]);
        return y;
    }

    internal static double[] NaiveGradInput(Conv2dGeometry g, double[] dy, double[] w)
    {
        var dx = new double[g.InputLength];
        ForEachTap(g, (xi, wi, yi) => dx[xi] += w[wi] * dy[yi]);
        return dx;
    }

    static double[] NaiveGradWeight(Conv2dGeometry g, double[] x, double[] dy)
    {
        var dw = new double[g.WeightLength];
        ForEachTap(g, (xi, wi, yi) => dw[wi] += x[xi] * dy[yi]);
        return dw;
    }

    static double[] NaiveGradBias(int batch, int channels, int plane, double[] dy)
    {
        var db = new double[channels];
        for (int k = 0; k < dy.Length; k++) db[k / plane % channels] += dy[k];
        return db;
    }

    /// <summary>conv_transpose2d straight from its definition: every input·weight product scattered onto the output.</summary>
    static double[] NaiveTransposedForward(ConvTranspose2dGeometry t, double[] x, double[] w, double[]? b)
    {
        var c = t.Conv;
        int outG = c.InChannelsPerGroup, inG = c.OutChannelsPerGroup; // per group: transposed out channels, transposed in channels
        var y = new double[t.OutputLength];
        int oH = t.OutHeight, oW = t.OutWidth;
        if (b is not null)
            for (int k = 0; k < y.Length; k++) y[k] = b[k / (oH * oW) % t.OutChannels];
        for (int n = 0; n < t.Batch; n++)
            for (int ci = 0; ci < t.InChannels; ci++)
                for (int ih = 0; ih < t.InHeight; ih++)
                    for (int iw = 0; iw < t.InWidth; iw++)
                        for (int cog = 0; cog < outG; cog++)
                            for (int i = 0; i < c.KernelHeight; i++)
                                for (int j = 0; j < c.KernelWidth; j++)
                                {
                                    int oy = ih * c.StrideHeight - c.PadHeight + i * c.DilationHeight;
                                    int ox = iw * c.StrideWidth - c.PadWidth + j * c.DilationWidth;
                                    if (oy < 0 || oy >= oH || ox < 0 || ox >= oW) continue;
                                    int co = ci / inG * outG + cog;
                                    y[((n * t.OutChannels + co) * oH + oy) * oW + ox] +=
                                        w[((ci * outG + cog) * c.KernelHeight + i) * c.KernelWidth + j] *
                                        x[((n * t.InChannels + ci) * t.InHeight + ih) * t.InWidth + iw];
                                }
        return y;
    }

    // ---- Conv2d ----

    [Theory, MemberData(nameof(ConvCases))]
    public void ForwardMatchesDirectLoopDouble(string geometry)
    {
        var g = Parse(geometry);
        double[] x = Random(g.InputLength, 1), w = Random(g.WeightLength, 2), b = Random(g.OutChannels, 3);
        var y = new double[g.OutputLength];
        Conv2dKernel.Forward<double>(g, x, w, b, y);
        Close(NaiveForward(g, x, w, b), y, 1e-12, "forward with bias");
        Conv2dKernel.Forward<double>(g, x, w, default, y);
        Close(NaiveForward(g, x, w, null), y, 1e-12, "forward without bias");
    }

    [Theory, MemberData(nameof(ConvCases))]
    public void ForwardMatchesDirectLoopFloat(string geometry)
    {
        var g = Parse(geometry);
        double[] x = Random(g.InputLength, 1), w = Random(g.WeightLength, 2), b = Random(g.OutChannels, 3);
        var y = new float[g.OutputLength];
        Conv2dKernel.Forward<float>(g, ToFloat(x), ToFloat(w), ToFloat(b), y);
        // The reference sees the same float-rounded inputs, so only the accumulation differs.
        Close(NaiveForward(g, ToDouble(ToFloat(x)), ToDouble(ToFloat(w)), ToDouble(ToFloat(b))), y, 1e-5, "float forward");
    }

    // ---- Fused forward: act(conv·scale + shift) per output channel ----

    // Every route of the fused forward: shifted GEMM at stride 1 and through the phase split, pointwise and im2col GEMMs
    // (with the output pass per image, or after the images in parallel when there are fewer images than threads), depthwise.
    public static TheoryData<string, string> FusedCases()
    {
        var data = new TheoryData<string, string>();
        string[] geometries =
        [
            "3,2,7,6,4,3,3,1,1,1,1,1,1,1",       // shifted GEMM, stride 1
            "2,32,12,13,64,3,3,1,1,1,1,1,1,1",   // two k-slices, several panels
            "2,4,9,8,6,3,3,2,2,1,1,1,1,2",       // stride 2 (phase split), groups
            "1,3,12,12,4,6,6,2,2,2,2,1,1,1",     // YOLOv5's 6×6 stride-2 stem, one image
            "3,4,6,7,4,1,1,1,1,0,0,1,1,1",       // pointwise, three images
            "1,4,6,7,5,1,1,1,1,0,0,1,1,1",       // pointwise, one image
            "1,2,6,6,2,5,5,2,2,0,0,1,1,1",       // im2col (the phase grid would be 3× the output)
            "3,4,8,9,4,3,3,1,1,1,1,1,1,4",       // depthwise
        ];
        foreach (string geometry in geometries)
            foreach (string activation in new[] { nameof(ConvActivation.None), nameof(ConvActivation.Relu), nameof(ConvActivation.Silu), nameof(ConvActivation.SiluThenResidual) })
                data.Add(geometry, activation);
        return data;
    }

    static double[] NaiveFused(Conv2dGeometry g, double[] x, double[] w, double[]? scale, double[]? shift, ConvActivation activation,
        double[]? residual = null)
    {
        double[] y = NaiveForward(g, x, w, null);
        for (int i = 0; i < y.Length; i++)
        {
            int co = i / g.OutPlane % g.OutChannels;
            double r = residual is null ? 0 : residual[i];
            double v = y[i] * (scale is null ? 1 : scale[co]) + (shift is null ? 0 : shift[co]) + (activation == ConvActivation.SiluThenResidual ? 0 : r);
            y[i] = activation switch
            {
                ConvActivation.Relu => Math.Max(v, 0),
                ConvActivation.Silu => v / (1 + Math.Exp(-v)),
                ConvActivation.SiluThenResidual => v / (1 + Math.Exp(-v)) + r,
                _ => v,
            };
        }
        return y;
    }

    [Theory, MemberData(nameof(FusedCases))]
    public void FusedForwardMatchesConvThenAffineThenActivation(string geometry, string activationName)
    {
        var g = Parse(geometry);
        var activation = Enum.Parse<ConvActivation>(activationName);
        double[] x = Random(g.InputLength, 1), w = Random(g.WeightLength, 2), scale = Random(g.OutChannels, 3), shift = Random(g.OutChannels, 4);
        // Scales of both signs and up to 3 in size, so the activation sees negative and positive values.
        for (int c = 0; c < scale.Length; c++) scale[c] *= 3;
        var y = new double[g.OutputLength];
        Conv2dKernel.ForwardFused<double>(g, x, w, scale, shift, activation, y);
        Close(NaiveFused(g, x, w, scale, shift, activation), y, 1e-12, $"double, {activation}");
        Conv2dKernel.ForwardFused<double>(g, x, w, default, shift, activation, y);
        Close(NaiveFused(g, x, w, null, shift, activation), y, 1e-12, $"double, {activation}, no scale");

        float[] xf = ToFloat(x), wf = ToFloat(w), sf = ToFloat(scale), bf = ToFloat(shift);
        var yf = new float[g.OutputLength];
        Conv2dKernel.ForwardFused<float>(g, xf, wf, sf, bf, activation, yf);
        Close(NaiveFused(g, ToDouble(xf), ToDouble(wf), ToDouble(sf), ToDouble(bf), activation), yf, 1e-5, $"float, {activation}");
        Conv2dKernel.ForwardFused<float>(g, xf, wf, sf, default, activation, yf);
        Close(NaiveFused(g, ToDouble(xf), ToDouble(wf), ToDouble(sf), null, activation), yf, 1e-5, $"float, {activation}, no shift");

        // A residual of the output's shape, added before the activation (ResNet's shortcut), or after the SiLU (YOLOv5's).
        double[] r = Random(g.OutputLength, 5);
        Conv2dKernel.ForwardFused<double>(g, x, w, scale, shift, activation, y, r);
        Close(NaiveFused(g, x, w, scale, shift, activation, r), y, 1e-12, $"double, {activation}, residual");
        float[] rf = ToFloat(r);
        Conv2dKernel.ForwardFused<float>(g, xf, wf, sf, bf, activation, yf, rf);
        Close(NaiveFused(g, ToDouble(xf), ToDouble(wf), ToDouble(sf), ToDouble(bf), activation, ToDouble(rf)), yf, 1e-5, $"float, {activation}, residual");
    }

    [Theory]
    [InlineData("3,4,6,7,5,1,1,1,1,0,0,1,1,1")]  // pointwise, three images: the GEMM per image
    [InlineData("1,4,6,7,5,1,1,1,1,0,0,1,1,1")]  // pointwise, one image: the output pass after the GEMM
    [InlineData("2,3,7,6,4,3,3,1,1,1,1,1,1,1")]  // shifted GEMM, two images: through a dense scratch
    [InlineData("2,4,9,8,6,3,3,2,2,1,1,1,1,2")]  // stride 2, groups
    [InlineData("2,2,6,6,2,5,5,2,2,0,0,1,1,1")]  // im2col
    [InlineData("3,4,8,9,4,3,3,1,1,1,1,1,1,4")]  // depthwise
    public void FusedForwardWritesImagesApartAsTheDenseResult(string geometry)
    {
        var g = Parse(geometry);
        float[] x = ToFloat(Random(g.InputLength, 1)), w = ToFloat(Random(g.WeightLength, 2));
        float[] scale = ToFloat(Random(g.OutChannels, 3)), shift = ToFloat(Random(g.OutChannels, 4)), r = ToFloat(Random(g.OutputLength, 5));
        int image = g.OutChannels * g.OutPlane, stride = image + 7;
        foreach (var activation in new[] { ConvActivation.Silu, ConvActivation.SiluThenResidual })
        {
            var dense = new float[g.OutputLength];
            Conv2dKernel.ForwardFused<float>(g, x, w, scale, shift, activation, dense, r);
            // A channel slice of a wider tensor: 7 foreign elements after each image, which must stay as they were.
            var apart = new float[(g.Batch - 1) * stride + image + 3];
            Array.Fill(apart, -123f);
            Conv2dKernel.ForwardFused<float>(g, x, w, scale, shift, activation, apart, r, stride);
            for (int n = 0; n < g.Batch; n++)
            {
                Assert.True(dense.AsSpan(n * image, image).SequenceEqual(apart.AsSpan(n * stride, image)), $"{activation}: image {n} differs from the dense result");
                int gapEnd = Math.Min(apart.Length, (n + 1) * stride);
                for (int i = n * stride + image; i < gapEnd; i++) Assert.Equal(-123f, apart[i]);
            }
        }
        var e = Assert.Throws<ArgumentException>(() => Conv2dKernel.ForwardFused<float>(g, x, w, scale, shift, ConvActivation.Silu, new float[g.OutputLength + 8], default, image - 1));
        Assert.Contains("outputImageStride", e.Message);
    }

    [Fact]
    public void FusedForwardReluKeepsNaN()
    {
        var g = Parse("1,2,4,4,3,1,1,1,1,0,0,1,1,1");
        float[] x = ToFloat(Random(g.InputLength, 1)), w = ToFloat(Random(g.WeightLength, 2));
        x[5] = float.NaN;
        var y = new float[g.OutputLength];
        Conv2dKernel.ForwardFused<float>(g, x, w, default, default, ConvActivation.Relu, y);
        for (int co = 0; co < g.OutChannels; co++)
            Assert.True(float.IsNaN(y[co * g.OutPlane + 5]), $"channel {co}: relu(NaN) should stay NaN as in torch.relu, got {y[co * g.OutPlane + 5]}");
    }

    [Theory]
    [InlineData("9,16,9,11,32,3,3,1,1,1,1,1,1,1")]  // shifted GEMM: the epilogue in each part's crop
    [InlineData("1,16,9,11,32,3,3,2,2,1,1,1,1,1")]  // one strided image cut into parts that threads share
    [InlineData("1,16,9,11,32,1,1,1,1,0,0,1,1,1")]  // pointwise, one image: the output pass after the GEMM, in parallel
    public void FusedForwardIsBitIdenticalForOneAndTwoThreads(string geometry)
    {
        var g = Parse(geometry);
        float[] x = ToFloat(Random(g.InputLength, 1)), w = ToFloat(Random(g.WeightLength, 2));
        float[] scale = ToFloat(Random(g.OutChannels, 3)), shift = ToFloat(Random(g.OutChannels, 4));
        float[] Run()
        {
            var y = new float[g.OutputLength];
            Conv2dKernel.ForwardFused<float>(g, x, w, scale, shift, ConvActivation.Silu, y);
            return y;
        }
        int saved = ParallelRange.MaxThreads;
        try
        {
            ParallelRange.MaxThreads = 1;
            float[] one = Run();
            ParallelRange.MaxThreads = 2;
            Assert.True(one.AsSpan().SequenceEqual(Run()), "the fused forward differs between 1 and 2 threads");
        }
        finally { ParallelRange.MaxThreads = saved; }
    }

    [Theory, MemberData(nameof(ConvCases))]
    public void BackwardMatchesDirectLoop(string geometry)
    {
        var g = Parse(geometry);
        double[] x = Random(g.InputLength, 1), w = Random(g.WeightLength, 2), dy = Random(g.OutputLength, 4);
        var dx = new double[g.InputLength];
        var dw = new double[g.WeightLength];
        var db = new double[g.OutChannels];
        Array.Fill(dx, double.NaN); Array.Fill(dw, double.NaN); Array.Fill(db, double.NaN); // outputs must be overwritten, not accumulated
        Conv2dKernel.BackwardInput<double>(g, dy, w, dx);
        Conv2dKernel.BackwardWeight<double>(g, x, dy, dw);
        Conv2dKernel.BackwardBias<double>(g, dy, db);
        Close(NaiveGradInput(g, dy, w), dx, 1e-12, "grad input");
        Close(NaiveGradWeight(g, x, dy), dw, 1e-12, "grad weight");
        Close(NaiveGradBias(g.Batch, g.OutChannels, g.OutPlane, dy), db, 1e-12, "grad bias");

        var dxf = new float[g.InputLength];
        var dwf = new float[g.WeightLength];
        var dbf = new float[g.OutChannels];
        Conv2dKernel.BackwardInput<float>(g, ToFloat(dy), ToFloat(w), dxf);
        Conv2dKernel.BackwardWeight<float>(g, ToFloat(x), ToFloat(dy), dwf);
        Conv2dKernel.BackwardBias<float>(g, ToFloat(dy), dbf);
        double[] xr = ToDouble(ToFloat(x)), wr = ToDouble(ToFloat(w)), dyr = ToDouble(ToFloat(dy));
        Close(NaiveGradInput(g, dyr, wr), dxf, 1e-5, "float grad input");
        Close(NaiveGradWeight(g, xr, dyr), dwf, 1e-5, "float grad weight");
        Close(NaiveGradBias(g.Batch, g.OutChannels, g.OutPlane, dyr), dbf, 1e-5, "float grad bias");
    }

    [Theory]
    [InlineData("2,2,4,5,3,3,3,1,1,1,1,1,1,1")]
    [InlineData("1,4,5,5,4,3,3,2,2,1,1,2,2,2")]
    [InlineData("2,2,1,6,2,1,3,1,2,0,1,1,1,2")]
    public void BackwardMatchesFiniteDifferences(string geometry)
    {
        var g = Parse(geometry);
        double[] x = Random(g.InputLength, 5), w = Random(g.WeightLength, 6), b = Random(g.OutChannels, 7), dy = Random(g.OutputLength, 8);
        var y = new double[g.OutputLength];
        double Loss() { Conv2dKernel.Forward<double>(g, x, w, b, y); return Dot(dy, y); }
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = new double[b.Length];
        Conv2dKernel.BackwardInput<double>(g, dy, w, dx);
        Conv2dKernel.BackwardWeight<double>(g, x, dy, dw);
        Conv2dKernel.BackwardBias<double>(g, dy, db);
        FiniteDifference(x, Loss, dx, "d/dx");
        FiniteDifference(w, Loss, dw, "d/dw");
        FiniteDifference(b, Loss, db, "d/db");
    }

    [Theory]
    [InlineData("9,6,11,10,8,3,3,2,2,1,1,1,1,2")]  // 9 images ⇒ weight-gradient chunks of 2 images: the cross-chunk reduction
    [InlineData("5,6,11,10,12,3,3,1,1,1,1,1,1,6")] // depthwise direct kernel
    [InlineData("9,16,9,11,32,3,3,1,1,1,1,1,1,1")] // stride 1: ShiftedGemmConv forward, input gradient and weight-gradient blocks
    [InlineData("9,8,9,11,64,3,3,1,1,1,1,1,1,1")]  // stride 1, 64 channels: weight-gradient tiles on every width, chunk partials
    public void ResultsAreBitIdenticalForOneAndTwoThreads(string geometry)
    {
        var g = Parse(geometry);
        float[] x = ToFloat(Random(g.InputLength, 1)), w = ToFloat(Random(g.WeightLength, 2)), b = ToFloat(Random(g.OutChannels, 3));
        float[] dy = ToFloat(Random(g.OutputLength, 4));
        float[][] Run()
        {
            var y = new float[g.OutputLength]; var dx = new float[g.InputLength]; var dw = new float[g.WeightLength]; var db = new float[g.OutChannels];
            Conv2dKernel.Forward<float>(g, x, w, b, y);
            Conv2dKernel.BackwardInput<float>(g, dy, w, dx);
            Conv2dKernel.BackwardWeight<float>(g, x, dy, dw);
            Conv2dKernel.BackwardBias<float>(g, dy, db);
            return [y, dx, dw, db];
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

    // The weight gradients' cross-chunk reduction: every element (((dw + p₁) + p₂) + …) in chunk order, the bits of one
    // whole-array add per chunk, on any thread count; lengths around the parallel slice (16384) and the vector widths,
    // values spread over 2^±20 so that another order of the additions would round differently.
    [Theory]
    [InlineData(2, 0)]
    [InlineData(2, 1)]
    [InlineData(8, 257)]
    [InlineData(3, 16384)]
    [InlineData(8, 16384 * 2 + 37)]
    [InlineData(5, 70001)]
    [InlineData(1, 100)]
    public unsafe void ChunkPartialsAddInChunkOrderOnAnyThreadCount(int chunks, int length)
    {
        var rng = new Random(length + chunks);
        double Spread() => (rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-20, 21));
        double[] start = new double[length], partials = new double[Math.Max(0, chunks - 1) * length];
        for (int i = 0; i < start.Length; i++) start[i] = Spread();
        for (int i = 0; i < partials.Length; i++) partials[i] = Spread();
        float[] startF = ToFloat(start), partialsF = ToFloat(partials);
        float[] expectedF = (float[])startF.Clone();
        double[] expected = (double[])start.Clone();
        for (int c = 1; c < chunks; c++)
            for (int i = 0; i < length; i++)
            {
                expectedF[i] += partialsF[(c - 1) * length + i];
                expected[i] += partials[(c - 1) * length + i];
            }
        int saved = ParallelRange.MaxThreads;
        try
        {
            foreach (int threads in new[] { 1, 2, 5 })
            {
                ParallelRange.MaxThreads = threads;
                float[] dwF = (float[])startF.Clone();
                double[] dw = (double[])start.Clone();
                fixed (float* d = dwF, p = partialsF) Conv2dKernel.AddChunkPartials(d, p, chunks, length);
                fixed (double* d = dw, p = partials) Conv2dKernel.AddChunkPartials(d, p, chunks, length);
                Assert.True(dwF.AsSpan().SequenceEqual(expectedF), $"float, {threads} threads: not the in-order sums");
                Assert.True(dw.AsSpan().SequenceEqual(expected), $"double, {threads} threads: not the in-order sums");
            }
        }
        finally { ParallelRange.MaxThreads = saved; }
    }

    // The stride-1 shifted-GEMM kernels (forward, input gradient through the adjoint forward, weight-gradient dot
    // blocks) on each vector width the hardware runs, forced through GemmDriver.ForcedIsa.
    public static TheoryData<string, string> ShiftedCases()
    {
        string[] geometries =
        [
            "2,32,12,13,64,3,3,1,1,1,1,1,1,1",  // 64 rows: 8-row AVX-512 kernel; 4×3 blocks with remainders at 256/128 bits
            "2,6,9,10,20,3,3,1,1,0,0,1,1,2",    // groups, edge row panels, 54 taps (k % 3 == 0)
            "1,5,7,8,7,5,5,1,1,3,3,1,1,1",      // 7 outputs (a remainder row of the 4×3 blocks), 125 taps, padding 3
            "3,3,5,6,9,2,3,1,1,1,0,2,1,1",      // even kernel height, dilation 2, 18 taps
            "2,8,7,9,96,3,3,1,1,1,1,1,1,1",     // weight-gradient tiles: a half-empty last tile at 512 bits (float)
            "3,5,6,7,24,3,3,1,1,1,1,2,2,1",     // weight-gradient tiles at 128/256 bits, 45 taps (a last tap block of 3)
            "2,6,9,11,8,3,3,1,1,1,1,2,2,2",     // 4 output channels per group, groups and dilation 2
            "3,4,5,29,16,3,3,1,1,1,1,1,1,1",    // 16 rows; 31-wide grid rows end inside panels
            "2,8,9,13,16,3,3,1,1,1,1,1,1,1",    // 135 grid positions: AVX-512's one-vector last panel, 8-row kernel
            "2,8,9,13,24,3,3,1,1,1,1,1,1,1",    // the same with the 12-row kernel
        ];
        return OnEveryWidth(geometries);
    }

    // The weight gradient's outer-product tiles against its dot-product blocks (the path before them), on each width:
    // the tiles are chosen where the channels fill them, and both sum the same products.
    [Fact]
    public void WeightGradientTilesAgreeWithDotBlocksOnEveryWidth()
    {
        var g = Parse("3,16,10,12,64,3,3,1,1,1,1,1,1,1");
        var widths = AcceleratedWidths();
        float[] x = ToFloat(Random(g.InputLength, 11)), dy = ToFloat(Random(g.OutputLength, 12));
        bool saved = ShiftedGemmConv.ForceWeightDots;
        ShiftedGemmConv.ForceWeightDots = false;
        try
        {
            foreach (GemmIsa isa in widths)
            {
                GemmDriver.ForcedIsa = isa;
                Assert.True(ShiftedGemmConv.WeightTilesApply<float>(g, isa), $"{isa}: 64 output channels should take the tiles");
                Assert.True(ShiftedGemmConv.WeightTilesApply<double>(g, isa), $"{isa}: 64 output channels should take the tiles (double)");
                var tiles = new float[g.WeightLength];
                Conv2dKernel.BackwardWeight<float>(g, x, dy, tiles);
                ShiftedGemmConv.ForceWeightDots = true;
                var dots = new float[g.WeightLength];
                Conv2dKernel.BackwardWeight<float>(g, x, dy, dots);
                ShiftedGemmConv.ForceWeightDots = false;
                Close(Array.ConvertAll(dots, v => (double)v), tiles, 1e-5, $"{isa} tiles against dot blocks");
            }
            // Ten channels would leave most of a 64-wide AVX-512 tile empty: the dot blocks keep those.
            Assert.False(ShiftedGemmConv.WeightTilesApply<float>(Parse("2,6,9,10,20,3,3,1,1,0,0,1,1,2"), GemmIsa.Vector512));
        }
        finally { GemmDriver.ForcedIsa = GemmIsa.Auto; ShiftedGemmConv.ForceWeightDots = saved; }
    }

    [Theory, MemberData(nameof(ShiftedCases))]
    public void StrideOneMatchesDirectLoopOnEveryWidth(string isa, string geometry)
    {
        var g = Parse(geometry);
        Assert.True(ShiftedGemmConv.Applies(g), $"{geometry} should take the shifted-GEMM path");
        GemmDriver.ForcedIsa = Enum.Parse<GemmIsa>(isa);
        try
        {
            Assert.True(ShiftedGemmConv.AppliesToWeightGradient(g), $"{isa}: the weight gradient should take the shifted path");
            double[] x = Random(g.InputLength, 1), w = Random(g.WeightLength, 2), b = Random(g.OutChannels, 3), dy = Random(g.OutputLength, 4);
            var y = new double[g.OutputLength];
            var dx = new double[g.InputLength];
            var dw = new double[g.WeightLength];
            Array.Fill(dw, double.NaN);
            Conv2dKernel.Forward<double>(g, x, w, b, y);
            Conv2dKernel.BackwardInput<double>(g, dy, w, dx);
            Conv2dKernel.BackwardWeight<double>(g, x, dy, dw);
            Close(NaiveForward(g, x, w, b), y, 1e-12, $"{isa} forward");
            Close(NaiveGradInput(g, dy, w), dx, 1e-12, $"{isa} grad input");
            Close(NaiveGradWeight(g, x, dy), dw, 1e-12, $"{isa} grad weight");

            var yf = new float[g.OutputLength];
            var dxf = new float[g.InputLength];
            var dwf = new float[g.WeightLength];
            Conv2dKernel.Forward<float>(g, ToFloat(x), ToFloat(w), ToFloat(b), yf);
            Conv2dKernel.BackwardInput<float>(g, ToFloat(dy), ToFloat(w), dxf);
            Conv2dKernel.BackwardWeight<float>(g, ToFloat(x), ToFloat(dy), dwf);
            double[] xr = ToDouble(ToFloat(x)), wr = ToDouble(ToFloat(w)), br = ToDouble(ToFloat(b)), dyr = ToDouble(ToFloat(dy));
            Close(NaiveForward(g, xr, wr, br), yf, 1e-5, $"{isa} float forward");
            Close(NaiveGradInput(g, dyr, wr), dxf, 1e-5, $"{isa} float grad input");
            Close(NaiveGradWeight(g, xr, dyr), dwf, 1e-5, $"{isa} float grad weight");

            // One and two threads give the same bits on this width too.
            int saved = ParallelRange.MaxThreads;
            try
            {
                ParallelRange.MaxThreads = 1;
                var y1 = new float[g.OutputLength]; var dw1 = new float[g.WeightLength];
                Conv2dKernel.Forward<float>(g, ToFloat(x), ToFloat(w), ToFloat(b), y1);
                Conv2dKernel.BackwardWeight<float>(g, ToFloat(x), ToFloat(dy), dw1);
                Assert.True(y1.AsSpan().SequenceEqual(yf) || saved == 1, $"{isa}: forward differs between 1 and {saved} threads");
                Assert.True(dw1.AsSpan().SequenceEqual(dwf) || saved == 1, $"{isa}: weight gradient differs between 1 and {saved} threads");
            }
            finally { ParallelRange.MaxThreads = saved; }
        }
        finally { GemmDriver.ForcedIsa = GemmIsa.Auto; }
    }

    [Theory]
    [InlineData(64, 6, 4, 60, 4)]   // AVX2, 64 channels: 10 six-row tiles and one of 4
    [InlineData(32, 6, 4, 24, 4)]   // AVX2, 32 channels: 4·6 + 2·4, one six-row tile given back
    [InlineData(128, 12, 8, 120, 8)] // AVX-512 12-row kernel: 10·12 + 8
    [InlineData(256, 12, 8, 240, 8)] // 252 + 4 does not divide: 20·12 + 2·8
    [InlineData(4, 6, 4, 0, 4)]     // only a short tile
    [InlineData(7, 6, 4, 6, 0)]     // odd: the padded tile as before
    [InlineData(24, 6, 4, 24, 0)]   // whole tiles
    [InlineData(20, 6, 0, 18, 0)]   // no short form (Vector128)
    public void RowSplitUsesShortTilesWhereTheyDivideTheRest(int m, int mr, int shortMr, int full, int shortRows)
    {
        Assert.Equal((full, shortRows), ShiftedGemmConv.SplitRows(m, mr, shortMr));
    }

    // The short tiles (rows past the last whole MR tile) against the zero-padded MR tile they replace, on each width: the
    // same multiply-add chain per output element, so the same bits, for the forward and the input gradient (its adjoint
    // has C_in rows), over one and several k-slices (C_in = 64: 576 taps).
    [Theory]
    [InlineData("2,8,7,9,64,3,3,1,1,1,1,1,1,1")]     // 64 rows; adjoint 8 rows
    [InlineData("2,64,6,7,32,3,3,1,1,1,1,1,1,1")]    // 32 rows over several k-slices; adjoint 64 rows
    [InlineData("1,4,6,5,128,3,3,1,1,1,1,1,1,1")]    // 128 rows: the 12-row kernel with an 8-row tile
    [InlineData("2,8,7,9,40,3,3,1,1,1,1,1,1,2")]     // groups of 20 rows: 12 + 8 (AVX-512), 2·6 + 2·4 (AVX2)
    [InlineData("2,6,5,6,4,3,3,1,1,1,1,1,1,1")]      // 4 rows: a short tile alone
    [InlineData("2,6,5,6,7,3,3,1,1,1,1,1,1,1")]      // 7 rows: the padded tile still
    public void ShortRowTilesGiveTheBitsOfPaddedTilesOnEveryWidth(string geometry)
    {
        var g = Parse(geometry);
        var widths = AcceleratedWidths();
        double[] x = Random(g.InputLength, 21), w = Random(g.WeightLength, 22), b = Random(g.OutChannels, 23), dy = Random(g.OutputLength, 24);
        float[] xf = ToFloat(x), wf = ToFloat(w), bf = ToFloat(b), dyf = ToFloat(dy);
        try
        {
            foreach (GemmIsa isa in widths)
            {
                GemmDriver.ForcedIsa = isa;
                (float[] y, float[] dx, double[] yd) Run(bool padded)
                {
                    ShiftedGemmConv.ForceFullTiles = padded;
                    var y = new float[g.OutputLength]; var dx = new float[g.InputLength]; var yd = new double[g.OutputLength];
                    Conv2dKernel.Forward<float>(g, xf, wf, bf, y);
                    Conv2dKernel.BackwardInput<float>(g, dyf, wf, dx);
                    Conv2dKernel.Forward<double>(g, x, w, b, yd);
                    return (y, dx, yd);
                }
                var tiles = Run(padded: false);
                var before = Run(padded: true);
                Assert.True(tiles.y.AsSpan().SequenceEqual(before.y), $"{isa}: forward differs from the padded tiles");
                Assert.True(tiles.dx.AsSpan().SequenceEqual(before.dx), $"{isa}: input gradient differs from the padded tiles");
                Assert.True(tiles.yd.AsSpan().SequenceEqual(before.yd), $"{isa}: double forward differs from the padded tiles");
                Close(NaiveForward(g, x, w, b), tiles.yd, 1e-12, $"{isa} double forward");
                Close(NaiveGradInput(g, ToDouble(dyf), ToDouble(wf)), tiles.dx, 1e-5, $"{isa} float grad input");
            }
        }
        finally { GemmDriver.ForcedIsa = GemmIsa.Auto; ShiftedGemmConv.ForceFullTiles = false; }
    }

    // Rows that share their padding columns (pitch W + pW) against rows padded on both sides (W + 2·pW), on each width:
    // the forward and the input gradient compute every output with the same multiply-add chain on either grid, so the
    // bits match; the weight gradient's tiles too. Its dot blocks sum along the grid rows, whose zero columns move, so
    // they are held to the float tolerance against the direct loop only.
    [Theory]
    [InlineData("2,8,12,13,16,3,3,1,1,1,1,1,1,1")]  // padding 1: grid rows 14 wide, not 15
    [InlineData("2,8,9,11,64,3,3,1,1,1,1,1,1,1")]   // 64 channels: weight-gradient tiles on every width
    [InlineData("1,4,9,10,8,5,5,1,1,2,2,1,1,1")]    // 5×5, padding 2
    [InlineData("2,3,7,9,8,3,3,1,1,2,2,2,2,1")]     // dilation 2, padding 2
    [InlineData("1,4,7,8,12,5,5,1,1,3,3,1,1,1")]    // padding 3 inside a reach of 4; the input gradient's adjoint pads 1
    [InlineData("2,4,9,11,8,3,3,2,1,1,1,1,1,1")]    // stride 2 down the rows only: phase images with shared columns
    [InlineData("2,5,6,9,7,2,3,1,1,1,0,2,1,1")]     // no column padding: nothing to share
    public void SharedRowPaddingGivesTheBitsOfSeparatePaddingOnEveryWidth(string geometry)
    {
        var g = Parse(geometry);
        Assert.True(ShiftedGemmConv.Applies(g), $"{geometry} should take the shifted-GEMM path");
        var widths = AcceleratedWidths();
        double[] x = Random(g.InputLength, 41), w = Random(g.WeightLength, 42), b = Random(g.OutChannels, 43), dy = Random(g.OutputLength, 44);
        float[] xf = ToFloat(x), wf = ToFloat(w), bf = ToFloat(b), dyf = ToFloat(dy);
        double[] xr = ToDouble(xf), wr = ToDouble(wf), br = ToDouble(bf), dyr = ToDouble(dyf);
        try
        {
            foreach (GemmIsa isa in widths)
            {
                GemmDriver.ForcedIsa = isa;
                (float[] y, float[] dx, float[] dw, double[] yd) Run(bool separate)
                {
                    ShiftedGemmConv.ForceSeparateRowPadding = separate;
                    var y = new float[g.OutputLength]; var dx = new float[g.InputLength]; var dw = new float[g.WeightLength];
                    var yd = new double[g.OutputLength];
                    Conv2dKernel.Forward<float>(g, xf, wf, bf, y);
                    Conv2dKernel.BackwardInput<float>(g, dyf, wf, dx);
                    Conv2dKernel.BackwardWeight<float>(g, xf, dyf, dw);
                    Conv2dKernel.Forward<double>(g, x, w, b, yd);
                    ShiftedGemmConv.ForceSeparateRowPadding = false;
                    return (y, dx, dw, yd);
                }
                var shared = Run(separate: false);
                var separate = Run(separate: true);
                Assert.True(shared.y.AsSpan().SequenceEqual(separate.y), $"{isa}: forward differs from separate padding");
                Assert.True(shared.dx.AsSpan().SequenceEqual(separate.dx), $"{isa}: input gradient differs from separate padding");
                Assert.True(shared.yd.AsSpan().SequenceEqual(separate.yd), $"{isa}: double forward differs from separate padding");
                if (ShiftedGemmConv.WeightTilesApply<float>(g, isa))
                    Assert.True(shared.dw.AsSpan().SequenceEqual(separate.dw), $"{isa}: weight-gradient tiles differ from separate padding");
                Close(NaiveForward(g, x, w, b), shared.yd, 1e-12, $"{isa} double forward");
                Close(NaiveForward(g, xr, wr, br), shared.y, 1e-5, $"{isa} float forward");
                Close(NaiveGradInput(g, dyr, wr), shared.dx, 1e-5, $"{isa} float grad input");
                Close(NaiveGradWeight(g, xr, dyr), shared.dw, 1e-5, $"{isa} float grad weight");
            }
        }
        finally { GemmDriver.ForcedIsa = GemmIsa.Auto; ShiftedGemmConv.ForceSeparateRowPadding = false; }
    }

    // 1×1 convolutions of small images as one GEMM over the batch against one GEMM per image, on each width: the same
    // multiply-add chain per output element, so the same bits, for the plain forward with a bias, the fused forward
    // (scale, shift, SiLU, a residual before or after it, images apart in a wider output) and the input gradient (with
    // the transposed convolution's bias), for any thread count.
    [Theory]
    [InlineData("3,40,5,5,24,1,1,1,1,0,0,1,1,1")]    // 25 positions: 32 paid for on every width
    [InlineData("2,600,3,3,20,1,1,1,1,0,0,1,1,1")]   // k = 600 in several k-slices, 20 rows (an edge tile)
    [InlineData("4,16,3,3,130,1,1,1,1,0,0,1,1,1")]   // 9 positions, 130 rows (short tiles)
    public void BatchedPointwiseGivesTheBitsOfImageGemmsOnEveryWidth(string geometry)
    {
        var g = Parse(geometry);
        var widths = AcceleratedWidths();
        double[] x = Random(g.InputLength, 41), w = Random(g.WeightLength, 42), scale = Random(g.OutChannels, 43), shift = Random(g.OutChannels, 44);
        double[] residual = Random(g.OutputLength, 45), dy = Random(g.OutputLength, 46), inBias = Random(g.InChannels, 47);
        float[] xf = ToFloat(x), wf = ToFloat(w), sf = ToFloat(scale), bf = ToFloat(shift), rf = ToFloat(residual), dyf = ToFloat(dy), ibf = ToFloat(inBias);
        int image = g.OutChannels * g.OutPlane, stride = image + 5;
        int saved = ParallelRange.MaxThreads;
        try
        {
            foreach (GemmIsa isa in widths)
            {
                GemmDriver.ForcedIsa = isa;
                Assert.True(BatchedPointwiseConv.Applies<float>(g), $"{isa}: {geometry} should run as one GEMM over the batch");
                List<float[]> Run(bool perImage)
                {
                    BatchedPointwiseConv.ForceImageGemms = perImage;
                    var results = new List<float[]>();
                    var y = new float[g.OutputLength];
                    Conv2dKernel.Forward<float>(g, xf, wf, bf, y);
                    results.Add(y);
                    foreach (var activation in new[] { ConvActivation.Silu, ConvActivation.SiluThenResidual })
                    {
                        var apart = new float[(g.Batch - 1) * stride + image];
                        Conv2dKernel.ForwardFused<float>(g, xf, wf, sf, bf, activation, apart, rf, stride);
                        results.Add(apart);
                    }
                    var dx = new float[g.InputLength];
                    Conv2dKernel.BackwardInput<float>(g, dyf, wf, dx);
                    results.Add(dx);
                    var dxb = new float[g.InputLength];
                    Conv2dKernel.BackwardInputCore<float>(g, dyf, wf, ibf, dxb);
                    results.Add(dxb);
                    BatchedPointwiseConv.ForceImageGemms = false;
                    return results;
                }
                string[] names = ["forward with bias", "fused SiLU + residual", "fused SiLU then residual", "input gradient", "input gradient with bias"];
                List<float[]> reference = Run(perImage: true);
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    ParallelRange.MaxThreads = threads;
                    List<float[]> batched = Run(perImage: false);
                    for (int i = 0; i < names.Length; i++)
                        Assert.True(reference[i].AsSpan().SequenceEqual(batched[i]), $"{isa}, {threads} threads: {names[i]} differs from one GEMM per image");
                }
                ParallelRange.MaxThreads = saved;
                var yd = new double[g.OutputLength];
                Conv2dKernel.Forward<double>(g, x, w, shift, yd);
                Close(NaiveForward(g, x, w, shift), yd, 1e-12, $"{isa} double forward");
            }
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedIsa = GemmIsa.Auto;
            BatchedPointwiseConv.ForceImageGemms = false;
        }
    }

    [Fact]
    public void BatchedPointwiseIsLeftToImageGemmsWhereTheirPanelsAreFull()
    {
        try
        {
            GemmDriver.ForcedIsa = GemmIsa.Vector128;
            Assert.False(BatchedPointwiseConv.Applies<float>(Parse("8,64,8,8,64,1,1,1,1,0,0,1,1,1")), "8×8: 64 positions fill 8-column panels");
            Assert.False(BatchedPointwiseConv.Applies<float>(Parse("1,64,5,5,64,1,1,1,1,0,0,1,1,1")), "one image: nothing to batch");
            Assert.False(BatchedPointwiseConv.Applies<float>(Parse("8,64,5,5,64,3,3,1,1,1,1,1,1,1")), "3×3: not pointwise");
            Assert.False(BatchedPointwiseConv.Applies<float>(Parse("8,64,5,5,64,1,1,1,1,0,0,1,1,2")), "groups");
            Assert.True(BatchedPointwiseConv.Applies<float>(Parse("8,64,5,5,64,1,1,1,1,0,0,1,1,1")), "5×5: 25 of 32 columns");
        }
        finally { GemmDriver.ForcedIsa = GemmIsa.Auto; }
    }

    // The forward on small images with panels gathered across the batch against the per-image shifted grid, on each
    // width: the same multiply-add chain per output element, so the same bits, with the fused epilogue (scale, shift,
    // residual, ReLU), for any thread count and any cut of the panels into chunks.
    [Theory]
    [InlineData("8,16,6,6,64,3,3,1,1,1,1,1,1,1", true)]    // 6×7 grid per image (ResNet-18's 7×7 stage is 7×8: gathered at 256 and 512 bits, not 128)
    [InlineData("8,16,10,10,64,3,3,2,2,1,1,1,1,1", false)] // stride 2 (phase split), 5×5 out: 5×6 grid (not AVX-512's 32 columns)
    [InlineData("8,64,5,5,96,3,3,1,1,1,1,1,1,1", false)]   // several k-slices, 96 rows (5×6 grid: one AVX-512 panel, kept)
    [InlineData("8,8,5,5,67,3,3,1,1,1,1,1,1,1", false)]    // 67 rows: the padded tile after the whole ones
    [InlineData("1,8,10,12,128,3,3,2,2,1,1,1,1,1", true)]  // stride 2, one image, 128 rows: gathered whatever it saves
    [InlineData("2,5,9,9,130,6,6,2,2,2,2,1,1,1", true)]    // the 6×6 stem's shape, two images, 130 rows (short tiles)
    public void GatheredPanelsGiveTheBitsOfTheShiftedGridOnEveryWidth(string geometry, bool gatheredOnEveryWidth)
    {
        var g = Parse(geometry);
        var widths = AcceleratedWidths();
        double[] x = Random(g.InputLength, 31), w = Random(g.WeightLength, 32), scale = Random(g.OutChannels, 33), shift = Random(g.OutChannels, 34);
        double[] residual = Random(g.OutputLength, 35);
        float[] xf = ToFloat(x), wf = ToFloat(w), sf = ToFloat(scale), bf = ToFloat(shift), rf = ToFloat(residual);
        int saved = ParallelRange.MaxThreads;
        bool anyGathered = false;
        try
        {
            foreach (GemmIsa isa in widths)
            {
                GemmDriver.ForcedIsa = isa;
                bool gathered = ShiftedGemmConv.UsesGatheredPanels<float>(g);
                Assert.True(gathered || !gatheredOnEveryWidth, $"{isa}: {geometry} should take the gathered panels");
                anyGathered |= gathered;
                float[] Fused(bool shifted)
                {
                    ShiftedGemmConv.ForceShiftedGrid = shifted;
                    var y = new float[g.OutputLength];
                    Conv2dKernel.ForwardFused<float>(g, xf, wf, sf, bf, ConvActivation.Relu, y, rf);
                    ShiftedGemmConv.ForceShiftedGrid = false;
                    return y;
                }
                float[] reference = Fused(shifted: true), result = Fused(shifted: false);
                Assert.True(reference.AsSpan().SequenceEqual(result), $"{isa}: fused forward differs from the shifted grid");
                var yd = new double[g.OutputLength];
                Conv2dKernel.Forward<double>(g, x, w, shift, yd);
                Close(NaiveForward(g, x, w, shift), yd, 1e-12, $"{isa} double forward");
                foreach (int threads in new[] { 1, 3 })
                {
                    ParallelRange.MaxThreads = threads;
                    Assert.True(Fused(shifted: false).AsSpan().SequenceEqual(result), $"{isa}: {threads} threads differ");
                }
                ParallelRange.MaxThreads = saved;
                foreach (int chunk in new[] { 1, 3 })
                {
                    ShiftedGemmConv.ForcedChunkPanels = chunk;
                    Assert.True(Fused(shifted: false).AsSpan().SequenceEqual(result), $"{isa}: chunks of {chunk} panels differ");
                    ShiftedGemmConv.ForcedChunkPanels = 0;
                }
            }
            Assert.True(anyGathered, $"{geometry} should take the gathered panels on some width");
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedIsa = GemmIsa.Auto;
            ShiftedGemmConv.ForceShiftedGrid = false;
            ShiftedGemmConv.ForcedChunkPanels = 0;
        }
    }

    [Fact]
    public void GatheredPanelsAreLeftToTheShiftedGridWhereTheySaveLittle()
    {
        // 28×28 (the bench row): 26 panels per image on AVX-512 (28×29 grid), 24.5 gathered: 6% saved, stays on the grid.
        Assert.False(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("8,32,28,28,64,3,3,1,1,1,1,1,1,1")));
        // Fewer than 64 output channels, one image, or groups: never.
        Assert.False(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("8,16,7,7,32,3,3,1,1,1,1,1,1,1")));
        Assert.False(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("1,16,7,7,64,3,3,1,1,1,1,1,1,1")));
        Assert.False(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("8,16,7,7,128,3,3,1,1,1,1,1,1,2")));
        // Strided: YOLOv5s's 3×3 stride-2 convs at batch 1 gather from 256 output channels, from 128 where the phase
        // images fit twice the L2 (at 320², 0.9 MB; not at 640², 3.4 MB), not at 64 (its 32 → 64 at 160²); ResNet-18's
        // at batch 8 only where they save (not at 56² → 28²); and the old rule comes back when forced.
        int saved = ParallelRange.MaxThreads;
        try
        {
            ParallelRange.MaxThreads = 2;
            Assert.True(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("1,128,40,40,256,3,3,2,2,1,1,1,1,1")));
            Assert.True(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("1,128,80,80,256,3,3,2,2,1,1,1,1,1")));
            Assert.True(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("1,128,40,40,128,3,3,2,2,1,1,1,1,1")) == 2L * CacheSizes.L2 >= 128L * 4 * 21 * 21 * sizeof(float));
            Assert.False(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("1,128,80,80,128,3,3,2,2,1,1,1,1,1")));
            Assert.False(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("1,32,160,160,64,3,3,2,2,1,1,1,1,1")));
            Assert.False(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("8,64,56,56,128,3,3,2,2,1,1,1,1,1")));
            ShiftedGemmConv.ForceStridedGridForFewImages = true;
            Assert.False(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("1,128,40,40,256,3,3,2,2,1,1,1,1,1")));
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            ShiftedGemmConv.ForceStridedGridForFewImages = false;
        }
    }

    // The strided forward on tap columns (one image per row phase and kernel column, the grid in the output's layout)
    // against the phase images, on each width: the same bits plain (whole panels written to the output in place), with
    // a bias and with the fused epilogue (through the crop), on 1, 2 and 5 threads and in forced bands; and the double
    // forward against float64 direct sums.
    public static TheoryData<string, string> TapColumnCases()
    {
        string[] geometries =
        [
            "16,6,16,16,24,3,3,2,2,1,1,1,1,1",  // YOLOv5's 16² → 8² 3×3 stride 2: 64 positions, whole panels on every width
            "4,8,16,16,64,3,3,2,2,1,1,1,1,1",   // 64 channels: phases gather; tap columns instead at 512 bits (2 panels an image)
            "1,5,10,14,9,3,3,2,2,1,1,1,1,1",    // batch 1 (panels shared by threads), 5×7 out: a partial last panel, cropped
            "3,4,9,9,6,2,2,2,2,0,0,1,1,1",      // 2×2 stride 2: two kernel columns
            "2,3,12,12,5,3,3,2,2,1,1,2,2,1",    // dilation 2: one row phase, kernel columns 0, 2 and 4
            "2,3,9,10,5,3,3,3,3,0,0,1,1,1",     // stride 3 = kernel
        ];
        return OnEveryWidth(geometries);
    }

    [Theory, MemberData(nameof(TapColumnCases))]
    public void TapColumnsGiveTheBitsOfThePhasesOnEveryWidth(string isa, string geometry)
    {
        var g = Parse(geometry);
        Assert.True(ShiftedGemmConv.Applies(g) && ShiftedGemmConv.TapColumnsApply(g), $"{geometry} should take tap columns");
        GemmDriver.ForcedIsa = Enum.Parse<GemmIsa>(isa);
        int saved = ParallelRange.MaxThreads;
        double[] x = Random(g.InputLength, 41), w = Random(g.WeightLength, 42), scale = Random(g.OutChannels, 43), shift = Random(g.OutChannels, 44);
        float[] xf = ToFloat(x), wf = ToFloat(w), sf = ToFloat(scale), bf = ToFloat(shift), rf = ToFloat(Random(g.OutputLength, 45));
        // plain, bias, fused epilogue
        float[][] Run(bool phases)
        {
            ShiftedGemmConv.ForcePhaseColumns = phases;
            try
            {
                var plain = new float[g.OutputLength];
                var biased = new float[g.OutputLength];
                var fused = new float[g.OutputLength];
                Array.Fill(plain, float.NaN);
                Conv2dKernel.Forward<float>(g, xf, wf, default, plain);
                Conv2dKernel.Forward<float>(g, xf, wf, bf, biased);
                Conv2dKernel.ForwardFused<float>(g, xf, wf, sf, bf, ConvActivation.Relu, fused, rf);
                return [plain, biased, fused];
            }
            finally { ShiftedGemmConv.ForcePhaseColumns = false; }
        }
        try
        {
            var yd = new double[g.OutputLength];
            Conv2dKernel.Forward<double>(g, x, w, shift, yd);
            Close(NaiveForward(g, x, w, shift), yd, 1e-12, $"{isa} double forward");
            float[][] reference = Run(phases: true);
            Close(NaiveForward(g, ToDouble(xf), ToDouble(wf), null), reference[0], 1e-5, $"{isa} float forward");
            string[] names = ["plain", "bias", "fused"];
            foreach (int threads in new[] { 1, 2, 5 })
                foreach (int bandRows in new[] { 0, 1, 2 })
                {
                    ParallelRange.MaxThreads = threads;
                    ShiftedGemmConv.ForcedBandRows = bandRows;
                    float[][] result = Run(phases: false);
                    for (int i = 0; i < names.Length; i++)
                        Assert.True(reference[i].AsSpan().SequenceEqual(result[i]),
                            $"{isa}: {names[i]} forward on tap columns differs ({threads} threads, bands of {bandRows} rows)");
                }
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedIsa = GemmIsa.Auto;
            ShiftedGemmConv.ForcedBandRows = 0;
            ShiftedGemmConv.ForcePhaseColumns = false;
        }
    }

    [Fact]
    public void TapColumnsAreLeftToThePhasesWhereTheGridIsNarrow()
    {
        // YOLOv5's 3×3 stride-2 convs at 256²: 16² in (8 out, 9-wide phases) take tap columns; 32², 64² and 128² in
        // (1/16 to 1/64 extra columns) keep the phases; so do stride 1, rows-only strides and the 6×6 stem.
        Assert.True(ShiftedGemmConv.TapColumnsApply(Parse("16,192,16,16,384,3,3,2,2,1,1,1,1,1")));
        Assert.False(ShiftedGemmConv.TapColumnsApply(Parse("16,96,32,32,192,3,3,2,2,1,1,1,1,1")));
        Assert.False(ShiftedGemmConv.TapColumnsApply(Parse("16,24,128,128,48,3,3,2,2,1,1,1,1,1")));
        Assert.False(ShiftedGemmConv.TapColumnsApply(Parse("8,16,16,16,32,3,3,1,1,1,1,1,1,1")));
        Assert.False(ShiftedGemmConv.TapColumnsApply(Parse("2,4,9,11,8,3,3,2,1,1,1,1,1,1")));
        Assert.False(ShiftedGemmConv.TapColumnsApply(Parse("4,3,16,16,16,6,6,2,2,2,2,1,1,1")));
        // 192 → 384 at 16² in: the phases would gather; tap columns replace them where an image fills 2 panels (AVX-512's
        // 32 columns), not 4 (AVX2's 16).
        var deep = Parse("16,192,16,16,384,3,3,2,2,1,1,1,1,1");
        try
        {
            if (Vector512.IsHardwareAccelerated)
            {
                GemmDriver.ForcedIsa = GemmIsa.Vector512;
                Assert.False(ShiftedGemmConv.UsesGatheredPanels<float>(deep));
            }
            if (Vector256.IsHardwareAccelerated)
            {
                GemmDriver.ForcedIsa = GemmIsa.Vector256;
                Assert.True(ShiftedGemmConv.UsesGatheredPanels<float>(deep));
            }
            // ResNet-18's 14² → 7² (256 → 512, batch 8): 49 positions an image leave a partial panel: gathered phases.
            if (Vector512.IsHardwareAccelerated)
            {
                GemmDriver.ForcedIsa = GemmIsa.Vector512;
                Assert.True(ShiftedGemmConv.UsesGatheredPanels<float>(Parse("8,256,14,14,512,3,3,2,2,1,1,1,1,1")));
            }
        }
        finally { GemmDriver.ForcedIsa = GemmIsa.Auto; }
    }

    // Strided convolutions through the phase split, batch-1 images whose panels threads share, and a weight larger
    // than half the L2 (blocks of rows), on each vector width the hardware runs.
    public static TheoryData<string, string> PhaseCases()
    {
        string[] geometries =
        [
            "1,3,17,19,16,7,7,2,2,3,3,1,1,1",   // ResNet stem: 7×7 stride 2 padding 3, odd sizes, batch 1
            "2,5,11,10,7,3,3,2,2,1,1,1,1,1",    // 3×3 stride 2, odd channels
            "1,4,13,12,9,6,6,2,2,2,2,1,1,1",    // YOLOv5 stem: 6×6 stride 2 padding 2
            "2,3,7,75,5,3,3,2,2,1,1,1,1,1",     // rows wide enough for the vector phase split (38 columns per phase)
            "2,6,9,11,8,3,3,2,3,1,2,2,1,2",     // asymmetric stride, dilation 2 (rows read only phase 0), groups
            "1,4,7,7,6,1,1,2,2,0,0,1,1,1",      // 1×1 stride 2: one phase
            "1,3,9,10,5,3,3,3,3,0,0,1,1,1",     // stride 3 = kernel: every tap its own phase
            "1,8,20,21,12,3,3,1,1,1,1,1,1,1",   // stride 1, batch 1: panels cut between threads
            "1,256,5,5,64,3,3,1,1,1,1,1,1,1",   // 64×2304 doubles > half the L2 on most machines: row blocks
        ];
        return OnEveryWidth(geometries);
    }

    [Theory, MemberData(nameof(PhaseCases))]
    public void PhaseSplitMatchesDirectLoopOnEveryWidth(string isa, string geometry)
    {
        var g = Parse(geometry);
        Assert.True(ShiftedGemmConv.Applies(g), $"{geometry} should take the shifted-GEMM path");
        GemmDriver.ForcedIsa = Enum.Parse<GemmIsa>(isa);
        int saved = ParallelRange.MaxThreads;
        try
        {
            double[] x = Random(g.InputLength, 1), w = Random(g.WeightLength, 2), b = Random(g.OutChannels, 3);
            var y = new double[g.OutputLength];
            Array.Fill(y, double.NaN);
            Conv2dKernel.Forward<double>(g, x, w, b, y);
            Close(NaiveForward(g, x, w, b), y, 1e-12, $"{isa} forward");
            var yf = new float[g.OutputLength];
            Conv2dKernel.Forward<float>(g, ToFloat(x), ToFloat(w), default, yf);
            Close(NaiveForward(g, ToDouble(ToFloat(x)), ToDouble(ToFloat(w)), null), yf, 1e-5, $"{isa} float forward");
            // 1, 2 and 3 threads cut the panels differently and give the same bits.
            foreach (int threads in new[] { 1, 3 })
            {
                ParallelRange.MaxThreads = threads;
                var other = new float[g.OutputLength];
                Conv2dKernel.Forward<float>(g, ToFloat(x), ToFloat(w), default, other);
                ParallelRange.MaxThreads = 2;
                var two = new float[g.OutputLength];
                Conv2dKernel.Forward<float>(g, ToFloat(x), ToFloat(w), default, two);
                Assert.True(other.AsSpan().SequenceEqual(two), $"{isa}: forward differs between {threads} and 2 threads");
            }
            // Chunks of 1 and 3 panels (cropped one chunk at a time) give the same bits as one chunk.
            var whole = new float[g.OutputLength];
            Conv2dKernel.Forward<float>(g, ToFloat(x), ToFloat(w), default, whole);
            foreach (int chunk in new[] { 1, 3 })
            {
                ShiftedGemmConv.ForcedChunkPanels = chunk;
                var chunked = new float[g.OutputLength];
                Conv2dKernel.Forward<float>(g, ToFloat(x), ToFloat(w), default, chunked);
                ShiftedGemmConv.ForcedChunkPanels = 0;
                Assert.True(chunked.AsSpan().SequenceEqual(whole), $"{isa}: forward in chunks of {chunk} panels differs");
            }
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedIsa = GemmIsa.Auto;
            ShiftedGemmConv.ForcedChunkPanels = 0;
        }
    }

    // (isa, geometry) for each vector width the hardware runs, forced through GemmDriver.ForcedIsa.
    internal static TheoryData<string, string> OnEveryWidth(string[] geometries)
    {
        var data = new TheoryData<string, string>();
        var widths = new List<string> { nameof(GemmIsa.Vector128) };
        if (Vector256.IsHardwareAccelerated) widths.Add(nameof(GemmIsa.Vector256));
        if (Vector512.IsHardwareAccelerated) widths.Add(nameof(GemmIsa.Vector512));
        foreach (string isa in widths)
            foreach (string geometry in geometries)
                data.Add(isa, geometry);
        return data;
    }

    // Bands of output rows (the phase images of the forward and the weight-gradient tiles, the input gradient's column
    // matrix) against whole images, on each vector width: forced bands of 1 to 3 rows (a shorter last band) give the
    // whole image's bits in every direction, float and double, with the fused epilogue's residual and activation too.
    public static TheoryData<string, string> BandCases()
    {
        string[] geometries =
        [
            "9,6,16,16,64,3,3,2,2,1,1,1,1,1",   // YOLOv5's 3×3 stride 2; 64 channels: weight-gradient tiles on every width
            "9,5,11,21,24,3,3,2,2,1,1,1,1,1",   // odd sizes; tiles at 256/128 bits, dot blocks at 512
            "9,4,13,12,16,6,6,2,2,2,2,1,1,1",   // YOLOv5 stem: 6×6 stride 2 padding 2, bands reach 2 phase rows further
            "9,3,9,10,8,3,3,3,3,0,0,1,1,1",     // stride 3 = kernel: every tap its own phase
            "9,6,9,11,8,3,3,2,3,1,2,2,1,2",     // asymmetric stride, dilation 2, groups
            "9,8,12,13,16,3,3,1,1,1,1,1,1,1",   // stride 1 (bands only when forced): rows sharing their padding
            "9,4,9,10,64,5,5,1,1,2,2,1,1,1",    // stride 1, 5×5, tiles
        ];
        return OnEveryWidth(geometries);
    }

    [Theory, MemberData(nameof(BandCases))]
    public void BandsGiveTheBitsOfWholeImagesOnEveryWidth(string isa, string geometry)
    {
        var g = Parse(geometry);
        GemmDriver.ForcedIsa = Enum.Parse<GemmIsa>(isa);
        try
        {
            AssertBandsKeepBits<float>(g, isa);
            AssertBandsKeepBits<double>(g, isa);
        }
        finally
        {
            GemmDriver.ForcedIsa = GemmIsa.Auto;
            ShiftedGemmConv.ForcedBandRows = Conv2dKernel.ForcedColumnBandRows = 0;
            ShiftedGemmConv.ForceWholeImage = Conv2dKernel.ForceWholeColumns = false;
        }
    }

    // AVX-512's three-vector weight-gradient tiles (48 and 96 channels per group) against four-vector ones: the same sums.
    [Theory]
    [InlineData("3,6,16,16,48,3,3,2,2,1,1,1,1,1")]   // YOLOv5's 3×3 stride 2 at width 0.375: one three-vector tile
    [InlineData("3,5,9,11,96,3,3,1,1,1,1,1,1,1")]    // stride 1, two tiles, 45 taps (a last block of 5)
    [InlineData("2,4,7,9,192,3,3,1,1,1,1,1,1,2")]    // groups of 96
    [InlineData("2,4,7,9,136,3,3,1,1,1,1,1,1,1")]    // 136 channels: three three-vector tiles, the last partly empty
    public void ThreeVectorWeightTilesGiveTheBitsOfFourVectorTiles(string geometry)
    {
        if (!Vector512.IsHardwareAccelerated) return;
        var g = Parse(geometry);
        Assert.True(ShiftedGemmConv.WeightTilesApply<float>(g, GemmIsa.Vector512));
        T[] Run<T>(bool four) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            T[] x = Array.ConvertAll(Random(g.InputLength, 1), v => T.CreateTruncating(v)), dy = Array.ConvertAll(Random(g.OutputLength, 4), v => T.CreateTruncating(v));
            var dw = new T[g.WeightLength];
            ShiftedGemmConv.ForceFourVectorTiles = four;
            try { Conv2dKernel.BackwardWeight<T>(g, x, dy, dw); }
            finally { ShiftedGemmConv.ForceFourVectorTiles = false; }
            return dw;
        }
        Assert.True(Run<float>(true).AsSpan().SequenceEqual(Run<float>(false)), "float: three-vector tiles differ from four-vector ones");
        Assert.True(Run<double>(true).AsSpan().SequenceEqual(Run<double>(false)), "double: three-vector tiles differ from four-vector ones");
        Close(NaiveGradWeight(g, Random(g.InputLength, 1), Random(g.OutputLength, 4)), Run<double>(false), 1e-10, "three-vector tiles");
    }

    // The weight gradient cut by input channels (items) against the batch's chunks, on each width: forced onto small
    // weights, 9 images (5 chunks of 2 and 1), strides, groups, bands; float and double.
    [Theory, MemberData(nameof(BandCases))]
    public void WeightItemsGiveTheBitsOfChunksOnEveryWidth(string isa, string geometry)
    {
        var g = Parse(geometry);
        GemmDriver.ForcedIsa = Enum.Parse<GemmIsa>(isa);
        try
        {
            foreach (int bands in new[] { 0, 2 })
            {
                ShiftedGemmConv.ForcedBandRows = bands;
                AssertItemsKeepBits<float>(g, isa);
                AssertItemsKeepBits<double>(g, isa);
            }
        }
        finally
        {
            GemmDriver.ForcedIsa = GemmIsa.Auto;
            ShiftedGemmConv.ForcedBandRows = 0;
            ShiftedGemmConv.ForceWeightItems = ShiftedGemmConv.ForceWeightChunks = false;
        }
    }

    static void AssertItemsKeepBits<T>(Conv2dGeometry g, string label) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        T[] x = Array.ConvertAll(Random(g.InputLength, 1), v => T.CreateTruncating(v)), dy = Array.ConvertAll(Random(g.OutputLength, 4), v => T.CreateTruncating(v));
        T[] Run(bool items)
        {
            var dw = new T[g.WeightLength];
            Array.Fill(dw, T.NaN);
            ShiftedGemmConv.ForceWeightItems = items;
            ShiftedGemmConv.ForceWeightChunks = !items;
            Conv2dKernel.BackwardWeight<T>(g, x, dy, dw);
            return dw;
        }
        T[] chunks = Run(false), items = Run(true);
        for (int i = 0; i < chunks.Length; i++)
            Assert.True(chunks[i].Equals(items[i]), $"{label} {typeof(T).Name}: weight gradient by items differs at {i}: {items[i]} vs chunks {chunks[i]}");
    }

    // YOLOv5's first 3×3 stride-2 conv at 256² (24 → 48 channels, 128² in), 4 images on one thread: bands sized by the L2.
    [Fact]
    public void BandsSizedByTheCacheGiveTheBitsOfWholeImages()
    {
        var g = Parse("4,24,128,128,48,3,3,2,2,1,1,1,1,1");
        int saved = ParallelRange.MaxThreads;
        try
        {
            ParallelRange.MaxThreads = 1;
            AssertBandsKeepBits<float>(g, "natural", forced: [0]);
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            ShiftedGemmConv.ForceWholeImage = Conv2dKernel.ForceWholeColumns = false;
        }
    }

    static void AssertBandsKeepBits<T>(Conv2dGeometry g, string label, int[]? forced = null) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        T[] Values(int length, int seed) => Array.ConvertAll(Random(length, seed), v => T.CreateTruncating(v));
        T[] x = Values(g.InputLength, 1), w = Values(g.WeightLength, 2), dy = Values(g.OutputLength, 4);
        T[] scale = Values(g.OutChannels, 5), shift = Values(g.OutChannels, 6), residual = Values(g.OutputLength, 7);
        T[][] Run()
        {
            var y = new T[g.OutputLength]; var fused = new T[g.OutputLength]; var dx = new T[g.InputLength]; var dw = new T[g.WeightLength];
            Conv2dKernel.Forward<T>(g, x, w, shift, y);
            Conv2dKernel.ForwardFused<T>(g, x, w, scale, shift, ConvActivation.Silu, fused, residual);
            Conv2dKernel.BackwardInput<T>(g, dy, w, dx);
            Conv2dKernel.BackwardWeight<T>(g, x, dy, dw);
            return [y, fused, dx, dw];
        }
        ShiftedGemmConv.ForceWholeImage = Conv2dKernel.ForceWholeColumns = true;
        T[][] whole = Run();
        ShiftedGemmConv.ForceWholeImage = Conv2dKernel.ForceWholeColumns = false;
        string[] names = ["forward", "fused forward", "input gradient", "weight gradient"];
        foreach (int rows in forced ?? [1, 2, 3])
        {
            ShiftedGemmConv.ForcedBandRows = Conv2dKernel.ForcedColumnBandRows = rows;
            T[][] banded = Run();
            ShiftedGemmConv.ForcedBandRows = Conv2dKernel.ForcedColumnBandRows = 0;
            for (int k = 0; k < whole.Length; k++)
                for (int i = 0; i < whole[k].Length; i++)
                    Assert.True(whole[k][i].Equals(banded[k][i]) || T.IsNaN(whole[k][i]) && T.IsNaN(banded[k][i]),
                        $"{label} {typeof(T).Name}: {names[k]} in bands of {rows} rows differs at {i}: {banded[k][i]} vs whole {whole[k][i]}");
        }
    }

    [Theory]
    [InlineData("2,6,16,16,12,3,3,2,2,1,1,1,1,1")]   // YOLOv5's 3×3 stride 2: even width
    [InlineData("1,3,9,37,5,3,3,2,2,1,1,1,1,1")]     // odd width: the last column takes tap 1 only
    [InlineData("1,3,7,2,4,3,3,2,2,1,1,1,1,1")]      // two columns: all scalar
    [InlineData("1,2,5,1,3,3,3,2,2,1,1,1,1,1")]      // one column
    [InlineData("2,4,11,70,6,3,3,2,2,1,1,1,1,2")]    // groups, several vectors per row and a tail
    [InlineData("1,3,10,40,4,3,3,1,2,1,1,1,1,1")]    // stride 2 across only
    public void StrideTwoInputGradientFusesTheThreeTapsBitForBit(string geometry)
    {
        var g = Parse(geometry);
        float[] w = ToFloat(Random(g.WeightLength, 2)), dy = ToFloat(Random(g.OutputLength, 4));
        dy[0] = float.NaN; // a NaN stays where the separate passes put it
        float[] Run()
        {
            var dx = new float[g.InputLength];
            Conv2dKernel.BackwardInput<float>(g, dy, w, dx);
            return dx;
        }
        try
        {
            float[] fused = Run();
            Im2Col.FuseThreeTaps = false;
            float[] separate = Run();
            for (int k = 0; k < fused.Length; k++)
                Assert.True(BitConverter.SingleToInt32Bits(fused[k]) == BitConverter.SingleToInt32Bits(separate[k]), $"element {k}: fused {fused[k]:R}, separate passes {separate[k]:R}");
            dy[0] = 0.5f;
            Close(NaiveGradInput(g, ToDouble(dy), ToDouble(w)), Run(), 1e-5, "separate passes");
            Im2Col.FuseThreeTaps = true;
            Close(NaiveGradInput(g, ToDouble(dy), ToDouble(w)), Run(), 1e-5, "fused");
        }
        finally { Im2Col.FuseThreeTaps = true; }
    }

    [Fact]
    public void GeometryUsesPyTorchOutputFormula()
    {
        // floor((H + 2p − d(k−1) − 1)/s) + 1
        var g = new Conv2dGeometry(1, 1, 28, 28, 1, 3, 3, 1, 1, 1, 1);
        Assert.Equal((28, 28), (g.OutHeight, g.OutWidth));
        g = new Conv2dGeometry(1, 1, 7, 8, 1, 3, 3, 2, 2, 1, 1, 2, 2);
        Assert.Equal(((7 + 2 - 4 - 1) / 2 + 1, (8 + 2 - 4 - 1) / 2 + 1), (g.OutHeight, g.OutWidth));
        g = new Conv2dGeometry(1, 1, 1, 10, 1, 1, 3);
        Assert.Equal((1, 8), (g.OutHeight, g.OutWidth));
    }

    [Fact]
    public void GeometryRejectsBadSizes()
    {
        Assert.Contains("divisible by groups", Assert.Throws<ArgumentException>(() => new Conv2dGeometry(1, 3, 5, 5, 4, 3, 3, groups: 2)).Message);
        Assert.Contains("larger than the padded input", Assert.Throws<ArgumentException>(() => new Conv2dGeometry(1, 1, 2, 2, 1, 3, 3)).Message);
        Assert.Throws<ArgumentException>(() => new Conv2dGeometry(1, 1, 5, 5, 1, 3, 3, strideHeight: 0));
        Assert.Throws<ArgumentException>(() => new Conv2dGeometry(1, 1, 5, 5, 1, 3, 3, padWidth: -1));
        Assert.Contains("output padding", Assert.Throws<ArgumentException>(() => new ConvTranspose2dGeometry(1, 1, 3, 3, 1, 3, 3, 2, 2, 0, 0, 2, 0)).Message);
    }

    [Fact]
    public void ShortSpansThrowWithKernelAndSizes()
    {
        var g = new Conv2dGeometry(2, 3, 5, 5, 4, 3, 3);
        var ex = Assert.Throws<ArgumentException>(() =>
            Conv2dKernel.Forward<float>(g, new float[g.InputLength - 1], new float[g.WeightLength], default, new float[g.OutputLength]));
        Assert.Contains("Conv2d forward", ex.Message);
        Assert.Contains("input", ex.Message);
        Assert.Contains("[2, 3, 5, 5]", ex.Message);
        Assert.Throws<ArgumentException>(() => Conv2dKernel.Forward<float>(g, new float[g.InputLength], new float[g.WeightLength], new float[3], new float[g.OutputLength]));
        Assert.Throws<ArgumentException>(() => Conv2dKernel.BackwardWeight<double>(g, new double[g.InputLength], new double[g.OutputLength], new double[g.WeightLength - 1]));
        var t = new ConvTranspose2dGeometry(2, 3, 5, 5, 4, 3, 3);
        Assert.Contains("ConvTranspose2d forward", Assert.Throws<ArgumentException>(() =>
            ConvTranspose2dKernel.Forward<float>(t, new float[t.InputLength], new float[t.WeightLength], default, new float[t.OutputLength - 1])).Message);
    }

    // ---- ConvTranspose2d ----

    [Fact]
    public void TransposedGeometryUsesPyTorchOutputFormula()
    {
        // (H − 1)s − 2p + d(k − 1) + output_padding + 1: 4 → 8 for k 3, s 2, p 1, op 1.
        var t = new ConvTranspose2dGeometry(1, 1, 4, 4, 1, 3, 3, 2, 2, 1, 1, 1, 1);
        Assert.Equal((8, 8), (t.OutHeight, t.OutWidth));
        Assert.Equal(t.InChannels * t.OutChannels * 9, t.WeightLength);
    }

    [Theory, MemberData(nameof(TransposedCases))]
    public void TransposedMatchesDirectLoop(string geometry)
    {
        var t = ParseTransposed(geometry);
        double[] x = Random(t.InputLength, 1), w = Random(t.WeightLength, 2), b = Random(t.OutChannels, 3), dy = Random(t.OutputLength, 4);
        var y = new double[t.OutputLength];
        ConvTranspose2dKernel.Forward<double>(t, x, w, b, y);
        Close(NaiveTransposedForward(t, x, w, b), y, 1e-12, "transposed forward");

        var yf = new float[t.OutputLength];
        ConvTranspose2dKernel.Forward<float>(t, ToFloat(x), ToFloat(w), ToFloat(b), yf);
        Close(NaiveTransposedForward(t, ToDouble(ToFloat(x)), ToDouble(ToFloat(w)), ToDouble(ToFloat(b))), yf, 1e-5, "float transposed forward");

        // Backward through the adjoint identities, checked by finite differences of Σ dy·y (exact for a linear map up to rounding).
        var dx = new double[t.InputLength];
        var dw = new double[t.WeightLength];
        var db = new double[t.OutChannels];
        ConvTranspose2dKernel.BackwardInput<double>(t, dy, w, dx);
        ConvTranspose2dKernel.BackwardWeight<double>(t, x, dy, dw);
        ConvTranspose2dKernel.BackwardBias<double>(t, dy, db);
        double Loss() => Dot(dy, NaiveTransposedForward(t, x, w, b));
        FiniteDifference(x, Loss, dx, "transposed d/dx");
        FiniteDifference(w, Loss, dw, "transposed d/dw");
        FiniteDifference(b, Loss, db, "transposed d/db");
    }
}
