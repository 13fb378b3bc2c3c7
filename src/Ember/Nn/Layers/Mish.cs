using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>x·tanh(softplus(x)) (torch.nn.Mish).</summary>
public sealed class Mish : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Mish(input);
}
