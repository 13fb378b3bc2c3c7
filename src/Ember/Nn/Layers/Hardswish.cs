using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>x·relu6(x + 3)/6 (torch.nn.Hardswish).</summary>
public sealed class Hardswish : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Hardswish(input);
}
