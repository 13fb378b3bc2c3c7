using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Losses;

namespace Ember.Tests.Nn.Losses;

public class RegressionLossTests
{
    static readonly Tensor X = Torch.Tensor(-3.0, -1.0, -0.7, -0.2, 0.0, 0.3, 0.9, 1.6, 2.5);
    static readonly Tensor Y = Torch.ZerosLike(X);

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void Huber_is_delta_times_smooth_l1_with_beta_delta(double delta)
    {
        foreach (var r in new[] { Reduction.None, Reduction.Mean, Reduction.Sum })
            TestUtil.Close(F.SmoothL1Loss(X, Y, r, beta: delta) * delta, F.HuberLoss(X, Y, r, delta), rtol: 1e-12, atol: 1e-15);
    }

    [Fact]
    public void Huber_equals_smooth_l1_at_delta_one_and_smooth_l1_at_beta_zero_is_l1()
    {
        // the notes: "当delta = 1, Huber退化成smooth L1"
        TestUtil.Close(new SmoothL1Loss(Reduction.None).Forward(X, Y), new HuberLoss(Reduction.None).Forward(X, Y), rtol: 0, atol: 0);
        TestUtil.Close(new L1Loss(Reduction.None).Forward(X, Y), new SmoothL1Loss(Reduction.None, beta: 0).Forward(X, Y), rtol: 0, atol: 0);
        // 0.5x² inside, |x| − 0.5 outside
        TestUtil.Close([2.5, 0.5, 0.245, 0.02, 0, 0.045, 0.405, 1.1, 2.0], F.SmoothL1Loss(X, Y, Reduction.None), rtol: 1e-12);
        // δ = 0.5: 0.5x² inside, 0.5·(|x| − 0.25) outside
        TestUtil.Close([1.375, 0.375, 0.225, 0.02, 0, 0.045, 0.325, 0.675, 1.125], F.HuberLoss(X, Y, Reduction.None, 0.5), rtol: 1e-12);
    }

    [Fact]
    public void L1_mse_smooth_l1_and_huber_pass_gradcheck_in_input_and_target()
    {
        var x = TestUtil.Leaf([3, 5], 1, scale: 2);
        var y = TestUtil.Leaf([3, 5], 2);
        GradCheck.Check(xs => F.L1Loss(xs[0], xs[1], Reduction.None), [x, y]);
        GradCheck.Check(xs => F.MseLoss(xs[0], xs[1]), [x, y]);
        GradCheck.CheckSecondOrder(xs => F.MseLoss(xs[0], xs[1], Reduction.Sum), [x, y]);
        foreach (var beta in new[] { 0.0, 0.5, 1.0 })
            GradCheck.Check(xs => F.SmoothL1Loss(xs[0], xs[1], Reduction.Sum, beta), [x, y]);
        foreach (var delta in new[] { 0.5, 2.0 })
            GradCheck.Check(xs => F.HuberLoss(xs[0], xs[1], Reduction.Mean, delta), [x, y]);
    }

    [Fact]
    public void The_gradient_of_l1_at_zero_difference_is_zero_as_in_pytorch()
    {
        var x = Torch.Tensor(1f, 2f).RequiresGradInPlace();
        F.L1Loss(x, Torch.Tensor(1f, 0f), Reduction.Sum).Backward();
        TestUtil.Close([0, 1], x.Grad!, rtol: 0, atol: 0);
    }

    [Fact]
    public void Bad_options_name_the_op_and_the_value()
    {
        var e = Assert.Throws<ArgumentException>(() => F.SmoothL1Loss(X, Y, beta: -1));
        Assert.Contains("smooth_l1_loss", e.Message); Assert.Contains("-1", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.HuberLoss(X, Y, delta: 0));
        Assert.Contains("huber_loss", e.Message);
    }
}
