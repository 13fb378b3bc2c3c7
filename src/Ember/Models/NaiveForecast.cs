namespace Ember.Models;

/// <summary>
/// The baselines every forecaster is judged against, from input windows (N, L) to forecasts (N, H):
/// naive repeats the last value; seasonal-naive repeats the last observed season, ŷ_{T+h} = y_{T+h−m·⌈h/m⌉}.
/// </summary>
public static class NaiveForecast
{
    /// <summary>ŷ_{T+h} = y_T for h = 1..<paramref name="horizon"/>.</summary>
    public static Tensor Naive(Tensor inputs, int horizon)
    {
        Check("naive", inputs, horizon, 1);
        return inputs.Narrow(1, inputs.Size(1) - 1, 1).Expand([inputs.Size(0), horizon]).Contiguous();
    }

    /// <summary>ŷ_{T+h} = y_{T+h−m·⌈h/m⌉} for h = 1..<paramref name="horizon"/>, m = <paramref name="season"/>; the window must hold a season.</summary>
    public static Tensor SeasonalNaive(Tensor inputs, int horizon, int season)
    {
        Check("seasonal_naive", inputs, horizon, season);
        int length = inputs.Size(1);
        var index = new long[horizon];
        for (int h = 1; h <= horizon; h++)
            index[h - 1] = length - 1 + h - (long)season * ((h + season - 1) / season);
        return inputs.IndexSelect(1, Torch.FromArray(index, [horizon]));
    }

    static void Check(string op, Tensor inputs, int horizon, int season)
    {
        if (inputs.Rank != 2) throw new ArgumentException($"{op}: expected input windows (N, L), got shape {inputs.Shape}");
        if (horizon <= 0) throw new ArgumentException($"{op}: horizon must be positive, got {horizon}");
        if (season <= 0 || season > inputs.Size(1))
            throw new ArgumentException($"{op}: the season {season} must be in [1, {inputs.Size(1)}] (the input window's length), got {season}");
    }
}
