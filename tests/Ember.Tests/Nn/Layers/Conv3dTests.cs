using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Tests.Reference.Nn;
using static Ember.Tests.Ops.OracleHarness;

namespace Ember.Tests.Nn.Layers;

/// <summary>conv3d and conv_transpose3d against libtorch (Reference/Nn/conv3d.oracle.csx), against a direct 7-loop sum, gradcheck, the layer and errors.</summary>
public class Conv3dTests
{
    static Tensor[] One(Tensor t) => [t];

    // the same list as conv3d.oracle.csx
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["conv3d_basic"] = (() => [In([2, 2, 4, 4, 5], 0.9), In([3, 2, 3, 3, 3], 1.3, 0.5), In([3], 0.4)], a => One(F.Conv3d(a[0], a[1], a[2]))),
        ["conv3d_stride_padding_dilation"] = (() => [In([1, 2, 6, 5, 8], 0.7), In([2, 2, 2, 3, 2], 1.1, 0.5), In([2], 0.8)],
            a => One(F.Conv3d(a[0], a[1], a[2], (2, 1, 2), (1, 2, 0), (1, 2, 3)))),
        ["conv3d_groups"] = (() => [In([1, 4, 4, 5, 4], 0.6), In([4, 2, 2, 3, 2], 1.7, 0.5), In([4], 0.3)],
            a => One(F.Conv3d(a[0], a[1], a[2], (1, 2, 1), 1, (1, 1, 1), groups: 2))),
        ["conv3d_depthwise_no_bias"] = (() => [In([1, 3, 4, 4, 5], 1.2), In([6, 1, 3, 2, 2], 0.5, 0.5)],
            a => One(F.Conv3d(a[0], a[1], null, (2, 2, 1), (1, 0, 1), (1, 1, 2), groups: 3))),
        ["conv3d_same_dilated"] = (() => [In([1, 2, 4, 5, 6], 0.8), In([2, 2, 2, 3, 4], 1.9, 0.5), In([2], 0.6)],
            a => One(F.Conv3d(a[0], a[1], a[2], (1, 1, 1), ConvPadding3d.Same, (2, 1, 1)))),
        ["conv3d_valid_unbatched"] = (() => [In([2, 4, 5, 5], 1.4), In([3, 2, 2, 2, 3], 0.9, 0.5), In([3], 1.0)],
            a => One(F.Conv3d(a[0], a[1], a[2], padding: ConvPadding3d.Valid))),
        ["conv3d_reflect_pad"] = (() => [In([1, 2, 3, 4, 4], 0.75), In([2, 2, 3, 3, 3], 1.05, 0.5), In([2], 0.2)],
            a => One(F.Conv3d(a[0], a[1], a[2], padding: 1, paddingMode: PaddingMode.Reflect))),
        ["conv_transpose3d_basic"] = (() => [In([1, 2, 3, 4, 3], 0.85), In([2, 3, 2, 3, 2], 1.15, 0.5), In([3], 0.5)], a => One(F.ConvTranspose3d(a[0], a[1], a[2]))),
        ["conv_transpose3d_all_arguments"] = (() => [In([1, 4, 3, 3, 3], 0.65), In([4, 2, 3, 2, 2], 1.35, 0.5), In([4], 0.7)],
            a => One(F.ConvTranspose3d(a[0], a[1], a[2], (2, 1, 2), (1, 0, 1), (1, 0, 1), groups: 2, dilation: (1, 2, 1)))),
        ["conv_transpose3d_unbatched_no_bias"] = (() => [In([2, 3, 3, 3], 1.25), In([2, 2, 2, 2, 2], 0.95, 0.5)],
            a => One(F.ConvTranspose3d(a[0], a[1], null, (2, 2, 2), (1, 1, 1), (1, 0, 1)))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_and_gradients_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        Check(Conv3dReference.Cases[name], make(), f, rtol: 1e-11, atol: 1e-12);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart() => Assert.Equal(Conv3dReference.Cases.Keys.Order(), Cases.Keys.Order());

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Float32_matches_the_float64_reference(string name)
    {
        var (make, f) = Cases[name];
        var inputs = make();
        var x32 = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) x32[i] = inputs[i].Detach().To(DType.Float32).RequiresGradInPlace();
        var y = f(x32)[0];
        Assert.Equal(DType.Float32, y.DType);
        var expected = Conv3dReference.Cases[name];
        TestUtil.Close(expected.Outputs[0].Values, y, 1e-5, 1e-5);
        var w = (Torch.Arange(y.NumEl, DType.Float32) * 0.7 + 0.1).Cos().Reshape(y.shape);
        (y * w).Sum().Backward();
        for (int i = 0; i < inputs.Length; i++) TestUtil.Close(expected.Grads[i]!, x32[i].Grad!, 1e-4, 1e-4);
    }

