using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>log(1 + e^(βx))/β, linear where βx &gt; threshold (torch.nn.Softplus).</summary>
public sealed class Softplus(double beta = 1, double threshold = 20) : Module
{
    /// <summary>Sharpness β.</summary>
    public double Beta { get; } = beta;
    /// <summary>Above this βx the function is the identity (for numerical stability).</summary>
    public double Threshold { get; } = threshold;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Softplus(input, Beta, Threshold);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"beta={PyRepr.Float(Beta)}, threshold={PyRepr.Float(Threshold)}";
}
