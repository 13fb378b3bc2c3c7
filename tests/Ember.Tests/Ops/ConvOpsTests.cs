using Ember.Autograd;
using Ember.Ops;

namespace Ember.Tests.Ops;

public class ConvOpsTests
{
    [Theory]
    [InlineData(1, 1, 0, 1, 1)]
    [InlineData(2, 1, 1, 1, 1)]
    [InlineData(1, 2, 1, 2, 1)]
    [InlineData(2, 1, 1, 1, 2)]
    public void Conv2d_passes_gradcheck(int strideH, int strideW, int pad, int dilation, int groups)
    {
        var x = TestUtil.Leaf([2, 4, 6, 5], seed: 1);
        var w = TestUtil.Leaf([6, 4 / groups, 3, 2], seed: 2);
        var b = TestUtil.Leaf([6], seed: 3);
        GradCheck.Check(t => ConvOps.Conv2d(t[0], t[1], t[2], (strideH, strideW), (pad, pad), (dilation, dilation), groups), [x, w, b]);
    }

    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(2, 1, 1)]
    [InlineData(3, 1, 2)]
    public void ConvTranspose2d_passes_gradcheck(int stride, int pad, int outputPad)
    {
        var x = TestUtil.Leaf([2, 4, 3, 4], seed: 4);
        var w = TestUtil.Leaf([4, 3, 3, 3], seed: 5);
        var b = TestUtil.Leaf([3], seed: 6);
        GradCheck.Check(t => ConvOps.ConvTranspose2d(t[0], t[1], t[2], (stride, stride), (pad, pad), (outputPad, outputPad), (1, 1), 1), [x, w, b]);
    }

    [Fact]
    public void Conv2d_input_gradient_supports_double_backward_through_the_input()
    {
        var x = TestUtil.Leaf([1, 2, 4, 4], seed: 7);
        var w = TestUtil.Leaf([3, 2, 3, 3], seed: 8).Detach();
        GradCheck.CheckSecondOrder(t => ConvOps.Conv2d(t[0], w, null, (1, 1), (1, 1), (1, 1), 1).Square(), [x]);
    }

    [Fact]
    public void Conv2d_matches_a_hand_computed_value()
    {
        // 1×1×3×3 input 1..9, 2×2 kernel of ones, no padding: each output is the sum of a 2×2 window
        var x = Torch.Arange(1.0, 10.0).Reshape(1, 1, 3, 3);
        var w = Torch.Ones(1, 1, 2, 2);
        var y = ConvOps.Conv2d(x, w, Torch.Tensor(0.5f), (1, 1), (0, 0), (1, 1), 1);
        Assert.Equal([12.5, 16.5, 24.5, 28.5], y.ToDoubleArray());
    }

    [Fact]
    public void Channel_mismatch_names_both_sizes()
    {
        var ex = Assert.Throws<ArgumentException>(() => ConvOps.Conv2d(Torch.Zeros(8, 3, 28, 28), Torch.Zeros(32, 1, 3, 3), null, (1, 1), (0, 0), (1, 1), 1));
        Assert.Contains("expected input with 1 channels, got 3", ex.Message);
        Assert.Contains("[8, 3, 28, 28]", ex.Message);
    }
}
