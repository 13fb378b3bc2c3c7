using Ember.Autograd;
using Ember.Nn.Functional;
using Ember.Ops;

namespace Ember.Tests.Ops;

public class PoolOpsTests
{
    [Fact]
    public void Max_pool_without_a_graph_skips_the_indices_but_not_the_values()
    {
        var x = Torch.Randn([2, 3, 9, 8], generator: new Generator(4));
        Tensor fast;
        using (Torch.NoGrad()) fast = F.MaxPool2d(x, 3, 2, 1);
        var twoByTwo = F.MaxPool2d(x, 2);
        using (Torch.NoGrad()) Assert.Equal(twoByTwo.ToArray<float>(), F.MaxPool2d(x, 2).ToArray<float>());
        Assert.Null(fast.GradFn);
        var (expected, indices) = F.MaxPool2dWithIndices(x, (3, 3), (2, 2), (1, 1));
        Assert.Equal(expected.ToArray<float>(), fast.ToArray<float>());
        Assert.Equal([2, 3, 5, 4], fast.Shape.ToArray());
        Assert.Equal(fast.Shape, indices.Shape);
    }

    [Fact]
    public void MaxPool2d_values_indices_and_ceil_mode_sizes()
    {
        var x = Torch.Arange(1.0, 26.0).Reshape(1, 1, 5, 5);
        var (y, idx) = F.MaxPool2dWithIndices(x, (2, 2));
        Assert.Equal([7.0, 9, 17, 19], y.ToDoubleArray());
        Assert.Equal([6L, 8, 16, 18], idx.ToArray<long>());
        Assert.Equal(new Shape(1, 1, 3, 3), F.MaxPool2d(x, 2, ceilMode: true).Shape);
        // PyTorch: ceil((4 + 2 − 2 − 1)/2) + 1 = 3, kept because the last window starts inside the input (3 < 4 + 1)
        Assert.Equal(new Shape(1, 1, 3, 3), F.MaxPool2d(Torch.Zeros(1, 1, 4, 4), 3, 2, padding: 1, ceilMode: true).Shape);
    }

    [Fact]
    public void Pools_pass_gradcheck_and_double_backward()
    {
        // distinct values so the max is unique and finite differences do not cross a tie
        var x = (Torch.Randperm(2 * 3 * 6 * 6, new Generator(1)).To(DType.Float64).Reshape(2, 3, 6, 6) * 0.1).Detach().RequiresGradInPlace();
        GradCheck.Check(t => F.MaxPool2d(t[0], 3, 2, padding: 1), [x], eps: 1e-4);
        GradCheck.Check(t => F.AvgPool2d(t[0], 3, 2, padding: 1, countIncludePad: false), [x]);
        GradCheck.Check(t => F.AdaptiveAvgPool2d(t[0], (4, 3)), [x]);
        GradCheck.Check(t => F.AdaptiveMaxPool2d(t[0], (4, 3)), [x], eps: 1e-4);
        GradCheck.CheckSecondOrder(t => F.AvgPool2d(t[0], 2).Square(), [x]);
        GradCheck.CheckSecondOrder(t => F.MaxPool2d(t[0], 2).Square(), [x], eps: 1e-4);
    }

    [Fact]
    public void Global_average_pool_equals_mean_over_the_plane()
    {
        var x = Torch.Randn([2, 3, 5, 7], generator: new Generator(2));
        TestUtil.Close(x.Mean([2, 3], keepDim: true), F.AdaptiveAvgPool2d(x, (1, 1)), rtol: 1e-5, atol: 1e-6);
    }

    [Fact]
    public void Bad_rank_is_reported_with_the_shape()
    {
        var ex = Assert.Throws<ArgumentException>(() => F.MaxPool2d(Torch.Zeros(4, 4), 2));
        Assert.Contains("max_pool2d", ex.Message);
        Assert.Contains("[4, 4]", ex.Message);
    }
}
