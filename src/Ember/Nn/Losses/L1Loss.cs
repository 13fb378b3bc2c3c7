using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>Mean absolute error |x − y| (torch.nn.L1Loss); see <see cref="F.L1Loss"/>.</summary>
public sealed class L1Loss : Loss
{
    /// <summary>How per-element losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Creates the loss (torch.nn.L1Loss).</summary>
    public L1Loss(Reduction reduction = Reduction.Mean)
    {
        Reduction = reduction;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.L1Loss(input, target, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}";
}
