using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>Binary cross-entropy on probabilities, log clamped at −100 (torch.nn.BCELoss); see <see cref="F.BinaryCrossEntropy"/>.</summary>
public sealed class BCELoss : Loss
{
    /// <summary>How per-element losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Per-element rescaling weight, broadcast against the input (buffer "weight").</summary>
    public Tensor? Weight { get; }

    /// <summary>Creates the loss (torch.nn.BCELoss).</summary>
    public BCELoss(Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        Weight = RegisterBuffer("weight", weight);
        Reduction = reduction;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.BinaryCrossEntropy(input, target, Weight, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}";
}
