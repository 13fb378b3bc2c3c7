using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Conv;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;
using static Ember.Tests.Kernels.KernelAssert;

namespace Ember.Tests.Kernels;

// Forces the Winograd path and the GEMM width, process-wide settings: in the kernel-settings collection.
[Collection(KernelSettingsCollection.Name)]
public class WinogradConvTests
{
    /// <summary>The widths with a Winograd kernel that this process runs (Vector128 on every x64 and ARM64 machine).</summary>
    static IEnumerable<GemmIsa> Widths()
    {
        if (Avx512F.IsSupported) yield return GemmIsa.Vector512;
        if (Avx2.IsSupported && Fma.IsSupported) yield return GemmIsa.Vector256;
        if (Sse.IsSupported || AdvSimd.Arm64.IsSupported) yield return GemmIsa.Vector128;
    }

    // "N,C_in,H,W,C_out,padding" of a 3×3 stride-1 convolution.
    static readonly string[] Geometries =
    [
        "1,3,5,5,4,1",       // a few tiles, fewer channels than any register tile
        "2,17,9,11,19,1",    // odd sizes (the last tile row and column half used), channels off the vector width
        "3,8,7,6,13,0",      // no padding: 5×4 output
        "1,5,6,9,7,2",       // padding 2: 8×11 output
        "9,4,5,5,4,1",       // many images, tiles of several images in one block
        "2,16,3,40,24,1",    // a row of 20 tiles: more than one vector of tiles per row
        "3,32,30,26,64,1",   // several blocks, blocks that start and end inside tile rows
        "1,300,4,4,8,1",     // C_in over 256: two k-slices
        "2,6,1,7,5,1",       // one input row: one output row, the second row of every tile dropped
        "1,4,3,3,6,0",       // a 1×1 output
    ];

    public static TheoryData<string, string> Cases() => EveryWidth(Geometries);

    static TheoryData<string, string> EveryWidth(string[] geometries)
    {
        var data = new TheoryData<string, string>();
        // Without SSE or NEON there is no Winograd kernel: "none" checks that forcing it leaves the convolution on its fallback.
        string[] widths = Widths().Any() ? Widths().Select(w => w.ToString()).ToArray() : [NoWidth];
        foreach (string isa in widths)
            foreach (string g in geometries) data.Add(isa, g);
        return data;
    }

    static Conv2dGeometry Parse(string s)
    {
        int[] v = Array.ConvertAll(s.Split(','), int.Parse);
        return new Conv2dGeometry(v[0], v[1], v[2], v[3], v[4], 3, 3, 1, 1, v[5], v[5]);
    }

    /// <summary>The direct convolution in double: the definition the transforms are checked against.</summary>
    static double[] Direct(Conv2dGeometry g, double[] x, double[] w, double[]? bias)
    {
        var y = new double[g.OutputLength];
        for (int n = 0; n < g.Batch; n++)
            for (int co = 0; co < g.OutChannels; co++)
                for (int oh = 0; oh < g.OutHeight; oh++)
                    for (int ow = 0; ow < g.OutWidth; ow++)
                    {
                        double sum = bias is null ? 0 : bias[co];
                        for (int ci = 0; ci < g.InChannels; ci++)
                            for (int i = 0; i < 3; i++)
                                for (int j = 0; j < 3; j++)
                                {
                                    int ih = oh - g.PadHeight + i, iw = ow - g.PadWidth + j;
                                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                                    sum += w[((co * g.InChannels + ci) * 3 + i) * 3 + j] * x[((n * g.InChannels + ci) * g.InHeight + ih) * g.InWidth + iw];
                                }
                        y[((n * g.OutChannels + co) * g.OutHeight + oh) * g.OutWidth + ow] = sum;
                    }
        return y;
    }

    const string NoWidth = "none";

    static void WithWinograd(string isa, Action body)
    {
        GemmDriver.ForcedIsa = isa == NoWidth ? GemmIsa.Auto : Enum.Parse<GemmIsa>(isa);
        WinogradConv.Forced = true;
        // A forced width is that width: AVX-512's switch to 256-bit tiles on few tiles is tested on its own below.
        WinogradConv.NarrowTilesEnabled = false;
        try { body(); }
        finally { WinogradConv.Forced = null; GemmDriver.ForcedIsa = GemmIsa.Auto; WinogradConv.NarrowTilesEnabled = true; }
    }

