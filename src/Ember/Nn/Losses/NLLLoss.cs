using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>Negative log-likelihood of log-probabilities (torch.nn.NLLLoss); see <see cref="F.NllLoss"/>.</summary>
public sealed class NLLLoss : Loss
{
    /// <summary>How per-sample losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Per-class weight, shape [C] (buffer "weight").</summary>
    public Tensor? Weight { get; }

    /// <summary>A target value that contributes nothing.</summary>
    public int IgnoreIndex { get; }

    /// <summary>Creates the loss (torch.nn.NLLLoss).</summary>
    public NLLLoss(Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        Weight = RegisterBuffer("weight", weight);
        IgnoreIndex = ignoreIndex;
        Reduction = reduction;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.NllLoss(input, target, Weight, IgnoreIndex, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}, ignore_index={IgnoreIndex}";
}
