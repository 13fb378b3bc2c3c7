using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>sMAPE (the notes' smape_loss): 200·mean(divide_no_nan(|F − A|, |F| + |A|)·mask) with the denominator detached. See <see cref="F.SmapeLoss"/>.</summary>
public sealed class SMAPELoss : Loss
{
    /// <summary>How per-element values are reduced (the notes take the mean).</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Creates the loss.</summary>
    public SMAPELoss(Reduction reduction = Reduction.Mean) => Reduction = reduction;

    /// <summary>The loss of forecast against target, [batch, time], with every point counted.</summary>
    public override Tensor Forward(Tensor input, Tensor target) => F.SmapeLoss(input, target, null, Reduction);

    /// <summary>The loss with a 0/1 mask of the points that count, same shape as the forecast.</summary>
    public Tensor Forward(Tensor forecast, Tensor target, Tensor? mask) => F.SmapeLoss(forecast, target, mask, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}";
}
