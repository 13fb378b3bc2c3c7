using Ember.Models;

namespace Ember.Tests.Models;

public class NaiveForecastTests
{
    [Fact]
    public void Naive_repeats_the_last_value()
    {
        var x = TestUtil.F32([1, 2, 3, 10, 20, 30], 2, 3);
        Assert.Equal([3f, 3f, 30f, 30f], NaiveForecast.Naive(x, 2).ToArray<float>());
    }

    [Fact]
    public void Seasonal_naive_repeats_the_last_season_for_horizons_past_one_season()
    {
        // season 3 over window [1..6]: the last season is 4, 5, 6; h = 1..7 → 4 5 6 4 5 6 4
        var x = TestUtil.F32([1, 2, 3, 4, 5, 6], 1, 6);
        Assert.Equal([4f, 5f, 6f, 4f, 5f, 6f, 4f], NaiveForecast.SeasonalNaive(x, 7, 3).ToArray<float>());
        Assert.Equal([6f, 6f], NaiveForecast.SeasonalNaive(x, 2, 1).ToArray<float>()); // m = 1 is naive
    }

    [Fact]
    public void A_season_longer_than_the_window_is_an_error()
    {
        var e = Assert.Throws<ArgumentException>(() => NaiveForecast.SeasonalNaive(Torch.Zeros(2, 5), 3, 12));
        Assert.Contains("season 12 must be in [1, 5]", e.Message);
        Assert.Contains("expected input windows (N, L)", Assert.Throws<ArgumentException>(() => NaiveForecast.Naive(Torch.Zeros(5), 1)).Message);
    }
}
