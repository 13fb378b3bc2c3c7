using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>
/// MASE, the mean absolute scaled error (the notes' mase_loss): |A − F| scaled by each series' in-sample
/// seasonal-naive error mean_t |insample[t] − insample[t − freq]|, masked, with divide_no_nan. It needs the in-sample
/// history besides forecast and target, so it is a module with its own Forward rather than a two-input Loss.
/// See <see cref="F.MaseLoss"/>.
/// </summary>
public sealed class MASELoss : Module
{
    /// <summary>How per-element values are reduced (the notes take the mean).</summary>
    public Reduction Reduction { get; set; }

    /// <summary>The seasonal period of the naive forecast (1 for the plain naive forecast).</summary>
    public int Freq { get; }

    /// <summary>Creates the loss for seasonal period <paramref name="freq"/>.</summary>
    public MASELoss(int freq = 1, Reduction reduction = Reduction.Mean)
    {
        if (freq < 1) throw new ArgumentException($"MASELoss: freq must be at least 1, got {freq}");
        Freq = freq;
        Reduction = reduction;
    }

    /// <summary>The loss of forecast against target [batch, time_out] given the history insample [batch, time_in].</summary>
    public Tensor Forward(Tensor insample, Tensor forecast, Tensor target, Tensor? mask = null)
        => F.MaseLoss(insample, Freq, forecast, target, mask, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"freq={Freq}, reduction={Reduction}";
}
