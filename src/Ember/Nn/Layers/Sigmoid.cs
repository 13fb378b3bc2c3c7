using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>1/(1 + e⁻ˣ) (torch.nn.Sigmoid).</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Sigmoid(input);
}
