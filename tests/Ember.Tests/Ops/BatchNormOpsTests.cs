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
    public void Fused_training_batch_norm_with_silu_passes_gradcheck_and_double_backward()
    {
        var x = TestUtil.Leaf([3, 4, 2, 3], seed: 5, scale: 2, shift: 0.5);
        var w = TestUtil.Leaf([4], seed: 6);
        var b = TestUtil.Leaf([4], seed: 7);
        Ember.Autograd.GradCheck.Check(t => BatchNormOps.Training(t[0], t[1], t[2], 1e-3, silu: true).Output, [x, w, b]);
        Ember.Autograd.GradCheck.CheckSecondOrder(t => BatchNormOps.Training(t[0], t[1], t[2], 1e-3, silu: true).Output.Square(), [x, w, b], atol: 1e-4);
        Ember.Autograd.GradCheck.Check(t => BatchNormOps.Training(t[0], null, null, 1e-3, silu: true).Output, [x]);
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Fused_silu_op_equals_batch_norm_then_silu_bit_for_bit(DType dtype)
    {
        // values and all three gradients, through the graph (the fused op is one node, the pair two)
        var x0 = (Torch.Randn([4, 3, 5, 7], DType.Float64, new Generator(8)) * 3 + 1).To(dtype);
        var w0 = Torch.Randn([3], DType.Float64, new Generator(9)).To(dtype);
        var b0 = Torch.Randn([3], DType.Float64, new Generator(10)).To(dtype);
        var g = Torch.Randn([4, 3, 5, 7], DType.Float64, new Generator(11)).To(dtype);
        Tensor[] Run(bool fused)
        {
            var x = x0.Clone().RequiresGradInPlace(); var w = w0.Clone().RequiresGradInPlace(); var b = b0.Clone().RequiresGradInPlace();
            var y = fused ? BatchNormOps.Training(x, w, b, 1e-3, silu: true).Output : Ember.Nn.Functional.F.Silu(BatchNormOps.Training(x, w, b, 1e-3).Output);
            y.Backward(g);
            return [y.Detach(), x.Grad!, w.Grad!, b.Grad!];
        }
        var pair = Run(false);
        var one = Run(true);
        string[] names = ["output", "dx", "dweight", "dbias"];
        for (int i = 0; i < 4; i++)
            Assert.True(pair[i].To(DType.Float64).ToArray<double>().SequenceEqual(one[i].To(DType.Float64).ToArray<double>()), $"{dtype} {names[i]} differs");
    }

    [Fact]
    public void Fused_silu_op_rejects_half_inputs()
    {
        var e = Assert.Throws<ArgumentException>(() => BatchNormOps.Training(Torch.Ones([2, 3, 4], DType.Float16), null, null, 1e-3, silu: true));
        Assert.Contains("batch_norm with SiLU", e.Message);
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
