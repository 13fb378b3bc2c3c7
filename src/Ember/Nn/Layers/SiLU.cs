using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>x·σ(x), also called Swish (torch.nn.SiLU).</summary>
public sealed class SiLU : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Silu(input);
}
