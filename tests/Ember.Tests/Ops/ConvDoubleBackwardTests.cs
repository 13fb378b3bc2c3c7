using Ember.Autograd;
using Ember.Nn.Functional;
using Ember.Ops;
using Ember.Tests.Reference.Autograd;

namespace Ember.Tests.Ops;

/// <summary>Double backward through conv2d and conv_transpose2d (gradient penalties, Hessian-vector products on CNNs).</summary>
public class ConvDoubleBackwardTests
{
    static Tensor Seq(int[] shape, double a, double b)
    {
        int n = 1; foreach (var s in shape) n *= s;
        return (Torch.Arange(0.0, n, 1.0, DType.Float64) * a + b).Sin().Reshape(shape);
    }

    [Fact]
    public void GradientPenaltyThroughAGroupedStridedConvMatchesTorch()
    {
        var x = Seq([2, 4, 6, 5], 0.37, 0.1).RequiresGradInPlace();
        var w = (Seq([6, 2, 3, 3], 0.53, 0.7) * 0.5).Detach().RequiresGradInPlace();
        var b = Seq([6], 1.1, 0.3).Detach().RequiresGradInPlace();
        var v = Seq([2, 6, 3, 3], 0.91, -0.4);
        var y = F.Conv2d(x, w, b, stride: (2, 2), padding: 1, groups: 2);
        var s = (y.Tanh() * v).Sum();
        var gx = Torch.Grad(s, [x], createGraph: true)[0]!;
        var p = gx.Square().Sum();
        var grads = Torch.Grad(p, [w, b, x]);
        Assert.Equal(ConvGradientPenaltyReference.Penalty, p.Item(), 1e-10);
        TestUtil.Close(ConvGradientPenaltyReference.WeightGrad, grads[0]!, 1e-9, 1e-11);
        TestUtil.Close(ConvGradientPenaltyReference.BiasGrad, grads[1]!, 1e-9, 1e-11);
        TestUtil.Close(ConvGradientPenaltyReference.InputGrad, grads[2]!, 1e-9, 1e-11);
    }

    [Theory]
    [InlineData(1, 0, 1, 1)]
    [InlineData(2, 1, 1, 1)]
    [InlineData(1, 2, 2, 1)]
    [InlineData(2, 1, 1, 2)]
    public void Conv2dSecondOrderGradCheckOverInputWeightAndBias(int stride, int padding, int dilation, int groups)
    {
        var x = TestUtil.Leaf([2, 4, 6, 5], 11);
        var w = TestUtil.Leaf([4, 4 / groups, 3, 2], 12);
        var b = TestUtil.Leaf([4], 13);
        GradCheck.CheckSecondOrder(t => ConvOps.Conv2d(t[0], t[1], t[2], (stride, stride), (padding, padding), (dilation, dilation), groups).Tanh(), [x, w, b]);
    }

    [Theory]
    [InlineData(1, 0, 0, 1)]
    [InlineData(2, 1, 1, 1)]
    [InlineData(2, 0, 1, 2)]
    public void ConvTranspose2dSecondOrderGradCheckOverInputWeightAndBias(int stride, int padding, int outputPadding, int groups)
    {
        var x = TestUtil.Leaf([2, 4, 4, 3], 21);
        var w = TestUtil.Leaf([4, 6 / groups, 3, 3], 22);
        var b = TestUtil.Leaf([6], 23);
        GradCheck.CheckSecondOrder(t => ConvOps.ConvTranspose2d(t[0], t[1], t[2], (stride, stride), (padding, padding), (outputPadding, outputPadding), (1, 1), groups).Tanh(), [x, w, b]);
    }
}
