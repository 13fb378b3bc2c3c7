using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>MAPE, the mean absolute percentage error as a fraction (the notes' mape_loss): mean(|(F − A)·divide_no_nan(mask, A)|). See <see cref="F.MapeLoss"/>.</summary>
public sealed class MAPELoss : Loss
{
    /// <summary>How per-element values are reduced (the notes take the mean).</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Creates the loss.</summary>
    public MAPELoss(Reduction reduction = Reduction.Mean) => Reduction = reduction;

    /// <summary>The loss of forecast against target, [batch, time], with every point counted.</summary>
    public override Tensor Forward(Tensor input, Tensor target) => F.MapeLoss(input, target, null, Reduction);

    /// <summary>The loss with a 0/1 mask of the points that count, same shape as the forecast.</summary>
    public Tensor Forward(Tensor forecast, Tensor target, Tensor? mask) => F.MapeLoss(forecast, target, mask, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}";
}
