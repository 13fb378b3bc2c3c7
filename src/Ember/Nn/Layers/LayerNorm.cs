using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Layer normalization over the trailing <c>normalizedShape</c> dimensions (torch.nn.LayerNorm); weight starts at 1 and
/// bias at 0, both of shape normalizedShape.
/// </summary>
public sealed class LayerNorm : Module
{
    /// <summary>The trailing shape normalized over.</summary>
    public IReadOnlyList<int> NormalizedShape { get; }
    /// <summary>Added to the variance.</summary>
    public double Eps { get; }
    /// <summary>Whether a learned weight (and bias) exist.</summary>
    public bool ElementwiseAffine { get; }
    /// <summary>Scale, or null.</summary>
    public Parameter? Weight { get; }
    /// <summary>Shift, or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Normalizes over the last dimension of size <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, bool bias = true)
        : this([normalizedShape], eps, elementwiseAffine, bias) { }

    /// <summary>Normalizes over the trailing dimensions <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, bool bias = true)
    {
        if (normalizedShape.Length == 0) throw new ArgumentException("LayerNorm: normalized_shape must have at least one dimension");
        NormalizedShape = (int[])normalizedShape.Clone();
        (Eps, ElementwiseAffine) = (eps, elementwiseAffine);
        Weight = elementwiseAffine ? RegisterParameter("weight", Torch.Ones(normalizedShape)) : RegisterParameter("weight", (Parameter?)null);
        Bias = elementwiseAffine && bias ? RegisterParameter("bias", Torch.Zeros(normalizedShape)) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        int k = NormalizedShape.Count;
        if (input.Rank < k || !input.Shape.ToArray()[^k..].SequenceEqual(NormalizedShape))
            throw new ArgumentException($"LayerNorm: expected input with trailing shape {new Shape([.. NormalizedShape])}, got input shape {input.Shape}");
        return F.LayerNorm(input, [.. NormalizedShape], Weight, Bias, Eps);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{PyRepr.Tuple(NormalizedShape)}, eps={PyRepr.Float(Eps)}, elementwise_affine={PyRepr.Bool(ElementwiseAffine)}";
}
