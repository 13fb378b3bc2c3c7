using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>x/(1 + |x|) (torch.nn.Softsign).</summary>
public sealed class Softsign : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Softsign(input);
}
