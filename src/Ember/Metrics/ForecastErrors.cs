using Ember.Nn.Functional;

namespace Ember.Metrics;

/// <summary>
/// A forecast's MAPE (a fraction), sMAPE (0–200) and MASE over all windows and steps, computed with
/// <see cref="F.MapeLoss"/>, <see cref="F.SmapeLoss"/> and <see cref="F.MaseLoss"/>: MASE divides the absolute error by
/// the in-sample seasonal-naive error s = mean_t |y_t − y_{t−m}| of the training part, so seasonal-naive itself scores
/// about 1 when the test period is like the training one.
/// </summary>
public sealed record ForecastErrors(double Mape, double Smape, double Mase)
{
    /// <summary>Errors of <paramref name="forecast"/> against <paramref name="target"/>, both (N, H) in the series' units;
    /// <paramref name="insample"/> is the training part (T) and <paramref name="season"/> m.</summary>
    public static ForecastErrors Of(Tensor forecast, Tensor target, Tensor insample, int season)
    {
        var f = forecast.To(DType.Float64);
        var a = target.To(DType.Float64);
        if (insample.Rank != 1) throw new ArgumentException($"ForecastErrors: expected the in-sample series as (T), got shape {insample.Shape}");
        var ins = insample.To(DType.Float64).Unsqueeze(0).Expand([f.Size(0), insample.Size(0)]);
        return new ForecastErrors(F.MapeLoss(f, a).Item(), F.SmapeLoss(f, a).Item(), F.MaseLoss(ins, season, f, a).Item());
    }
}
