namespace Ember.Tests.Ops;

public class AtanTests
{
    [Fact]
    public void Atan_matches_Math_Atan_in_float32_and_float64()
    {
        var x = Torch.Tensor(-1e6f, -2f, -1f, -0.5f, 0f, 0.25f, 1f, 3f, float.PositiveInfinity);
        TestUtil.Close([-1.5707953, -1.10714872, -0.78539816, -0.46364761, 0, 0.24497866, 0.78539816, 1.24904577, Math.PI / 2], x.Atan(), rtol: 1e-6);
        Assert.Equal(DType.Float32, x.Atan().DType);
        var d = Torch.Tensor(0.5, -3.0);
        TestUtil.Close([Math.Atan(0.5), Math.Atan(-3.0)], d.Atan(), rtol: 1e-15, atol: 0);
        // a strided view goes through the contiguous copy
        var m = Torch.Tensor(new double[,] { { 1, 2 }, { 3, 4 } }).T;
        TestUtil.Close([Math.Atan(1), Math.Atan(3), Math.Atan(2), Math.Atan(4)], m.Atan(), rtol: 1e-15, atol: 0);
    }

    [Fact]
    public void Atan_gradient_is_one_over_one_plus_x_squared_and_passes_gradcheck()
    {
        var x = Torch.Tensor(0.5f, -2f).RequiresGradInPlace();
        x.Atan().Sum().Backward();
        TestUtil.Close([0.8, 0.2], x.Grad!, rtol: 1e-6);
        Assert.Equal("AtanBackward0", x.Atan().GradFn);
        var leaf = TestUtil.Leaf([3, 4], seed: 7, scale: 2);
        Ember.Autograd.GradCheck.Check(xs => xs[0].Atan(), [leaf]);
        Ember.Autograd.GradCheck.CheckSecondOrder(xs => xs[0].Atan(), [leaf]);
    }
}
