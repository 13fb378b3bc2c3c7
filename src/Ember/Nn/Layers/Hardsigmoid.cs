using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>relu6(x + 3)/6 (torch.nn.Hardsigmoid).</summary>
public sealed class Hardsigmoid : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Hardsigmoid(input);
}
