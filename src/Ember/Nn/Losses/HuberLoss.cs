using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>Huber: 0.5·d² for |d| &lt; δ, δ·(|d| − 0.5·δ) otherwise (torch.nn.HuberLoss); see <see cref="F.HuberLoss"/>.</summary>
public sealed class HuberLoss : Loss
{
    /// <summary>How per-element losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Where the loss turns from quadratic to linear, and the slope of the linear part.</summary>
    public double Delta { get; }

    /// <summary>Creates the loss (torch.nn.HuberLoss).</summary>
    public HuberLoss(Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        Reduction = reduction;
        Delta = delta;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.HuberLoss(input, target, Reduction, Delta);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}, delta={Delta}";
}