    [Theory]
    [InlineData("1,128,20,20,128,1", true)]   // YOLOv5s at 320², a C3 block's 3×3 at 20²: 100 tiles, C_in + C_out = 256
    [InlineData("1,200,7,9,60,0", true)]      // 5×7 output: partial tile row and column, C_in + C_out = 260
    [InlineData("1,64,20,20,64,1", false)]    // 32-tile blocks fit the L2 budget: the 512-bit tiles stay
    [InlineData("2,128,24,24,128,1", false)]  // 288 tiles: more than 5 blocks of 32
    public void NarrowTilesOnTheAvx512PathGiveTheBitsOfTheWideTiles(string geometry, bool narrow)
    {
        if (!Avx512F.IsSupported) return;
        var g = Parse(geometry);
        float[] x = ToFloat(Random(g.InputLength, 21)), w = ToFloat(Random(g.WeightLength, 22)), b = ToFloat(Random(g.OutChannels, 23));
        float[] Run(bool narrowTiles, int threads = 0)
        {
            var y = new float[g.OutputLength];
            Array.Fill(y, float.NaN);
            WinogradConv.Forced = true;
            WinogradConv.NarrowTilesEnabled = narrowTiles;
            // The rule applies on Zen 4 class cores only; taken as one here so every AVX-512 machine tests its bits.
            bool splits = VectorUnits.SplitsVector512;
            VectorUnits.SplitsVector512 = true;
            int saved = ParallelRange.MaxThreads;
            if (threads > 0) ParallelRange.MaxThreads = threads;
            try
            {
                Assert.Equal(narrow && narrowTiles, WinogradConv.NarrowTilesPay(g));
                Conv2dKernel.Forward<float>(g, x, w, b, y);
            }
            finally { WinogradConv.Forced = null; WinogradConv.NarrowTilesEnabled = true; VectorUnits.SplitsVector512 = splits; ParallelRange.MaxThreads = saved; }
            return y;
        }
        float[] chosen = Run(true);
        Close(Direct(g, ToDouble(x), ToDouble(w), ToDouble(b)), chosen, 1e-5, $"{geometry} as dispatched");
        Assert.True(chosen.AsSpan().SequenceEqual(Run(false)), $"{geometry}: the 256- and 512-bit tiles give different bits");
        foreach (int threads in new[] { 1, 2, 5 })
            Assert.True(chosen.AsSpan().SequenceEqual(Run(true, threads)), $"{geometry}: {threads} threads give different bits");
    }

    // Tasks that cut a register tile (forward) or a cache line of dW (weight gradient) had both cores write alternate
    // floats of the same lines: the grains are whole tiles and whole groups of 16 input channels on every width.
    [Theory]
    [InlineData(16)]
    [InlineData(24)]
    [InlineData(128)]
    [InlineData(256)]
    [InlineData(512)]
    public void TransformTasksTakeWholeRegisterTilesAndCacheLines(int channels)
    {
        var g = new Conv2dGeometry(8, channels, 10, 10, channels, 3, 3, 1, 1, 1, 1);
        foreach (int mr in new[] { 6, 8, 12 })
        {
            int grain = WinogradConv.WeightGrain(new WinogradConv.Plan(g, mr, 32, 16), mr);
            Assert.True(grain > 0 && grain % mr == 0, $"{channels} channels, MR {mr}: {grain} rows a task");
        }
        foreach (int chunks in new[] { 1, 8 })
        {
            int grain = WinogradWeightGradient.KernelGrain(g, chunks);
            Assert.True(grain > 0 && grain % 16 == 0, $"{channels} channels, {chunks} chunks: {grain} input channels a task");
        }
    }

    [Fact]
    public void NarrowTilesAreChosenOnlyOnCoresThatSplit512BitInstructions()
    {
        // /proc/cpuinfo is a second reading of the same CPUID fields, made by the kernel: vendor and family 25 (19h).
        if (!File.Exists("/proc/cpuinfo") || !Avx512F.IsSupported) return;
        string[] lines = File.ReadAllLines("/proc/cpuinfo");
        string Field(string name) => lines.First(l => l.StartsWith(name, StringComparison.Ordinal)).Split(':', 2)[1].Trim();
        bool zen4 = Field("vendor_id") == "AuthenticAMD" && Field("cpu family") == "25";
        Assert.Equal(zen4, VectorUnits.SplitsVector512);
        var yolo = Parse("1,128,20,20,128,1");
        Assert.Equal(zen4 && GemmDriver.SelectedIsa == GemmIsa.Vector512, WinogradConv.NarrowTilesPay(yolo));
    }