    /// <summary>out[n, o, z, y, x] = b[o] + Σ w[o, c, i, j, k]·x[n, g·Cg + c, z·s − p + i·d, …], written out loop by loop.</summary>
    static double[] Direct(Tensor x, Tensor w, Tensor? b, (int D, int H, int W) s, (int D, int H, int W) p, (int D, int H, int W) d, int groups, out int[] shape)
    {
        int n = x.Size(0), c = x.Size(1), di = x.Size(2), hi = x.Size(3), wi = x.Size(4);
        int co = w.Size(0), cg = w.Size(1), kd = w.Size(2), kh = w.Size(3), kw = w.Size(4);
        int od = (di + 2 * p.D - d.D * (kd - 1) - 1) / s.D + 1, oh = (hi + 2 * p.H - d.H * (kh - 1) - 1) / s.H + 1, ow = (wi + 2 * p.W - d.W * (kw - 1) - 1) / s.W + 1;
        var xv = x.ToDoubleArray(); var wv = w.ToDoubleArray(); var bv = b?.ToDoubleArray();
        var y = new double[n * co * od * oh * ow];
        int perGroup = co / groups;
        for (int ni = 0; ni < n; ni++)
            for (int o = 0; o < co; o++)
                for (int z = 0; z < od; z++)
                    for (int yy = 0; yy < oh; yy++)
                        for (int xx = 0; xx < ow; xx++)
                        {
                            double acc = bv is null ? 0 : bv[o];
                            int g = o / perGroup;
                            for (int ci = 0; ci < cg; ci++)
                                for (int i = 0; i < kd; i++)
                                    for (int j = 0; j < kh; j++)
                                        for (int k = 0; k < kw; k++)
                                        {
                                            int zi = z * s.D - p.D + i * d.D, yi = yy * s.H - p.H + j * d.H, xi = xx * s.W - p.W + k * d.W;
                                            if (zi < 0 || zi >= di || yi < 0 || yi >= hi || xi < 0 || xi >= wi) continue;
                                            acc += wv[(((o * cg + ci) * kd + i) * kh + j) * kw + k] * xv[(((ni * c + g * cg + ci) * di + zi) * hi + yi) * wi + xi];
                                        }
                            y[(((ni * co + o) * od + z) * oh + yy) * ow + xx] = acc;
                        }
        shape = [n, co, od, oh, ow];
        return y;
    }

    [Theory]
    [InlineData(1, 1, 0, 1, 1)]     // pointwise
    [InlineData(3, 2, 1, 1, 1)]
    [InlineData(3, 1, 2, 2, 1)]
    [InlineData(2, 3, 1, 1, 4)]     // grouped
    [InlineData(3, 2, 1, 2, 2)]
    public void Larger_float32_shapes_match_a_direct_sum(int k, int stride, int pad, int dil, int groups)
    {
        var g = new Generator(k * 100 + stride * 10 + pad + dil + groups);
        var x = Torch.Randn([2, 8, 7, 9, 10], DType.Float32, g);
        var w = Torch.Randn([16, 8 / groups, k, k + 1, k], DType.Float32, g) * 0.2;
        var b = Torch.Randn([16], DType.Float32, g);
        var expected = Direct(x, w, b, (stride, 1, stride), (pad, pad, 0), (dil, 1, dil), groups, out var shape);
        var y = F.Conv3d(x, w, b, (stride, 1, stride), (pad, pad, 0), (dil, 1, dil), groups);
        Assert.Equal(new Shape(shape), y.Shape);
        TestUtil.Close(expected, y, 1e-4, 1e-4);
    }

