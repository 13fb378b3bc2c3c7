using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>x·Φ(x), exact or with the tanh approximation (torch.nn.GELU).</summary>
public sealed class GELU(GeluApproximate approximate = GeluApproximate.None) : Module
{
    /// <summary>Exact or tanh form.</summary>
    public GeluApproximate Approximate { get; } = approximate;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Gelu(input, Approximate);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"approximate='{(Approximate == GeluApproximate.Tanh ? "tanh" : "none")}'";
}