    [Theory, MemberData(nameof(Cases))]
    public void ForwardMatchesDirectConvolutionInDouble(string isa, string geometry)
    {
        var g = Parse(geometry);
        WithWinograd(isa, () =>
        {
            Assert.True(WinogradConv.Applies(g) == (isa != NoWidth), $"{isa} {geometry}: Winograd should apply exactly where a width has a kernel");
            float[] x = ToFloat(Random(g.InputLength, 1)), w = ToFloat(Random(g.WeightLength, 2)), b = ToFloat(Random(g.OutChannels, 3));
            var y = new float[g.OutputLength];
            Array.Fill(y, float.NaN);
            Conv2dKernel.Forward<float>(g, x, w, b, y);
            Close(Direct(g, ToDouble(x), ToDouble(w), ToDouble(b)), y, 1e-5, $"{isa} forward with bias");
            Conv2dKernel.Forward<float>(g, x, w, default, y);
            Close(Direct(g, ToDouble(x), ToDouble(w), null), y, 1e-5, $"{isa} forward without bias");
        });
    }

    [Theory, MemberData(nameof(Cases))]
    public void ResultDoesNotDependOnTheThreadCount(string isa, string geometry)
    {
        var g = Parse(geometry);
        WithWinograd(isa, () =>
        {
            float[] x = ToFloat(Random(g.InputLength, 4)), w = ToFloat(Random(g.WeightLength, 5)), b = ToFloat(Random(g.OutChannels, 6));
            var many = new float[g.OutputLength];
            var one = new float[g.OutputLength];
            Conv2dKernel.Forward<float>(g, x, w, b, many);
            int saved = ParallelRange.MaxThreads;
            try
            {
                ParallelRange.MaxThreads = 1;
                Conv2dKernel.Forward<float>(g, x, w, b, one);
            }
            finally { ParallelRange.MaxThreads = saved; }
            Assert.True(one.AsSpan().SequenceEqual(many), $"{isa} {geometry}: 1 and {saved} threads give different bits");
        });
    }

    [Theory]
    [InlineData("2,17,9,11,19,1"), InlineData("3,32,30,26,64,1"), InlineData("1,300,4,4,8,1")]
    public void Vector128GivesTheBitsOfTheWiderWidthsWhereTheCpuHasFma(string geometry)
    {
        // Each output element is the same sequence of fused multiply-adds, transforms and bias adds at every width
        // (the k-slices do not depend on the register tile), so only the lanes differ. Without FMA the 128-bit kernel
        // multiplies and adds separately and only the tolerance test above holds.
        if (!Fma.IsSupported) return;
        var g = Parse(geometry);
        float[] x = ToFloat(Random(g.InputLength, 11)), w = ToFloat(Random(g.WeightLength, 12)), b = ToFloat(Random(g.OutChannels, 13));
        float[] Run(GemmIsa isa)
        {
            var y = new float[g.OutputLength];
            WithWinograd(isa.ToString(), () => Conv2dKernel.Forward<float>(g, x, w, b, y));
            return y;
        }
        float[] narrow = Run(GemmIsa.Vector128);
        foreach (GemmIsa isa in Widths().Where(i => i != GemmIsa.Vector128))
            Assert.True(narrow.AsSpan().SequenceEqual(Run(isa)), $"{geometry}: Vector128 and {isa} give different bits");
    }

    [Theory]
    [InlineData("Relu"), InlineData("Silu"), InlineData("SiluThenResidual"), InlineData("None")]
    public void FusedEpilogueMatchesConvThenAffineThenActivation(string activationName)
    {
        var activation = Enum.Parse<ConvActivation>(activationName);
        var g = Parse("3,16,9,10,20,1");
        double[] scale = Random(g.OutChannels, 3), shift = Random(g.OutChannels, 4), residual = Random(g.OutputLength, 5);
        for (int c = 0; c < scale.Length; c++) scale[c] *= 3;
        foreach (GemmIsa isa in Widths())
            WithWinograd(isa.ToString(), () =>
            {
                float[] x = ToFloat(Random(g.InputLength, 1)), w = ToFloat(Random(g.WeightLength, 2));
                float[] sf = ToFloat(scale), bf = ToFloat(shift), rf = ToFloat(residual);
                double[] conv = Direct(g, ToDouble(x), ToDouble(w), null);
                // A channel slice of a wider output: the images lie 1.5 images apart.
                int dense = g.OutChannels * g.OutPlane, stride = dense + dense / 2;
                var y = new float[(g.Batch - 1) * stride + dense];
                Conv2dKernel.ForwardFused<float>(g, x, w, sf, bf, activation, y, rf, stride);
                var expected = new double[g.OutputLength];
                var actual = new float[g.OutputLength];
                for (int i = 0; i < expected.Length; i++)
                {
                    int n = i / dense, co = i / g.OutPlane % g.OutChannels;
                    double r = ToDouble(rf)[i];
                    double v = conv[i] * sf[co] + bf[co] + (activation == ConvActivation.SiluThenResidual ? 0 : r);
                    expected[i] = activation switch
                    {
                        ConvActivation.Relu => Math.Max(v, 0),
                        ConvActivation.Silu => v / (1 + Math.Exp(-v)),
                        ConvActivation.SiluThenResidual => v / (1 + Math.Exp(-v)) + r,
                        _ => v,
                    };
                    actual[i] = y[n * stride + i % dense];
                }
                Close(expected, actual, 1e-5, $"{isa}, {activation}");
            });
    }

