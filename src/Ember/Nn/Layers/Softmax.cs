using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>exp(xᵢ)/Σⱼexp(xⱼ) along Dim (torch.nn.Softmax).</summary>
public sealed class Softmax(int dim) : Module
{
    /// <summary>The dimension normalized over.</summary>
    public int Dim { get; } = dim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Softmax(input, Dim);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"dim={Dim}";
}
