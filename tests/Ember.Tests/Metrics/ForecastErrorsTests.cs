using Ember.Metrics;

namespace Ember.Tests.Metrics;

public class ForecastErrorsTests
{
    [Fact]
    public void Mape_smape_and_mase_by_hand()
    {
        // in-sample 1 2 4 7 with m = 1: scale s = mean(|1|, |2|, |3|) = 2
        var insample = TestUtil.F32([1, 2, 4, 7]);
        var target = TestUtil.F32([10, 20], 1, 2);
        var forecast = TestUtil.F32([12, 15], 1, 2);
        var e = ForecastErrors.Of(forecast, target, insample, season: 1);
        Assert.Equal((2.0 / 10 + 5.0 / 20) / 2, e.Mape, 6);
        Assert.Equal(200 * (2.0 / 22 + 5.0 / 35) / 2, e.Smape, 5);
        Assert.Equal((2.0 / 2 + 5.0 / 2) / 2, e.Mase, 6);
        // m = 2: s = mean(|4 − 1|, |7 − 2|) = 4
        Assert.Equal((2.0 / 4 + 5.0 / 4) / 2, ForecastErrors.Of(forecast, target, insample, season: 2).Mase, 6);
    }

    [Fact]
    public void Seasonal_naive_on_a_series_like_its_training_part_scores_mase_one()
    {
        // a trend of +1 per season of 3: the in-sample seasonal difference is 1 everywhere, so is the test error
        double[] y = [0, 5, 2, 1, 6, 3, 2, 7, 4, 3, 8, 5];
        var insample = Torch.FromArray(y[..9], [9]);
        var seasonal = Torch.FromArray(y[6..9], [1, 3]);   // the last season before the test
        var target = Torch.FromArray(y[9..12], [1, 3]);
        Assert.Equal(1.0, ForecastErrors.Of(seasonal, target, insample, 3).Mase, 12);
    }
}
