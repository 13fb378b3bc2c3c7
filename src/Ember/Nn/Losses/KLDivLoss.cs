using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>
/// Kullback–Leibler divergence with log-probability inputs (torch.nn.KLDivLoss). Use
/// <see cref="Reduction.BatchMean"/> for the true KL per sample; Mean (the default, as in PyTorch) divides by
/// the element count. See <see cref="F.KlDiv"/>.
/// </summary>
public sealed class KLDivLoss : Loss
{
    /// <summary>How per-element values are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Whether the target is given as log-probabilities.</summary>
    public bool LogTarget { get; }

    /// <summary>Creates the loss (torch.nn.KLDivLoss).</summary>
    public KLDivLoss(Reduction reduction = Reduction.Mean, bool logTarget = false)
    {
        Reduction = reduction;
        LogTarget = logTarget;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.KlDiv(input, target, Reduction, LogTarget);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"reduction={Reduction}, log_target={LogTarget}";
}
