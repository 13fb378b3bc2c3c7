using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>max(0, x) + min(0, α(e^(x/α) − 1)) (torch.nn.CELU).</summary>
public sealed class CELU(double alpha = 1.0) : Module
{
    /// <summary>The negative saturation value.</summary>
    public double Alpha { get; } = alpha;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Celu(input, Alpha);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"alpha={PyRepr.Float(Alpha)}";
}
