using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>tanh(x) (torch.nn.Tanh).</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Tanh(input);
}
