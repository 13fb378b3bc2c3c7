namespace Ember.Tests.Ops;

public class SoftplusTests
{
    [Fact]
    public void Softplus_and_log_sigmoid_have_the_right_gradient_at_zero()
    {
        // the composed form max(z, 0) + log1p(e^(−|z|)) differentiates to 0 at z = 0; the true slope is σ(0) = 1/2
        var x = Torch.Tensor(0f, -3f, 2f, 25f).RequiresGradInPlace();
        x.Softplus().Sum().Backward();
        TestUtil.Close([0.5, 0.047425873, 0.880797078, 1], x.Grad!, rtol: 1e-6);
        var z = Torch.Tensor(0f, -3f, 2f).RequiresGradInPlace();
        z.LogSigmoid().Sum().Backward();
        TestUtil.Close([0.5, 0.952574127, 0.119202922], z.Grad!, rtol: 1e-6);
        TestUtil.Close([0.693147181, 0.048587352, 2.126928011, 25], x.Softplus(), rtol: 1e-6);
    }

    [Fact]
    public void Softplus_with_beta_and_threshold_passes_first_and_second_order_gradcheck()
    {
        var x = TestUtil.Leaf([3, 4], seed: 3, scale: 3);
        Ember.Autograd.GradCheck.Check(xs => xs[0].Softplus(2, 5), [x]);
        Ember.Autograd.GradCheck.CheckSecondOrder(xs => xs[0].Softplus(), [x]);
        Ember.Autograd.GradCheck.CheckSecondOrder(xs => xs[0].LogSigmoid(), [x]);
    }
}