    [Fact]
    public void Gradcheck_first_and_second_order()
    {
        var x = TestUtil.Leaf([1, 4, 4, 3, 4], 31);
        var w = TestUtil.Leaf([2, 2, 2, 2, 3], 32);
        var b = TestUtil.Leaf([2], 33);
        GradCheck.Check(a => F.Conv3d(a[0], a[1], a[2], (2, 1, 1), (1, 0, 1), (1, 2, 1), groups: 2), [x, w, b]);
        GradCheck.Check(a => F.Conv3d(a[0], a[1], null, 1, ConvPadding3d.Same, groups: 2), [x, w]);
        GradCheck.CheckSecondOrder(a => F.Conv3d(a[0], a[1], a[2], 1, 1, groups: 2).Square().Sum(), [x, w, b]);
    }

    [Fact]
    public void Transposed_convolution_is_the_adjoint_of_the_convolution_and_passes_gradcheck()
    {
        // ⟨conv_transpose3d(y, W), x⟩ = ⟨y, conv3d(x, W)⟩ for the same stride, padding, dilation and groups
        var g = new Generator(21);
        var x = Torch.Randn([2, 4, 7, 6, 8], DType.Float64, g);
        var w = Torch.Randn([6, 2, 3, 2, 3], DType.Float64, g);
        var y = F.Conv3d(x, w, null, (2, 1, 2), (1, 0, 1), (1, 2, 1), groups: 2);
        var r = Torch.Randn(y.Shape.ToArray(), DType.Float64, g);
        int opD = 7 - ((y.Size(2) - 1) * 2 - 2 + 3), opW = 8 - ((y.Size(4) - 1) * 2 - 2 + 3);      // recovers the input size
        var back = F.ConvTranspose3d(r, w, null, (2, 1, 2), (1, 0, 1), (opD, 0, opW), groups: 2, dilation: (1, 2, 1));
        Assert.Equal(x.Shape, back.Shape);
        Assert.Equal((r * y).Sum().Item<double>(), (back * x).Sum().Item<double>(), 9);
        var xt = TestUtil.Leaf([1, 4, 2, 3, 2], 41);
        var wt = TestUtil.Leaf([4, 1, 2, 2, 3], 42);
        var bt = TestUtil.Leaf([2], 43);
        GradCheck.Check(a => F.ConvTranspose3d(a[0], a[1], a[2], (2, 1, 2), (1, 0, 1), (1, 0, 0), groups: 2, dilation: (1, 2, 1)), [xt, wt, bt]);
        GradCheck.CheckSecondOrder(a => F.ConvTranspose3d(a[0], a[1], a[2], 2, 1, 1, groups: 2).Square().Sum(), [xt, wt, bt]);
        var layer = new ConvTranspose3d(4, 6, (2, 3, 2), (2, 1, 2), (0, 1, 0), (1, 0, 0), groups: 2, generator: new Generator(5));
        Assert.Equal(new Shape(4, 3, 2, 3, 2), layer.Weight.Shape);
        var u = Torch.Randn([4, 3, 4, 5], DType.Float32, new Generator(6));       // unbatched
        TestUtil.Close(F.ConvTranspose3d(u.Unsqueeze(0), layer.Weight, layer.Bias, (2, 1, 2), (0, 1, 0), (1, 0, 0), 2).Squeeze(0), layer.Forward(u), 0, 0);
        Assert.Equal(new Shape(6, 7, 4, 10), layer.Forward(u).Shape);           // D: 2·2 + 1 + 1 + 1, H: 3 − 2 + 2 + 1, W: 3·2 + 1 + 1 + 0 + 2
        Assert.Equal("ConvTranspose3d(4, 6, kernel_size=(2, 3, 2), stride=(2, 1, 2), padding=(0, 1, 0), output_padding=(1, 0, 0), groups=2)", layer.ToString());
        Assert.Contains("conv_transpose3d: output padding must be smaller than either stride or dilation",
            Assert.Throws<ArgumentException>(() => F.ConvTranspose3d(u, layer.Weight, null, 1, 0, 1)).Message);
    }

