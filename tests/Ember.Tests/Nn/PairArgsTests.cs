using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Tests.Reference.Nn;
using static Ember.Tests.Ops.OracleHarness;

namespace Ember.Tests.Nn;

/// <summary>
/// (H, W)-pair arguments (<see cref="Size2"/>) of F.Conv2d, F.ConvTranspose2d, the 2-D pools and their layers, on
/// rectangular cases against libtorch (Reference/Nn/pair_args.oracle.csx), with float64 gradchecks.
/// </summary>
public class PairArgsTests
{
    static Tensor[] One(Tensor t) => [t];

    // the same list as pair_args.oracle.csx; the *_ints cases pass plain ints where libtorch got (n, n)
    static readonly Dictionary<string, (Func<Tensor[]> Make, Func<Tensor[], Tensor[]> F)> Cases = new()
    {
        ["conv2d_pairs"] = (() => [In([2, 2, 7, 9], 0.9), In([3, 2, 3, 2], 0.7), In([3], 1.1)],
            a => One(F.Conv2d(a[0], a[1], a[2], stride: (2, 1), padding: (1, 2), dilation: (1, 2)))),
        ["conv2d_ints"] = (() => [In([1, 2, 8, 7], 0.8), In([2, 2, 2, 3], 0.5)],
            a => One(F.Conv2d(a[0], a[1], stride: 2, padding: 1, dilation: 2))),
        ["conv_transpose2d_pairs"] = (() => [In([2, 2, 3, 4], 0.9), In([2, 3, 3, 2], 0.6), In([3], 1.3)],
            a => One(F.ConvTranspose2d(a[0], a[1], a[2], stride: (2, 3), padding: (1, 0), outputPadding: (1, 2), dilation: (2, 1)))),
        ["conv_transpose2d_ints"] = (() => [In([1, 4, 3, 2], 0.9), In([4, 1, 3, 3], 0.6)],
            a => One(F.ConvTranspose2d(a[0], a[1], stride: 2, padding: 1, outputPadding: 1, groups: 2))),
        ["max_pool2d_pairs"] = (() => [In([2, 2, 6, 7], 0.9)],
            a => One(F.MaxPool2d(a[0], (3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2)))),
        ["max_pool2d_pairs_ceil"] = (() => [In([1, 2, 7, 6], 0.7)],
            a => One(F.MaxPool2d(a[0], (2, 3), stride: 2, padding: (0, 1), ceilMode: true))),
        ["avg_pool2d_pairs"] = (() => [In([2, 2, 6, 7], 0.9)],
            a => One(F.AvgPool2d(a[0], (3, 2), stride: (1, 2), padding: 1, ceilMode: true, countIncludePad: false))),
        ["avg_pool2d_pairs_include_pad"] = (() => [In([1, 3, 5, 8], 0.6)],
            a => One(F.AvgPool2d(a[0], (2, 4), stride: (2, 3), padding: (1, 2)))),
        ["adaptive_avg_pool2d_pair"] = (() => [In([2, 2, 7, 5], 0.9)], a => One(F.AdaptiveAvgPool2d(a[0], (3, 2)))),
        ["adaptive_max_pool2d_pair"] = (() => [In([2, 2, 5, 7], 0.9)], a => One(F.AdaptiveMaxPool2d(a[0], (2, 3)))),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Functional_forms_match_libtorch(string name)
    {
        var (make, f) = Cases[name];
        Check(PairArgsReference.Cases[name], make(), f);
    }

    [Fact]
    public void Every_oracle_case_has_an_Ember_counterpart() => Assert.Equal(PairArgsReference.Cases.Keys.Order(), Cases.Keys.Order());

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Functional_forms_pass_float64_gradcheck(string name)
    {
        var (make, f) = Cases[name];
        var inputs = make();
        // max pooling's gradient is piecewise: the smooth inputs above keep every window's maximum apart from the rest by far more than eps
        GradCheck.Check(a => f(a)[0], inputs);
    }

    // a layer's output equals its functional form's libtorch value once it holds the oracle's weights (float32 layers)
    static void CheckLayer(Module layer, string name, double rtol = 1e-5)
    {
        var (make, _) = Cases[name];
        var inputs = make();
        var parameters = layer.Parameters().ToArray();
        using (Torch.NoGrad())
            for (int i = 0; i < parameters.Length; i++) parameters[i].CopyFrom(inputs[i + 1].To(DType.Float32));
        var y = layer.Call(inputs[0].Detach().To(DType.Float32));
        var expected = PairArgsReference.Cases[name].Outputs[0];
        Assert.Equal(new Shape(expected.Shape), y.Shape);
        TestUtil.Close(expected.Values, y, rtol, 1e-5);
    }

    [Fact]
    public void Conv2d_layer_takes_pairs_and_ints_in_PyTorch_order()
    {
        CheckLayer(new Conv2d(2, 3, (3, 2), stride: (2, 1), padding: (1, 2), dilation: (1, 2)), "conv2d_pairs");
        CheckLayer(new Conv2d(2, 2, (2, 3), 2, 1, 2, bias: false), "conv2d_ints");
        // a rectangular kernel alone, stride and dilation defaulting to 1
        var conv = new Conv2d(1, 1, (3, 5));
        Assert.Equal((1, 1), conv.Stride);
        Assert.Equal(new Shape(1, 1, 4, 2), conv.Call(Torch.Zeros(1, 1, 6, 6)).Shape);
    }

    [Fact]
    public void ConvTranspose2d_layer_takes_pairs_and_ints()
    {
        var t = new ConvTranspose2d(2, 3, (3, 2), stride: (2, 3), padding: (1, 0), outputPadding: (1, 2), dilation: (2, 1));
        CheckLayer(t, "conv_transpose2d_pairs");
        Assert.Equal("ConvTranspose2d(2, 3, kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), dilation=(2, 1))", t.ToString());
        CheckLayer(new ConvTranspose2d(4, 2, 3, stride: 2, padding: 1, outputPadding: 1, groups: 2, bias: false), "conv_transpose2d_ints");
    }

    [Fact]
    public void Pool_layers_take_pairs()
    {
        CheckLayer(new MaxPool2d((3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2)), "max_pool2d_pairs");
        CheckLayer(new MaxPool2d((2, 3), stride: 2, padding: (0, 1), ceilMode: true), "max_pool2d_pairs_ceil");
        CheckLayer(new AvgPool2d((3, 2), stride: (1, 2), padding: 1, ceilMode: true, countIncludePad: false), "avg_pool2d_pairs");
        CheckLayer(new AvgPool2d((2, 4), stride: (2, 3), padding: (1, 2)), "avg_pool2d_pairs_include_pad");
        CheckLayer(new AdaptiveAvgPool2d((3, 2)), "adaptive_avg_pool2d_pair");
        CheckLayer(new AdaptiveMaxPool2d((2, 3)), "adaptive_max_pool2d_pair");
        Assert.Equal("MaxPool2d(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), ceil_mode=False)",
            new MaxPool2d((3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2)).ToString());
        Assert.Equal("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)", new MaxPool2d(2).ToString());
    }

    [Fact]
    public void An_int_means_the_same_size_along_both_dims()
    {
        Size2 n = 3;
        Assert.Equal(new Size2(3, 3), n);
        Assert.Equal(new Size2(2, 5), (Size2)(2, 5));
        var x = In([1, 1, 6, 6], 0.4).Detach();
        TestUtil.Close(F.MaxPool2d(x, (2, 2), (2, 2)), F.MaxPool2d(x, 2), 0, 0);
        TestUtil.Close(F.AvgPool2d(x, (3, 3), (1, 1), (1, 1)), F.AvgPool2d(x, 3, 1, 1), 0, 0);
    }
}
