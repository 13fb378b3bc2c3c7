using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>max(0, x) (torch.nn.ReLU); with <paramref name="inplace"/> the input is overwritten to save memory.</summary>
public sealed class ReLU(bool inplace = false) : Module
{
    /// <summary>Whether the input is overwritten.</summary>
    public bool Inplace { get; } = inplace;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Relu(input, Inplace);

    /// <inheritdoc/>
    protected override string ExtraRepr() => Inplace ? "inplace=True" : "";
}
