using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Zeroes elements with probability p in training and scales the rest by 1/(1 − p); the identity in evaluation
/// (torch.nn.Dropout). Masks come from <paramref name="generator"/>, or the global default.
/// </summary>
public sealed class Dropout(double p = 0.5, Generator? generator = null) : Module
{
    /// <summary>Drop probability.</summary>
    public double P { get; } = ValidP(p, "Dropout");

    internal static double ValidP(double p, string module)
    {
        if (p < 0 || p > 1 || double.IsNaN(p)) throw new ArgumentException($"{module}: dropout probability has to be between 0 and 1, but got {p}");
        return p;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Dropout(input, P, Training, generator);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"p={PyRepr.Float(P)}, inplace=False";
}
