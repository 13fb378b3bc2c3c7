using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Randomized leaky ReLU (torch.nn.RReLU): in training each negative element gets a slope drawn from U(lower, upper)
/// (from <paramref name="generator"/>, or the global default); in evaluation the slope is (lower + upper)/2.
/// </summary>
public sealed class RReLU(double lower = 1.0 / 8, double upper = 1.0 / 3, Generator? generator = null) : Module
{
    /// <summary>Lower bound of the slope.</summary>
    public double Lower { get; } = lower;
    /// <summary>Upper bound of the slope.</summary>
    public double Upper { get; } = upper;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Rrelu(input, Lower, Upper, Training, generator);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"lower={PyRepr.Float(Lower)}, upper={PyRepr.Float(Upper)}";
}
