using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>Per-class logistic loss averaged over classes (torch.nn.MultiLabelSoftMarginLoss); see <see cref="F.MultilabelSoftMarginLoss"/>.</summary>
public sealed class MultiLabelSoftMarginLoss : Loss
{
    /// <summary>Per-class weight [C] (buffer "weight").</summary>
    public Tensor? Weight { get; }
    /// <summary>How per-sample losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Creates the loss (torch.nn.MultiLabelSoftMarginLoss).</summary>
    public MultiLabelSoftMarginLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        Weight = RegisterBuffer("weight", weight);
        Reduction = reduction;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.MultilabelSoftMarginLoss(input, target, Weight, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}";
}
