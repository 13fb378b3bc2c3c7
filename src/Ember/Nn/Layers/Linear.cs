using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// y = x·Wᵀ + b (torch.nn.Linear). x: [*, in] → [*, out]. Initialized like PyTorch's reset_parameters:
/// W ~ kaiming_uniform(a = √5) = U(−1/√in, 1/√in) and b ~ U(−1/√in, 1/√in).
/// </summary>
public sealed class Linear : Module
{
    /// <summary>Weight, shape [out, in].</summary>
    public Parameter Weight { get; }
    /// <summary>Bias, shape [out], or null.</summary>
    public Parameter? Bias { get; }
    /// <summary>Input features.</summary>
    public int InFeatures { get; }
    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>Creates the layer, drawing the initial values from <paramref name="generator"/> (or the global default).</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Generator? generator = null)
    {
        if (inFeatures < 0 || outFeatures < 0) throw new ArgumentException($"Linear: feature counts must be non-negative, got in_features={inFeatures}, out_features={outFeatures}");
        (InFeatures, OutFeatures) = (inFeatures, outFeatures);
        Weight = RegisterParameter("weight", Torch.Empty([outFeatures, inFeatures]));
        Bias = bias ? RegisterParameter("bias", Torch.Empty([outFeatures])) : RegisterParameter("bias", (Parameter?)null);
        ResetParameters(generator);
    }

    /// <summary>Re-draws the weights as the constructor does.</summary>
    public void ResetParameters(Generator? generator = null)
    {
        if (Weight.NumEl == 0) return;
        Init.KaimingUniform(Weight, a: Math.Sqrt(5), generator: generator);
        if (Bias is not null)
        {
            double bound = InFeatures > 0 ? 1 / Math.Sqrt(InFeatures) : 0;
            Init.Uniform(Bias, -bound, bound, generator);
        }
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank == 0 || input.Size(-1) != InFeatures)
            throw new ArgumentException($"Linear: expected input with {InFeatures} features in the last dimension, got {(input.Rank == 0 ? 0 : input.Size(-1))} (input shape {input.Shape})");
        return F.Linear(input, Weight, Bias);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={PyRepr.Bool(Bias is not null)}";
}
