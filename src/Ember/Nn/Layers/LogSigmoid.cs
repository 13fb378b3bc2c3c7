using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>log σ(x) (torch.nn.LogSigmoid).</summary>
public sealed class LogSigmoid : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.LogSigmoid(input);
}
