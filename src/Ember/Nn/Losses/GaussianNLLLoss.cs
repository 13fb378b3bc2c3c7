using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>½·(log max(var, eps) + (x − y)²/max(var, eps)) (torch.nn.GaussianNLLLoss); see <see cref="F.GaussianNllLoss"/>.</summary>
public sealed class GaussianNLLLoss : Module
{
    /// <summary>Whether the constant ½·log 2π is included.</summary>
    public bool Full { get; }
    /// <summary>The lower clamp of the variance.</summary>
    public double Eps { get; }
    /// <summary>How per-element losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Creates the loss (torch.nn.GaussianNLLLoss).</summary>
    public GaussianNLLLoss(bool full = false, double eps = 1e-6, Reduction reduction = Reduction.Mean)
    {
        Full = full; Eps = eps; Reduction = reduction;
    }

    /// <summary>The loss of the target under Gaussians with the given means (input) and variances.</summary>
    public Tensor Forward(Tensor input, Tensor target, Tensor variance) => F.GaussianNllLoss(input, target, variance, Full, Eps, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"full={Full}, eps={Eps}, reduction={Reduction}";
}
