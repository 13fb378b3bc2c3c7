using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Dropout that keeps SELU's zero mean and unit variance (torch.nn.AlphaDropout).</summary>
public sealed class AlphaDropout(double p = 0.5, Generator? generator = null) : Module
{
    /// <summary>Drop probability.</summary>
    public double P { get; } = Dropout.ValidP(p, "AlphaDropout");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AlphaDropout(input, P, Training, generator);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"p={PyRepr.Float(P)}, inplace=False";
}
