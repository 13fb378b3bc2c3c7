using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Zeroes whole channels x[n, c] with probability p in training, scaling the rest by 1/(1 − p) (torch.nn.Dropout2d).
/// </summary>
public sealed class Dropout2d(double p = 0.5, Generator? generator = null) : Module
{
    /// <summary>Drop probability per channel.</summary>
    public double P { get; } = Dropout.ValidP(p, "Dropout2d");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Dropout2d(input, P, Training, generator);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"p={PyRepr.Float(P)}, inplace=False";
}
