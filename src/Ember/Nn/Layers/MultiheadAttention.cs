using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Multi-head attention (torch.nn.MultiheadAttention): q, k, v are projected by the packed in_proj_weight [3E, E]
/// (and in_proj_bias [3E]), split into numHeads heads of E/numHeads, attended with softmax(q·kᵀ/√d + mask)·v, joined
/// and projected by out_proj. Names match PyTorch's, so state dicts map one to one. Inputs are [L, N, E]
/// ([N, L, E] with batchFirst) or unbatched [L, E]. Key and value must have the query's embedding size.
/// </summary>
public sealed class MultiheadAttention : Module
{
    /// <summary>Model width E.</summary>
    public int EmbedDim { get; }
    /// <summary>Number of heads.</summary>
    public int NumHeads { get; }
    /// <summary>E / NumHeads.</summary>
    public int HeadDim { get; }
    /// <summary>Dropout on the attention weights (training only).</summary>
    public double DropoutP { get; }
    /// <summary>Whether inputs are [N, L, E] rather than [L, N, E].</summary>
    public bool BatchFirst { get; }
    /// <summary>Packed q/k/v projection, [3E, E].</summary>
    public Parameter InProjWeight { get; }
    /// <summary>Packed q/k/v bias, [3E], or null.</summary>
    public Parameter? InProjBias { get; }
    /// <summary>Output projection E → E.</summary>
    public Linear OutProj { get; }

    readonly Generator? generator;

    /// <summary>
    /// Creates the layer initialized as PyTorch does: xavier_uniform in_proj_weight, zero biases, out_proj.weight with
    /// Linear's default.
    /// </summary>
    public MultiheadAttention(int embedDim, int numHeads, double dropout = 0, bool bias = true, bool batchFirst = false, Generator? generator = null)
    {
        if (embedDim <= 0 || numHeads <= 0) throw new ArgumentException($"MultiheadAttention: embed_dim and num_heads must be positive, got {embedDim} and {numHeads}");
        if (embedDim % numHeads != 0) throw new ArgumentException($"MultiheadAttention: embed_dim ({embedDim}) must be divisible by num_heads ({numHeads})");
        (EmbedDim, NumHeads, HeadDim, DropoutP, BatchFirst) = (embedDim, numHeads, embedDim / numHeads, Dropout.ValidP(dropout, "MultiheadAttention"), batchFirst);
        this.generator = generator;
        InProjWeight = RegisterParameter("in_proj_weight", Torch.Empty([3 * embedDim, embedDim]));
        InProjBias = bias ? RegisterParameter("in_proj_bias", Torch.Empty([3 * embedDim])) : RegisterParameter("in_proj_bias", (Parameter?)null);
        OutProj = RegisterModule("out_proj", new Linear(embedDim, embedDim, bias, generator));
        Init.XavierUniform(InProjWeight, generator: generator);
        if (InProjBias is not null) Init.Zeros(InProjBias);
        if (OutProj.Bias is not null) Init.Zeros(OutProj.Bias);
    }

    /// <summary>Self-attention: Forward(x, x, x) without masks, returning only the output.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, input, input, needWeights: false).Output;

    /// <summary>
    /// Attends <paramref name="query"/> [L, N, E] to <paramref name="key"/>/<paramref name="value"/> [S, N, E]
    /// (batch first when <see cref="BatchFirst"/>). <paramref name="keyPaddingMask"/> [N, S]: true (or −∞ when float)
    /// marks keys to ignore. <paramref name="attnMask"/> [L, S] or [N·H, L, S]: true marks a disallowed pair, a float
    /// mask is added to the scores. <paramref name="isCausal"/> builds the causal mask when none is given. Returns the
    /// output and, with <paramref name="needWeights"/>, the weights [N, L, S] averaged over heads (or
    /// [N, H, L, S] when <paramref name="averageAttnWeights"/> is false).
    /// </summary>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null,
        bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true, bool isCausal = false)
    {
        if (query.Rank >= 1 && query.Size(-1) != EmbedDim)
            throw new ArgumentException($"{GetType().Name}: expected query with embedding size {EmbedDim}, got shape {query.Shape}");
        return F.MultiHeadAttentionForward(query, key, value, NumHeads, InProjWeight, InProjBias, OutProj.Weight, OutProj.Bias,
            keyPaddingMask, needWeights, attnMask, averageAttnWeights, isCausal, Training ? DropoutP : 0, BatchFirst, generator, OutProj.Call);
    }
}