    [Theory, MemberData(nameof(Cases))]
    public void InputGradientMatchesDirectTransposedConvolution(string isa, string geometry)
    {
        var g = Parse(geometry);
        // The adjoint convolution needs padding 2 − p ≥ 0.
        if (g.PadHeight > 2) return;
        WithWinograd(isa, () =>
        {
            float[] w = ToFloat(Random(g.WeightLength, 2)), dy = ToFloat(Random(g.OutputLength, 7));
            var dx = new float[g.InputLength];
            Conv2dKernel.BackwardInput<float>(g, dy, w, dx);
            double[] wd = ToDouble(w), dyd = ToDouble(dy);
            var expected = new double[g.InputLength];
            for (int n = 0; n < g.Batch; n++)
                for (int co = 0; co < g.OutChannels; co++)
                    for (int oh = 0; oh < g.OutHeight; oh++)
                        for (int ow = 0; ow < g.OutWidth; ow++)
                            for (int ci = 0; ci < g.InChannels; ci++)
                                for (int i = 0; i < 3; i++)
                                    for (int j = 0; j < 3; j++)
                                    {
                                        int ih = oh - g.PadHeight + i, iw = ow - g.PadWidth + j;
                                        if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                                        expected[((n * g.InChannels + ci) * g.InHeight + ih) * g.InWidth + iw] +=
                                            wd[((co * g.InChannels + ci) * 3 + i) * 3 + j] * dyd[((n * g.OutChannels + co) * g.OutHeight + oh) * g.OutWidth + ow];
                                    }
            Close(expected, dx, 1e-5, $"{isa} input gradient");
        });
    }

    // The weight gradient's blocks hold at least 256 tiles: these add several blocks, several per chunk (3200 tiles: 13
    // blocks in 7 chunks) and chunks fewer than a couple per thread (the output channels shared out too).
    static readonly string[] WeightGeometries = [.. Geometries, "8,8,40,40,8,1", "2,16,33,31,20,1", "4,24,16,16,40,1"];

    public static TheoryData<string, string> WeightCases() => EveryWidth(WeightGeometries);

