using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>
/// Binary cross-entropy on logits in the stable log-sum-exp form (torch.nn.BCEWithLogitsLoss); posWeight (shape [C])
/// weighs the positive term of each class. See <see cref="F.BinaryCrossEntropyWithLogits"/>.
/// </summary>
public sealed class BCEWithLogitsLoss : Loss
{
    /// <summary>How per-element losses are reduced (FocalLoss sets it to None on the loss it wraps).</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Per-element rescaling weight, broadcast against the input (buffer "weight").</summary>
    public Tensor? Weight { get; }

    /// <summary>Weight of positive examples, broadcast over the class dim (buffer "pos_weight").</summary>
    public Tensor? PosWeight { get; }

    /// <summary>Creates the loss (torch.nn.BCEWithLogitsLoss).</summary>
    public BCEWithLogitsLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean, Tensor? posWeight = null)
    {
        Weight = RegisterBuffer("weight", weight);
        Reduction = reduction;
        PosWeight = RegisterBuffer("pos_weight", posWeight);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.BinaryCrossEntropyWithLogits(input, target, Weight, PosWeight, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}";
}
