using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>Mean squared error (x − y)² (torch.nn.MSELoss); see <see cref="F.MseLoss"/>.</summary>
public sealed class MSELoss : Loss
{
    /// <summary>How per-element losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Creates the loss (torch.nn.MSELoss).</summary>
    public MSELoss(Reduction reduction = Reduction.Mean)
    {
        Reduction = reduction;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.MseLoss(input, target, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}";
}
