using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>softmax(−x) along Dim (torch.nn.Softmin).</summary>
public sealed class Softmin(int dim) : Module
{
    /// <summary>The dimension normalized over.</summary>
    public int Dim { get; } = dim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Softmin(input, Dim);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"dim={Dim}";
}
