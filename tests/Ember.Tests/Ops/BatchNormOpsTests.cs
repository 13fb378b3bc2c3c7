using Ember.Ops;

namespace Ember.Tests.Ops;

public class BatchNormOpsTests
{
    [Fact]
    public void Fused_training_batch_norm_passes_gradcheck_and_double_backward()
    {
        var x = TestUtil.Leaf([3, 4, 2, 3], seed: 1, scale: 2, shift: 0.5);
        var w = TestUtil.Leaf([4], seed: 2);
        var b = TestUtil.Leaf([4], seed: 3);
        Ember.Autograd.GradCheck.Check(t => BatchNormOps.Training(t[0], t[1], t[2], 1e-5).Output, [x, w, b]);
        Ember.Autograd.GradCheck.CheckSecondOrder(t => BatchNormOps.Training(t[0], t[1], t[2], 1e-5).Output.Square(), [x, w, b], atol: 1e-4);
    }

    [Fact]
    public void Fused_statistics_equal_the_composite_definition()
    {
        var x = Torch.Randn([8, 3, 5], DType.Float64, new Generator(4)) * 3 + 1;
        var (y, mean, variance) = BatchNormOps.Training(x, null, null, 1e-5);
        TestUtil.Close(x.Mean([0, 2]), mean, rtol: 1e-12);
        TestUtil.Close(x.Var([0, 2], correction: 0), variance, rtol: 1e-9);
        var expected = (x - x.Mean([0, 2], keepDim: true)) / (x.Var([0, 2], keepDim: true, correction: 0) + 1e-5).Sqrt();
        TestUtil.Close(expected, y, rtol: 1e-10, atol: 1e-12);
    }
}
