using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>log(1 + e^(−y·x)) for y ∈ {−1, 1} (torch.nn.SoftMarginLoss); see <see cref="F.SoftMarginLoss"/>.</summary>
public sealed class SoftMarginLoss : Loss
{
    /// <summary>How per-element losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Creates the loss (torch.nn.SoftMarginLoss).</summary>
    public SoftMarginLoss(Reduction reduction = Reduction.Mean)
    {
        Reduction = reduction;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.SoftMarginLoss(input, target, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}";
}
