using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Gaussian dropout: multiplicative N(1, p/(1 − p)) noise in training (see <see cref="F.GaussianDropout"/>).</summary>
public sealed class GaussianDropout(double p = 0.5, Generator? generator = null) : Module
{
    /// <summary>The drop probability whose dropout variance the noise matches (p &lt; 1).</summary>
    public double P { get; } = p < 1 ? Dropout.ValidP(p, "GaussianDropout") : throw new ArgumentException($"GaussianDropout: p must be below 1, got {p}");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.GaussianDropout(input, P, Training, generator);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"p={PyRepr.Float(P)}";
}
