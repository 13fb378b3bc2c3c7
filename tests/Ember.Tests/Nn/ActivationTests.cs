using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using static Ember.Tests.Nn.NnTestUtil;

namespace Ember.Tests.Nn;

public class ActivationTests
{
    // Each module against libtorch (tools/oracle/nn.cs): forward and the input gradient of sum(y ⊙ G).
    public static TheoryData<string> Names => new()
    {
        "relu", "relu6", "leaky_relu", "elu", "elu_half", "selu", "celu", "silu", "gelu", "gelu_tanh", "mish", "sigmoid",
        "logsigmoid", "tanh", "hardtanh", "softplus", "softsign", "hardswish", "hardsigmoid", "softmax1", "log_softmax2",
        "softmin1", "rrelu_eval",
    };

    static Module Make(string name) => name switch
    {
        "relu" => new ReLU(),
        "relu6" => new ReLU6(),
        "leaky_relu" => new LeakyReLU(0.1),
        "elu" => new ELU(),
        "elu_half" => new ELU(0.5),
        "selu" => new SELU(),
        "celu" => new CELU(1.5),
        "silu" => new SiLU(),
        "gelu" => new GELU(),
        "gelu_tanh" => new GELU(GeluApproximate.Tanh),
        "mish" => new Mish(),
        "sigmoid" => new Sigmoid(),
        "logsigmoid" => new LogSigmoid(),
        "tanh" => new Tanh(),
        "hardtanh" => new Hardtanh(-2, 2.5),
        "softplus" => new Softplus(2, 5),
        "softsign" => new Softsign(),
        "hardswish" => new Hardswish(),
        "hardsigmoid" => new Hardsigmoid(),
        "softmax1" => new Softmax(1),
        "log_softmax2" => new LogSoftmax(2),
        "softmin1" => new Softmin(1),
        "rrelu_eval" => new RReLU().Eval(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Forward_and_input_gradient_match_PyTorch(string name)
    {
        var x = Leaf(X);
        var y = Make(name).Call(x);
        Backward(y);
        Close(name + ".y", y, rtol: 2e-6);
        Close(name + ".dx", x.Grad!, rtol: 2e-6);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Float64_gradcheck(string name)
    {
        var module = Make(name);
        // Avoid the kinks (0, ±3, hardtanh's bounds) where finite differences are undefined.
        var x = TestUtil.Leaf([2, 3, 4], seed: 7, scale: 2);
        using (Torch.NoGrad())
            x.CopyFrom(Torch.Where(x.Abs() < 0.05, x + 0.1, x));
        GradCheck.Check(xs => module.Forward(xs[0]), [x]);
    }

    [Fact]
    public void Gelu_tanh_and_silu_fused_backward_match_their_composed_forms_and_support_double_backward()
    {
        GradCheck.CheckSecondOrder(xs => F.Gelu(xs[0], GeluApproximate.Tanh), [TestUtil.Leaf([3, 5], seed: 13, scale: 2)]);
        GradCheck.CheckSecondOrder(xs => F.Silu(xs[0]), [TestUtil.Leaf([3, 5], seed: 14, scale: 2)]);
        var x = TestUtil.Leaf([9], seed: 15, scale: 4);
        var tanhForm = Torch.Grad([F.Gelu(x, GeluApproximate.Tanh).Sum()], [x])[0]!;
        var tanhComposite = Torch.Grad([(x * 0.5 * (((x + x.Pow(3.0) * 0.044715) * Math.Sqrt(2 / Math.PI)).Tanh() + 1.0)).Sum()], [x])[0]!;
        TestUtil.Close(tanhComposite.ToDoubleArray(), tanhForm, rtol: 1e-12, atol: 1e-14);
        var silu = Torch.Grad([F.Silu(x).Sum()], [x])[0]!;
        var siluComposite = Torch.Grad([(x * x.Sigmoid()).Sum()], [x])[0]!;
        TestUtil.Close(siluComposite.ToDoubleArray(), silu, rtol: 1e-12, atol: 1e-14);
    }

    [Fact]
    public void Gelu_fused_backward_supports_double_backward()
    {
        // The fused kernel serves plain backward; create_graph switches to the differentiable form.
        GradCheck.CheckSecondOrder(xs => F.Gelu(xs[0]), [TestUtil.Leaf([3, 5], seed: 11, scale: 2)]);
        var x = TestUtil.Leaf([7], seed: 12, scale: 3);
        var fused = Torch.Grad([F.Gelu(x).Sum()], [x])[0]!;
        var composite = Torch.Grad([(x * 0.5 * ((x * Math.Sqrt(0.5)).Erf() + 1.0)).Sum()], [x])[0]!;
        TestUtil.Close(composite.ToDoubleArray(), fused, rtol: 1e-12, atol: 1e-14);
    }

    [Fact]
    public void PReLU_per_channel_matches_PyTorch_including_the_weight_gradient()
    {
        var prelu = new PReLU(3);
        TestUtil.Close([0.25, 0.25, 0.25], prelu.Weight);
        Set(prelu.Weight, Torch.Tensor(0.25f, -0.1f, 0.5f));
        var x = Leaf(X);
        var y = prelu.Call(x);
        Backward(y);
        Close("prelu.y", y);
        Close("prelu.dx", x.Grad!);
        Close("prelu.dw", prelu.Weight.Grad!);
        var w = TestUtil.Leaf([3], seed: 2);
        GradCheck.Check(xs => F.Prelu(xs[0], xs[1]), [TestUtil.Leaf([2, 3, 4], seed: 3), w]);
        var ex = Assert.Throws<ArgumentException>(() => prelu.Call(Torch.Zeros(2, 4)));
        Assert.Contains("prelu", ex.Message);
        Assert.Contains("[2, 4]", ex.Message);
    }

    [Fact]
    public void RReLU_draws_slopes_in_training_and_uses_the_mean_in_eval()
    {
        var x = Torch.Full([2000], -1.0);
        var rrelu = new RReLU(0.1, 0.3, new Generator(5));
        var yTrain = rrelu.Call(x).ToDoubleArray();
        Assert.All(yTrain, v => Assert.InRange(-v, 0.1, 0.3));
        Assert.InRange(yTrain.Average(), -0.21, -0.19);
        Assert.True(yTrain.Distinct().Count() > 1000);
        var again = new RReLU(0.1, 0.3, new Generator(5)).Call(x).ToDoubleArray();
        Assert.Equal(yTrain, again);
        rrelu.Eval();
        TestUtil.Close([-0.2, 0.5], rrelu.Call(Torch.Tensor(-1f, 0.5f)));
    }

    [Fact]
    public void ReLU_inplace_overwrites_its_input()
    {
        var x = Torch.Tensor(-1f, 2f, -3f);
        var y = new ReLU(inplace: true).Call(x);
        Assert.Same(x, y);
        TestUtil.Close([0, 2, 0], x);
    }

    [Fact]
    public void Elu_gradient_is_finite_for_large_inputs()
    {
        var x = Torch.Tensor(100f, 1000f, -2f).RequiresGradInPlace();
        F.Elu(x).Sum().Backward();
        TestUtil.Close([1, 1, Math.Exp(-2)], x.Grad!);
    }
}
