using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>min(max(0, x), 6) (torch.nn.ReLU6).</summary>
public sealed class ReLU6 : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Relu6(input);
}
