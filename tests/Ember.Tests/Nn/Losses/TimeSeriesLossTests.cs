using Ember.Autograd;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Losses;

namespace Ember.Tests.Nn.Losses;

public class TimeSeriesLossTests
{
    [Fact]
    public void Divide_no_nan_turns_nan_and_infinities_into_zero_with_a_finite_gradient()
    {
        var a = Torch.Tensor(1.0, 0.0, -2.0, 3.0, 1.0).RequiresGradInPlace();
        var b = Torch.Tensor(2.0, 0.0, 0.0, -0.0, 4.0).RequiresGradInPlace();
        var q = F.DivideNoNan(a, b);
        TestUtil.Close([0.5, 0, 0, 0, 0.25], q, rtol: 0, atol: 0);
        q.Sum().Backward();
        TestUtil.Close([0.5, 0, 0, 0, 0.25], a.Grad!, rtol: 0, atol: 0);
        TestUtil.Close([-0.25, 0, 0, 0, -1.0 / 16], b.Grad!, rtol: 0, atol: 0);
    }

    [Fact]
    public void Mape_smape_and_mase_follow_the_notes_formulas_by_hand()
    {
        var forecast = Torch.Tensor(new double[,] { { 1, 2, 3 }, { 4, 0, 6 } });
        var target = Torch.Tensor(new double[,] { { 2, 2, 0 }, { 5, 0, 3 } });
        var mask = Torch.Tensor(new double[,] { { 1, 1, 1 }, { 1, 0, 1 } });
        // |F − A|/A where defined and masked in, else 0: 0.5, 0, 0 | 0.2, 0, 1
        Assert.Equal((0.5 + 0.2 + 1.0) / 6, F.MapeLoss(forecast, target, mask).Item(), 12);
        Assert.Equal((0.5 + 0.2 + 1.0) / 6, new MAPELoss().Forward(forecast, target, mask).Item(), 12);
        // 200·|F − A|/(|F| + |A|): 1/3, 0, 1 | 1/9, (0/0 →) 0, 1/3
        Assert.Equal(200 * (1.0 / 3 + 1 + 1.0 / 9 + 1.0 / 3) / 6, F.SmapeLoss(forecast, target, mask).Item(), 10);
        Assert.Equal(200 * (1.0 / 3 + 1 + 1.0 / 9 + 1.0 / 3) / 6, new SMAPELoss().Forward(forecast, target).Item(), 10);
        // MASE, freq 2: scale of [1, 2, 4, 8] is mean(|4 − 1|, |8 − 2|) = 4.5; of [1, 1, 1, 1] is 0 (→ inverse 0)
        var insample = Torch.Tensor(new double[,] { { 1, 2, 4, 8 }, { 1, 1, 1, 1 } });
        Assert.Equal((1 + 0 + 3) / 4.5 / 6, F.MaseLoss(insample, 2, forecast, target, mask).Item(), 12);
        Assert.Equal((1 + 0 + 3) / 4.5 / 6, new MASELoss(freq: 2).Forward(insample, forecast, target, mask).Item(), 12);
    }

    [Fact]
    public void Mape_and_mase_pass_gradcheck_in_forecast_and_insample()
    {
        var forecast = TestUtil.Leaf([2, 5], 1, shift: 3);
        var target = Torch.Randn([2, 5], DType.Float64, new Generator(2)) + 3;
        var mask = (Torch.Rand([2, 5], DType.Float64, new Generator(3)) > 0.3).To(DType.Float64);
        var insample = TestUtil.Leaf([2, 8], 4);
        GradCheck.Check(xs => F.MapeLoss(xs[0], target, mask), [forecast]);
        GradCheck.Check(xs => F.MaseLoss(xs[1], 3, xs[0], target, mask, Reduction.None), [forecast, insample]);
    }

    [Fact]
    public void Smape_gradient_flows_through_the_numerator_only()
    {
        // the denominator is detached (forecast.data in the notes): d/dF = 200/n·sign(F − A)/(|F| + |A|)·mask
        var f = Torch.Tensor(1.0, -2.0, 3.0, 0.0).RequiresGradInPlace();
        var a = Torch.Tensor(2.0, 1.0, 3.5, 0.0);
        var mask = Torch.Tensor(1.0, 1.0, 1.0, 1.0);
        F.SmapeLoss(f, a, mask).Backward();
        TestUtil.Close([200 / 4.0 * -1 / 3, 200 / 4.0 * -1 / 3, 200 / 4.0 * -1 / 6.5, 0], f.Grad!, rtol: 1e-12);
    }

    [Fact]
    public void Time_series_losses_reject_mismatched_shapes_and_bad_freq()
    {
        var f = Torch.Zeros(2, 3);
        var e = Assert.Throws<ArgumentException>(() => F.MapeLoss(f, Torch.Zeros(2, 4)));
        Assert.Contains("mape_loss", e.Message); Assert.Contains("[2, 3]", e.Message); Assert.Contains("[2, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.SmapeLoss(f, f, Torch.Zeros(3, 2)));
        Assert.Contains("mask [3, 2]", e.Message);
        e = Assert.Throws<ArgumentException>(() => F.MaseLoss(Torch.Zeros(2, 4), 4, f, f));
        Assert.Contains("freq", e.Message); Assert.Contains("[2, 4]", e.Message);
    }
}
