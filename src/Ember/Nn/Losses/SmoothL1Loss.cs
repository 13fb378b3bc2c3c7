using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>Smooth L1: 0.5·d²/β for |d| &lt; β, |d| − 0.5·β otherwise (torch.nn.SmoothL1Loss); see <see cref="F.SmoothL1Loss"/>.</summary>
public sealed class SmoothL1Loss : Loss
{
    /// <summary>How per-element losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Where the loss turns from quadratic to linear; 0 makes it L1.</summary>
    public double Beta { get; }

    /// <summary>Creates the loss (torch.nn.SmoothL1Loss).</summary>
    public SmoothL1Loss(Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        Reduction = reduction;
        Beta = beta;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.SmoothL1Loss(input, target, Reduction, Beta);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}, beta={Beta}";
}
