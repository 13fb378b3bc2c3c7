using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>Poisson negative log-likelihood (torch.nn.PoissonNLLLoss); see <see cref="F.PoissonNllLoss"/>.</summary>
public sealed class PoissonNLLLoss : Loss
{
    /// <summary>Whether the input is the log of the rate (the default) rather than the rate.</summary>
    public bool LogInput { get; }
    /// <summary>Whether Stirling's approximation term is added.</summary>
    public bool Full { get; }
    /// <summary>Added to the rate before its log when <see cref="LogInput"/> is false.</summary>
    public double Eps { get; }
    /// <summary>How per-element losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Creates the loss (torch.nn.PoissonNLLLoss).</summary>
    public PoissonNLLLoss(bool logInput = true, bool full = false, double eps = 1e-8, Reduction reduction = Reduction.Mean)
    {
        LogInput = logInput; Full = full; Eps = eps; Reduction = reduction;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.PoissonNllLoss(input, target, LogInput, Full, Eps, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"log_input={LogInput}, full={Full}, eps={Eps}, reduction={Reduction}";
}
