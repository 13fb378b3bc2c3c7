using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Nn.Lora;

/// <summary>
/// One low-rank adapter (Hu et al. 2021, LoRA) for a Linear layer [out, in] or a 1×1 Conv2d [out, in, 1, 1]:
/// ΔW = (α/r)·B·A with A [r, in] drawn like a Linear weight (kaiming-uniform, a = √5) and B [out, r] zero, as PEFT
/// does, so the adapted layer starts equal to its base. Parameters "lora_A" and "lora_B".
/// </summary>
public sealed class LoraAdapter : Module
{
    /// <summary>Creates the adapter for a layer with <paramref name="inFeatures"/> inputs and <paramref name="outFeatures"/> outputs.</summary>
    public LoraAdapter(int inFeatures, int outFeatures, int rank, double alpha, Generator? generator = null)
    {
        if (rank <= 0) throw new ArgumentException($"LoraAdapter: rank must be positive, got {rank}");
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentException($"LoraAdapter: alpha must be a finite value > 0, got {alpha}");
        (Rank, Alpha) = (rank, alpha);
        A = RegisterParameter("lora_A", Torch.Empty([rank, inFeatures]));
        B = RegisterParameter("lora_B", Torch.Zeros([outFeatures, rank]));
        Init.KaimingUniform(A, a: Math.Sqrt(5), generator: generator);
    }

    /// <summary>The down-projection A [r, in].</summary>
    public Parameter A { get; }
    /// <summary>The up-projection B [out, r] (zero at the start).</summary>
    public Parameter B { get; }
    /// <summary>The rank r.</summary>
    public int Rank { get; }
    /// <summary>The scale numerator α (the update is scaled by α/r).</summary>
    public double Alpha { get; }
    /// <summary>α/r.</summary>
    public double Scaling => Alpha / Rank;

    /// <summary>The adapter's contribution to the layer's output for <paramref name="input"/> [*, in]: (α/r)·x·Aᵀ·Bᵀ.</summary>
    public Tensor Delta(Tensor input) => input.MatMul(A.T).MatMul(B.T) * Scaling;

    /// <summary>
    /// The adapter's contribution to a 1×1 <paramref name="conv"/>'s output for <paramref name="input"/> [N, in, H, W]:
    /// A as a 1×1 convolution with the layer's stride, padding, dilation and padding mode, then B as a plain 1×1
    /// convolution, times α/r, which is the layer with weight ΔW applied to the same input.
    /// </summary>
    public Tensor Delta(Tensor input, Conv2d conv)
    {
        var down = F.Conv2d(input, A.Reshape([Rank, A.Size(1), 1, 1]), null, conv.Stride, conv.Padding, conv.Dilation, 1, conv.PaddingMode);
        return F.Conv2d(down, B.Reshape([B.Size(0), Rank, 1, 1])) * Scaling;
    }

    /// <summary>ΔW = (α/r)·B·A, shape [out, in].</summary>
    public Tensor WeightDelta() => B.MatMul(A) * Scaling;

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"rank={Rank}, alpha={PyRepr.Float(Alpha)}";
}
