using Ember.Nn.Functional;
using Ember.Tests.Reference.Autograd;

namespace Ember.Tests.Autograd;

/// <summary>
/// At the points where a piecewise op is not differentiable, the gradient is exactly PyTorch's: every breakpoint of every
/// piecewise op, against libtorch (<see cref="BreakpointReference"/>), in float64.
/// </summary>
public class BreakpointGradientTests
{
    static readonly Dictionary<string, (double[][] Inputs, Func<Tensor[], Tensor> Op)> Cases = new()
    {
        ["clamp"] = ([[-0.5, 0.5, -0.6, 0.6, 0]], a => a[0].Clamp(-0.5, 0.5)),
        ["clamp_min_only"] = ([[0.1, 0, 0.2]], a => a[0].Clamp(min: 0.1)),
        ["relu6"] = ([[0, 6, -1, 3, 7]], a => F.Relu6(a[0])),
        ["hardswish"] = ([[-3, 3, 0, -4, 4, 1]], a => F.Hardswish(a[0])),
        ["hardsigmoid"] = ([[-3, 3, 0, -4, 4]], a => F.Hardsigmoid(a[0])),
        ["threshold"] = ([[0.5, 0.4, 0.6]], a => F.Threshold(a[0], 0.5, 2)),
        ["relu"] = ([[0, -1, 1]], a => a[0].Relu()),
        ["leaky_relu"] = ([[0, -1, 1]], a => F.LeakyRelu(a[0], 0.1)),
        ["elu"] = ([[0, -1, 1]], a => F.Elu(a[0], 1.5)),
        ["celu"] = ([[0, -1, 1]], a => F.Celu(a[0], 2.0)),
        ["selu"] = ([[0, -1, 1]], a => F.Selu(a[0])),
        ["softplus_threshold"] = ([[20, 19.5, 20.5]], a => F.Softplus(a[0])),
        ["abs"] = ([[0, -1, 1]], a => a[0].Abs()),
        ["sign"] = ([[0, -1, 1]], a => a[0].Sign()),
        ["max_all_ties"] = ([[1, 3, 3, 2]], a => a[0].Max()),
        ["min_all_ties"] = ([[1, 1, 2]], a => a[0].Min()),
        ["max_dim_ties"] = ([[1, 3, 3, 2, 2, 0]], a => a[0].Reshape(2, 3).Max(1).Values),
        ["min_dim_ties"] = ([[1, 3, 1, 0, 2, 0]], a => a[0].Reshape(2, 3).Min(1).Values),
        ["amax_ties"] = ([[1, 3, 3, 2, 2, 0]], a => a[0].Reshape(2, 3).Amax([1])),
        ["amin_ties"] = ([[1, 3, 1, 0, 2, 0]], a => a[0].Reshape(2, 3).Amin([1])),
        ["maximum_ties"] = ([[1, 2, 3], [1, 0, 3]], a => a[0].Maximum(a[1])),
        ["minimum_ties"] = ([[1, 2, 3], [1, 0, 3]], a => a[0].Minimum(a[1])),
        ["clamp_tensor_ties"] = ([[0, 1, 2, -1, 3], [0, 0, 0, 0, 0], [2, 2, 2, 2, 2]], a => a[0].Clamp(a[1], a[2])),
        ["max_pool_ties"] = ([[1, 1, 1, 1, 2, 0, 2, 2, 1]], a => F.MaxPool2d(a[0].Reshape(1, 1, 3, 3), 2, 1)),
    };

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in Cases.Keys) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientAtBreakpointsIsPyTorchs(string op)
    {
        var (inputs, f) = Cases[op];
        var xs = inputs.Select(v => Torch.Tensor(v).RequiresGradInPlace()).ToArray();
        f(xs).Sum().Backward();
        var expected = BreakpointReference.Gradients[op];
        Assert.Equal(expected.Length, xs.Length);
        for (int i = 0; i < xs.Length; i++) TestUtil.Close(expected[i], xs[i].Grad!.ToDoubleArray(), 1e-15, 1e-15);
    }

    [Fact]
    public void HardtanhWithOtherBoundsIsTheSameOpAsRelu6()
    {
        // relu6 is hardtanh(x, 0, 6) in ATen: the same gradient at the ends, shifted
        var x = Torch.Tensor([-2.0, 3.0, 0.5, -2.5, 3.5]).RequiresGradInPlace();
        F.Hardtanh(x, -2, 3).Sum().Backward();
        Assert.Equal([0.0, 0.0, 1.0, 0.0, 0.0], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void PiecewiseBackwardsAreTwiceDifferentiable()
    {
        var x = TestUtil.Leaf([3, 4], 9, scale: 3);
        Ember.Autograd.GradCheck.CheckSecondOrder(a => F.Hardswish(a[0]) * a[0], [x]);
        Ember.Autograd.GradCheck.CheckSecondOrder(a => F.Hardsigmoid(a[0]) * a[0], [x]);
        Ember.Autograd.GradCheck.CheckSecondOrder(a => F.Hardtanh(a[0], -1.5, 2) * a[0], [x]);
    }
}
