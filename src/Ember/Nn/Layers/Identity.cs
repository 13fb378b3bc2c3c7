using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Returns its input unchanged (a placeholder when surgery removes a layer) (torch.nn.Identity).</summary>
public sealed class Identity : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input;
}
