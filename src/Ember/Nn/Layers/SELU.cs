using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>scale·elu(x, α) with the self-normalizing constants (torch.nn.SELU).</summary>
public sealed class SELU : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Selu(input);
}
