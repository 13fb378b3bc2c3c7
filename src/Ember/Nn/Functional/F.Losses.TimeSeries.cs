namespace Ember.Nn.Functional;

// The forecasting losses of the notes (N-BEATS' mape_loss, smape_loss, mase_loss): forecast and target are
// [batch, time], the optional mask is a 0/1 tensor of the same shape (null = all ones).
public static partial class F
{
    /// <summary>
    /// a / b where the quotient is NaN or ±∞ becomes 0 (the notes' divide_no_nan). The notes' code zeroes only +∞;
    /// −∞ (a −0.0 denominator) is zeroed too. Where the quotient is zeroed the gradient is 0 as well (the notes'
    /// in-place form would give NaN there: its DivBackward sees 0/0).
    /// </summary>
    public static Tensor DivideNoNan(Tensor a, Tensor b)
    {
        Tensor bad;
        using (Torch.NoGrad()) bad = (a / b).IsFinite().LogicalNot();
        var safeB = Torch.Where(bad, Torch.OnesLike(b), b);
        var q = a / safeB;
        return Torch.Where(bad, Torch.ZerosLike(q), q);
    }

    /// <summary>MAPE (the notes' mape_loss): mean(|(F − A)·divide_no_nan(mask, A)|), a fraction (not a percentage).</summary>
    public static Tensor MapeLoss(Tensor forecast, Tensor target, Tensor? mask = null, Reduction reduction = Reduction.Mean)
    {
        const string op = "mape_loss";
        var m = SeriesMask(op, forecast, target, mask);
        var weights = DivideNoNan(m, AsInputType(target, forecast));
        return Reduce(((forecast - AsInputType(target, forecast)) * weights).Abs(), reduction);
    }

    /// <summary>
    /// sMAPE (the notes' smape_loss, Makridakis 1993): 200·mean(divide_no_nan(|F − A|, |F| + |A|)·mask), with the
    /// denominator detached as in the notes (forecast.data), so the gradient flows through the numerator only.
    /// </summary>
    public static Tensor SmapeLoss(Tensor forecast, Tensor target, Tensor? mask = null, Reduction reduction = Reduction.Mean)
    {
        const string op = "smape_loss";
        var m = SeriesMask(op, forecast, target, mask);
        var a = AsInputType(target, forecast);
        var denominator = forecast.Detach().Abs() + a.Detach().Abs();
        return Reduce(DivideNoNan((forecast - a).Abs(), denominator) * m, reduction) * 200.0;
    }

    /// <summary>
    /// MASE (the notes' mase_loss, Hyndman's scaled errors): mean(|A − F|·divide_no_nan(mask, s)) where
    /// s = mean_t |insample[t] − insample[t − freq]| per series is the in-sample seasonal-naive error.
    /// insample is [batch, time_in] with time_in &gt; freq.
    /// </summary>
    public static Tensor MaseLoss(Tensor insample, int freq, Tensor forecast, Tensor target, Tensor? mask = null, Reduction reduction = Reduction.Mean)
    {
        const string op = "mase_loss";
        var m = SeriesMask(op, forecast, target, mask);
        if (insample.Rank != 2 || forecast.Rank != 2 || insample.Size(0) != forecast.Size(0))
            throw new ArgumentException($"{op}: expected insample [batch, time_in] and forecast [batch, time_out] with the same batch, got insample {insample.Shape} and forecast {forecast.Shape}");
        if (freq < 1 || freq >= insample.Size(1))
            throw new ArgumentException($"{op}: freq must be in [1, time_in) = [1, {insample.Size(1)}), got {freq} (insample {insample.Shape})");
        var ins = AsInputType(insample, forecast);
        int n = ins.Size(1);
        var masep = (ins.Narrow(1, freq, n - freq) - ins.Narrow(1, 0, n - freq)).Abs().Mean(1);
        var maskedMasepInv = DivideNoNan(m, masep.Unsqueeze(1));
        return Reduce((AsInputType(target, forecast) - forecast).Abs() * maskedMasepInv, reduction);
    }

    static Tensor SeriesMask(string op, Tensor forecast, Tensor target, Tensor? mask)
    {
        CheckSameShape(op, forecast, target, "forecast");
        CheckFloating(op, forecast, "forecast");
        if (mask is null) return Torch.OnesLike(forecast);
        CheckSameShape(op, forecast, mask, "forecast", "mask");
        return AsInputType(mask, forecast);
    }
}
