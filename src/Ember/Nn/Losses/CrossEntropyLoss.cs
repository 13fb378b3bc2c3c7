using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>
/// Cross-entropy on raw logits (torch.nn.CrossEntropyLoss): int64 class-index targets or float class-probability
/// targets, class weights, ignoreIndex and label smoothing, for [C], [N, C] and [N, C, d1, …] inputs.
/// See <see cref="F.CrossEntropy"/> for the exact formulas.
/// </summary>
public sealed class CrossEntropyLoss : Loss
{
    /// <summary>How per-sample losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Per-class weight, shape [C] (buffer "weight").</summary>
    public Tensor? Weight { get; }

    /// <summary>A class-index target value that contributes nothing (class-index targets only).</summary>
    public int IgnoreIndex { get; }

    /// <summary>ε in [0, 1]: the target becomes (1 − ε)·target + ε/C.</summary>
    public double LabelSmoothing { get; }

    /// <summary>Creates the loss (torch.nn.CrossEntropyLoss).</summary>
    public CrossEntropyLoss(Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean, double labelSmoothing = 0)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentException($"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got {labelSmoothing}");
        Weight = RegisterBuffer("weight", weight);
        IgnoreIndex = ignoreIndex;
        Reduction = reduction;
        LabelSmoothing = labelSmoothing;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.CrossEntropy(input, target, Weight, IgnoreIndex, Reduction, LabelSmoothing);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}, ignore_index={IgnoreIndex}, label_smoothing={LabelSmoothing}";
}
