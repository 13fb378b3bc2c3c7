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
        string name = GetType().Name;
        bool batched = query.Rank == 3;
        if (!(query.Rank == 3 || query.Rank == 2) || key.Rank != query.Rank || value.Rank != query.Rank)
            throw new ArgumentException($"{name}: expected query, key and value all 3-D (batched) or 2-D (unbatched), got {query.Shape}, {key.Shape}, {value.Shape}");
        if (query.Size(-1) != EmbedDim || key.Size(-1) != EmbedDim || value.Size(-1) != EmbedDim)
            throw new ArgumentException($"{name}: expected query, key and value with embedding size {EmbedDim}, got {query.Shape}, {key.Shape}, {value.Shape}");
        // Work in [L, N, E] like PyTorch's multi_head_attention_forward.
        if (batched && BatchFirst) { query = query.Transpose(0, 1); key = key.Transpose(0, 1); value = value.Transpose(0, 1); }
        if (!batched)
        {
            query = query.Unsqueeze(1); key = key.Unsqueeze(1); value = value.Unsqueeze(1);
            keyPaddingMask = keyPaddingMask?.Unsqueeze(0);
        }
        int l = query.Size(0), n = query.Size(1), s = key.Size(0), h = NumHeads, e = EmbedDim, d = HeadDim;
        if (key.Size(0) != value.Size(0) || key.Size(1) != n || value.Size(1) != n)
            throw new ArgumentException($"{name}: key and value must have the same length and batch as the query, got query {query.Shape}, key {key.Shape}, value {value.Shape} ([L, N, E] layout)");

        var wq = InProjWeight.Narrow(0, 0, e); var wk = InProjWeight.Narrow(0, e, e); var wv = InProjWeight.Narrow(0, 2 * e, e);
        Tensor? bq = null, bk = null, bv = null;
        if (InProjBias is not null) { bq = InProjBias.Narrow(0, 0, e); bk = InProjBias.Narrow(0, e, e); bv = InProjBias.Narrow(0, 2 * e, e); }
        var q = F.Linear(query, wq, bq); var k = F.Linear(key, wk, bk); var v = F.Linear(value, wv, bv);
        // [L, N, E] → [N, H, L, d]
        q = q.Reshape(l, n, h, d).Permute(1, 2, 0, 3);
        k = k.Reshape(s, n, h, d).Permute(1, 2, 0, 3);
        v = v.Reshape(s, n, h, d).Permute(1, 2, 0, 3);

        var mask = CombinedMask(attnMask, keyPaddingMask, isCausal, l, s, n, q.DType);
        var (o, weights) = F.Attention(q, k, v, mask, Training ? DropoutP : 0, false, null, generator);
        // [N, H, L, d] → [L, N, E]
        var output = OutProj.Call(o.Permute(2, 0, 1, 3).Reshape(l, n, e));
        if (batched && BatchFirst) output = output.Transpose(0, 1);
        if (!batched) output = output.Squeeze(1);
        if (!needWeights) return (output, null);
        var w = averageAttnWeights ? weights.Mean(1) : weights;
        if (!batched) w = w.Squeeze(0);
        return (output, w);
    }

    /// <summary>Float additive mask broadcastable to [N, H, L, S], or null.</summary>
    Tensor? CombinedMask(Tensor? attnMask, Tensor? keyPaddingMask, bool isCausal, int l, int s, int n, DType dtype)
    {
        string name = GetType().Name;
        Tensor? mask = null;
        if (attnMask is null && isCausal) attnMask = F.CausalMask(l, s).LogicalNot();
        if (attnMask is not null)
        {
            var m = ToAdditive(attnMask, dtype);
            if (m.Rank == 2)
            {
                if (m.Size(0) != l || m.Size(1) != s) throw new ArgumentException($"{name}: the 2-D attn_mask should have shape [{l}, {s}], got {m.Shape}");
                mask = m;
            }
            else if (m.Rank == 3)
            {
                if (m.Size(0) != n * NumHeads || m.Size(1) != l || m.Size(2) != s)
                    throw new ArgumentException($"{name}: the 3-D attn_mask should have shape [{n * NumHeads}, {l}, {s}], got {m.Shape}");
                mask = m.Reshape(n, NumHeads, l, s);
            }
            else throw new ArgumentException($"{name}: attn_mask must be 2-D or 3-D, got shape {m.Shape}");
        }
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.Rank != 2 || keyPaddingMask.Size(0) != n || keyPaddingMask.Size(1) != s)
                throw new ArgumentException($"{name}: expected key_padding_mask of shape [{n}, {s}], got {keyPaddingMask.Shape}");
            var kp = ToAdditive(keyPaddingMask, dtype).Reshape(n, 1, 1, s);
            mask = mask is null ? kp : mask + kp;
        }
        return mask;
    }

    /// <summary>True → −∞, false → 0; float masks pass through (PyTorch's _canonical_mask).</summary>
    static Tensor ToAdditive(Tensor mask, DType dtype)
        => mask.DType == DType.Bool ? Torch.Zeros(mask.Shape.ToArray(), dtype).MaskedFill(mask, double.NegativeInfinity) : mask.To(dtype);
}
