using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>x for x &gt; 0, α(eˣ − 1) otherwise (torch.nn.ELU).</summary>
public sealed class ELU(double alpha = 1.0) : Module
{
    /// <summary>The negative saturation value.</summary>
    public double Alpha { get; } = alpha;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Elu(input, Alpha);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"alpha={PyRepr.Float(Alpha)}";
}