    /// <summary>dw[co, ci, i, j] = Σ_n Σ_{oh, ow} dy[n, co, oh, ow] · x[n, ci, oh − p + i, ow − p + j], in double.</summary>
    static double[] DirectWeightGradient(Conv2dGeometry g, double[] x, double[] dy)
    {
        var dw = new double[g.WeightLength];
        for (int n = 0; n < g.Batch; n++)
            for (int co = 0; co < g.OutChannels; co++)
                for (int ci = 0; ci < g.InChannels; ci++)
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++)
                        {
                            double sum = 0;
                            for (int oh = 0; oh < g.OutHeight; oh++)
                                for (int ow = 0; ow < g.OutWidth; ow++)
                                {
                                    int ih = oh - g.PadHeight + i, iw = ow - g.PadWidth + j;
                                    if (ih < 0 || ih >= g.InHeight || iw < 0 || iw >= g.InWidth) continue;
                                    sum += dy[((n * g.OutChannels + co) * g.OutHeight + oh) * g.OutWidth + ow] * x[((n * g.InChannels + ci) * g.InHeight + ih) * g.InWidth + iw];
                                }
                            dw[((co * g.InChannels + ci) * 3 + i) * 3 + j] += sum;
                        }
        return dw;
    }

    static float[] WeightGradient(Conv2dGeometry g, float[] x, float[] dy, bool? winograd)
    {
        var dw = new float[g.WeightLength];
        Array.Fill(dw, float.NaN);
        WinogradWeightGradient.Forced = winograd;
        try { Conv2dKernel.BackwardWeight<float>(g, x, dy, dw); }
        finally { WinogradWeightGradient.Forced = null; }
        return dw;
    }

    /// <summary>max |actual − expected| / max(1, max |expected|).</summary>
    static double RelativeError(double[] expected, float[] actual)
    {
        double scale = 1, worst = 0;
        foreach (double e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        return worst / scale;
    }

    [Theory, MemberData(nameof(WeightCases))]
    public void WeightGradientMatchesDirectSumInDouble(string isa, string geometry)
    {
        var g = Parse(geometry);
        WithWinograd(isa, () =>
        {
            WinogradWeightGradient.Forced = true;
            try { Assert.True(WinogradWeightGradient.Applies(g) == (isa != NoWidth), $"{isa} {geometry}: the weight gradient should apply exactly where a width has a kernel"); }
            finally { WinogradWeightGradient.Forced = null; }
            float[] x = ToFloat(Random(g.InputLength, 21)), dy = ToFloat(Random(g.OutputLength, 22));
            double[] expected = DirectWeightGradient(g, ToDouble(x), ToDouble(dy));
            float[] winograd = WeightGradient(g, x, dy, true), direct = WeightGradient(g, x, dy, false);
            Close(expected, winograd, 1e-5, $"{isa} Winograd weight gradient");
            Close(expected, direct, 1e-5, $"{isa} direct weight gradient");
            // The transforms add up to 4 inputs and 4 output gradients before each product and the back transform halves
            // them again: the rounding measured at most a few times the direct sums' (see the session-27 log).
            double winogradError = RelativeError(expected, winograd), directError = RelativeError(expected, direct);
            Console.WriteLine($"weight gradient {isa} {geometry}: max relative error Winograd {winogradError:E2}, direct {directError:E2}");
            Assert.True(winogradError <= 8 * directError + 1e-7, $"{isa} {geometry}: Winograd error {winogradError:E2} against the direct path's {directError:E2}");
        });
    }

    [Theory, MemberData(nameof(WeightCases))]
    public void WeightGradientDoesNotDependOnTheThreadCount(string isa, string geometry)
    {
        var g = Parse(geometry);
        WithWinograd(isa, () =>
        {
            float[] x = ToFloat(Random(g.InputLength, 23)), dy = ToFloat(Random(g.OutputLength, 24));
            float[] many = WeightGradient(g, x, dy, true), one;
            int saved = ParallelRange.MaxThreads;
            try
            {
                ParallelRange.MaxThreads = 1;
                one = WeightGradient(g, x, dy, true);
                // More threads than cores: more parts of the output channels.
                ParallelRange.MaxThreads = 5;
                Assert.True(WeightGradient(g, x, dy, true).AsSpan().SequenceEqual(many), $"{isa} {geometry}: 5 and {saved} threads give different bits");
            }
            finally { ParallelRange.MaxThreads = saved; }
            Assert.True(one.AsSpan().SequenceEqual(many), $"{isa} {geometry}: 1 and {saved} threads give different bits");
        });
    }

    [Fact]
    public void OnlyThreeByThreeStrideOneSingleGroupFloatGeometriesAreSupported()
    {
        foreach (GemmIsa isa in Widths())
        {
            GemmDriver.ForcedIsa = isa;
            try
            {
                Assert.True(WinogradConv.Supports(Parse("1,4,5,5,4,1")));
                Assert.False(WinogradConv.Supports(new Conv2dGeometry(1, 4, 9, 9, 4, 3, 3, 2, 2, 1, 1)), "stride 2");
                Assert.False(WinogradConv.Supports(new Conv2dGeometry(1, 4, 9, 9, 4, 3, 3, 1, 1, 2, 2, 2, 2)), "dilation 2");
                Assert.False(WinogradConv.Supports(new Conv2dGeometry(1, 4, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2)), "groups 2");
                Assert.False(WinogradConv.Supports(new Conv2dGeometry(1, 4, 9, 9, 4, 5, 5, 1, 1, 2, 2)), "5×5");
                Assert.False(WinogradConv.Supports(new Conv2dGeometry(0, 4, 9, 9, 4, 3, 3, 1, 1, 1, 1)), "empty batch");
            }
            finally { GemmDriver.ForcedIsa = GemmIsa.Auto; }
        }
    }

    [Fact]
    public void WeightTransformIsGTimesKernelTimesGTransposed()
    {
        // One kernel, checked against the matrix product written out: G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
        double[,] G = { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } };
        float[] w = ToFloat(Random(9, 8));
        var u = new float[16];
        unsafe
        {
            fixed (float* pw = w, pu = u) WinogradConv.TransformKernel(pw, pu, 1);
        }
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
            {
                double sum = 0;
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++) sum += G[a, i] * w[i * 3 + j] * G[b, j];
                Assert.Equal(sum, u[4 * a + b], 6);
            }
    }
}
