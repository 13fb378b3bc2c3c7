using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Uniform dropout (Uout): multiplicative 1 + U(−β, β) noise in training (see <see cref="F.UniformDropout"/>).</summary>
public sealed class UniformDropout(double beta = 0.1, Generator? generator = null) : Module
{
    /// <summary>Half-width β of the noise.</summary>
    public double Beta { get; } = beta is >= 0 and <= 1 ? beta : throw new ArgumentException($"UniformDropout: beta must be in [0, 1], got {beta}");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.UniformDropout(input, Beta, Training, generator);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"beta={PyRepr.Float(Beta)}";
}