    [Fact]
    public void Layer_matches_the_functional_form_and_PyTorch_conventions()
    {
        var conv = new Conv3d(4, 6, (3, 2, 3), (1, 2, 1), (1, 0, 1), (1, 1, 2), groups: 2, generator: new Generator(3));
        Assert.Equal(new Shape(6, 2, 3, 2, 3), conv.Weight.Shape);
        Assert.Equal(new Shape(6), conv.Bias!.Shape);
        double bound = 1 / Math.Sqrt(2 * 3 * 2 * 3);
        Assert.All(conv.Weight.ToDoubleArray(), v => Assert.InRange(Math.Abs(v), 0, bound));
        var x = Torch.Randn([4, 5, 6, 7], DType.Float32, new Generator(4));             // unbatched [C, D, H, W]
        var y = conv.Forward(x);
        Assert.Equal(new Shape(6, 5, 3, 5), y.Shape);     // D: (5+2−2−1)/1+1, H: (6−1−1)/2+1, W: (7+2−4−1)/1+1
        TestUtil.Close(F.Conv3d(x.Unsqueeze(0), conv.Weight, conv.Bias, (1, 2, 1), (1, 0, 1), (1, 1, 2), 2).Squeeze(0), y, 0, 0);
        y.Sum().Backward();
        Assert.NotNull(conv.Weight.Grad); Assert.NotNull(conv.Bias.Grad);
        Assert.Equal("Conv3d(4, 6, kernel_size=(3, 2, 3), stride=(1, 2, 1), padding=(1, 0, 1), dilation=(1, 1, 2), groups=2)", conv.ToString());
        Assert.Equal("Conv3d(2, 3, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=same, bias=False)", new Conv3d(2, 3, 3, padding: ConvPadding3d.Same, bias: false).ToString());
        Assert.Equal("ConvolutionBackward0", F.Conv3d(TestUtil.Leaf([1, 2, 3, 3, 3], 1), TestUtil.Leaf([1, 2, 2, 2, 2], 2)).GradFn);
    }

    [Fact]
    public void Errors_name_the_op_and_what_came()
    {
        var w = Torch.Zeros(2, 3, 2, 2, 2);
        Assert.Contains("conv3d: expected a 4-D (unbatched) or 5-D (batched) input [N, C, D, H, W], got shape [3, 4, 4]",
            Assert.Throws<ArgumentException>(() => F.Conv3d(Torch.Zeros(3, 4, 4), w)).Message);
        Assert.Contains("conv3d: expected input with 3 channels, got 4",
            Assert.Throws<ArgumentException>(() => F.Conv3d(Torch.Zeros(1, 4, 4, 4, 4), w)).Message);
        Assert.Contains("conv3d: padding='same' is not supported for strided convolutions",
            Assert.Throws<ArgumentException>(() => F.Conv3d(Torch.Zeros(1, 3, 4, 4, 4), w, null, 2, ConvPadding3d.Same)).Message);
        Assert.Contains("conv3d: padded input size (1 x 4 x 4) is smaller than the dilated kernel size (2 x 2 x 2)",
            Assert.Throws<ArgumentException>(() => F.Conv3d(Torch.Zeros(1, 3, 1, 4, 4), w)).Message);
        Assert.Contains("conv3d: expected bias of shape [2], got [3]",
            Assert.Throws<ArgumentException>(() => F.Conv3d(Torch.Zeros(1, 3, 4, 4, 4), w, Torch.Zeros(3))).Message);
        Assert.Contains("conv3d: not implemented for torch.bfloat16; convert with To(DType.Float32) (or use Autocast)",
            Assert.Throws<NotSupportedException>(() => F.Conv3d(Torch.Zeros(1, 3, 4, 4, 4).To(DType.BFloat16), w.To(DType.BFloat16))).Message);
        Assert.Contains("Conv3d: in_channels (3) and out_channels (4) must be divisible by groups (2)",
            Assert.Throws<ArgumentException>(() => new Conv3d(3, 4, 3, groups: 2)).Message);
    }
}
