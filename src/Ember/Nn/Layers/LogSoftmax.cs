using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>log softmax along Dim (torch.nn.LogSoftmax).</summary>
public sealed class LogSoftmax(int dim) : Module
{
    /// <summary>The dimension normalized over.</summary>
    public int Dim { get; } = dim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.LogSoftmax(input, Dim);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"dim={Dim}";
}
