namespace Ember.Nn.Functional;

public static partial class F
{
    /// <summary>
    /// softmax(q·kᵀ·scale + mask)·v (torch.nn.functional.scaled_dot_product_attention). q: [*, L, E], k: [*, S, E],
    /// v: [*, S, Ev] → [*, L, Ev]; scale defaults to 1/√E. A bool <paramref name="attnMask"/> marks with true the
    /// positions that take part (false ones get −∞); a float mask is added to the scores. <paramref name="isCausal"/>
    /// masks position j &gt; i. Dropout with <paramref name="dropoutP"/> is applied to the weights whenever p &gt; 0.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? attnMask = null,
        double dropoutP = 0, bool isCausal = false, double? scale = null, Generator? generator = null)
        => Attention(query, key, value, attnMask, dropoutP, isCausal, scale, generator).Output;

    /// <summary>SDPA returning the attention weights too (MultiheadAttention's need_weights path).</summary>
    internal static (Tensor Output, Tensor Weights) Attention(Tensor query, Tensor key, Tensor value, Tensor? attnMask,
        double dropoutP, bool isCausal, double? scale, Generator? generator)
    {
        if (query.Rank < 2 || key.Rank < 2 || value.Rank < 2)
            throw new ArgumentException($"scaled_dot_product_attention: expected query, key and value of at least 2 dimensions, got {query.Shape}, {key.Shape}, {value.Shape}");
        if (query.Size(-1) != key.Size(-1) || key.Size(-2) != value.Size(-2))
            throw new ArgumentException($"scaled_dot_product_attention: expected query [*, L, E], key [*, S, E], value [*, S, Ev], got {query.Shape}, {key.Shape}, {value.Shape}");
        if (isCausal && attnMask is not null)
            throw new ArgumentException("scaled_dot_product_attention: an explicit attn_mask should not be set when is_causal=true");
        int l = query.Size(-2), s = key.Size(-2);
        double sc = scale ?? 1 / Math.Sqrt(query.Size(-1));
        // the scale rides in the GEMM's alpha: no pass over the scores forward, none over their gradient backward
        var scores = Ops.LinalgOps.MatMul(query, key.Transpose(-2, -1), sc);
        if (isCausal) scores = scores.MaskedFill(CausalMask(l, s).LogicalNot(), double.NegativeInfinity);
        else if (attnMask is not null)
            scores = attnMask.DType == DType.Bool
                ? scores.MaskedFill(attnMask.LogicalNot(), double.NegativeInfinity)
                : scores + attnMask.To(scores.DType);
        var weights = scores.Softmax(-1);
        if (dropoutP > 0) weights = Dropout(weights, dropoutP, training: true, generator);
        // laid out as the value (heads cut from [N, L, E] lie as [N, L, H, d]), so that joining the heads is a view
        return (Ops.LinalgOps.MatMul(weights, value, 1, layoutOf: value), weights);
    }

    /// <summary>[L, S] bool, true on and below the diagonal: query i may attend to keys 0..i.</summary>
    internal static Tensor CausalMask(int l, int s) => Torch.Ones([l, s]).Tril() > 0.0;

    /// <summary>
    /// Multi-head attention with packed projections (torch.nn.functional.multi_head_attention_forward, without bias_k/v
    /// and zero attention). q, k, v are projected by the three E-row blocks of <paramref name="inProjWeight"/> [3E, E],
    /// split into <paramref name="numHeads"/> heads, attended, joined and projected by the out-projection.
    /// Inputs are [L, N, E] ([N, L, E] with <paramref name="batchFirst"/>) or unbatched [L, E]. A bool
    /// <paramref name="attnMask"/> ([L, S] or [N·H, L, S]) or <paramref name="keyPaddingMask"/> ([N, S]) marks with
    /// true what may NOT be attended (the opposite of <see cref="ScaledDotProductAttention"/>); float masks are added.
    /// Weights are [N, L, S] averaged over heads, or [N, H, L, S].
    /// </summary>
    public static (Tensor Output, Tensor? Weights) MultiHeadAttentionForward(Tensor query, Tensor key, Tensor value, int numHeads,
        Tensor inProjWeight, Tensor? inProjBias, Tensor outProjWeight, Tensor? outProjBias, Tensor? keyPaddingMask = null,
        bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true, bool isCausal = false,
        double dropoutP = 0, bool batchFirst = false, Generator? generator = null, Func<Tensor, Tensor>? outProjection = null)
    {
        const string name = "multi_head_attention_forward";
        bool batched = query.Rank == 3;
        if (!(query.Rank == 3 || query.Rank == 2) || key.Rank != query.Rank || value.Rank != query.Rank)
            throw new ArgumentException($"{name}: expected query, key and value all 3-D (batched) or 2-D (unbatched), got {query.Shape}, {key.Shape}, {value.Shape}");
        int e = inProjWeight.Size(1);
        if (inProjWeight.Rank != 2 || inProjWeight.Size(0) != 3 * e)
            throw new ArgumentException($"{name}: expected in_proj_weight of shape [3E, E], got {inProjWeight.Shape}");
        if (query.Size(-1) != e || key.Size(-1) != e || value.Size(-1) != e)
            throw new ArgumentException($"{name}: expected query, key and value with embedding size {e}, got {query.Shape}, {key.Shape}, {value.Shape}");
        if (e % numHeads != 0) throw new ArgumentException($"{name}: embed_dim ({e}) must be divisible by num_heads ({numHeads})");
        // Batch-first inputs stay [N, L, E] (PyTorch transposes them to [L, N, E], which would cost a copy of each input
        // for its projection and leave the output a transposed view); the heads are cut as views either way.
        bool nFirst = batched && batchFirst;
        if (!batched)
        {
            query = query.Unsqueeze(1); key = key.Unsqueeze(1); value = value.Unsqueeze(1);
            keyPaddingMask = keyPaddingMask?.Unsqueeze(0);
        }
        int seqDim = nFirst ? 1 : 0, batchDim = 1 - seqDim;
        int l = query.Size(seqDim), n = query.Size(batchDim), s = key.Size(seqDim), h = numHeads, d = e / numHeads;
        if (value.Size(seqDim) != s || key.Size(batchDim) != n || value.Size(batchDim) != n)
            throw new ArgumentException($"{name}: key and value must have the same length and batch as the query, got query {query.Shape}, key {key.Shape}, value {value.Shape} ({(nFirst ? "[N, L, E]" : "[L, N, E]")} layout)");

        Tensor? Part(Tensor? t, int i) => t?.Narrow(0, i * e, e);
        var q = Linear(query, Part(inProjWeight, 0)!, Part(inProjBias, 0));
        var k = Linear(key, Part(inProjWeight, 1)!, Part(inProjBias, 1));
        var v = Linear(value, Part(inProjWeight, 2)!, Part(inProjBias, 2));
        // [L, N, E] or [N, L, E] → [N, H, L, d], a view
        q = Heads(q, nFirst, h, d);
        k = Heads(k, nFirst, h, d);
        v = Heads(v, nFirst, h, d);

        var mask = CombinedAttentionMask(attnMask, keyPaddingMask, isCausal, l, s, n, h, q.DType);
        var (o, weights) = Attention(q, k, v, mask, dropoutP, false, null, generator);
        // [N, H, L, d] → [L, N, E] or [N, L, E]
        var merged = nFirst ? o.Permute(0, 2, 1, 3).Reshape(n, l, e) : o.Permute(2, 0, 1, 3).Reshape(l, n, e);
        // a module passes its out_proj's Call so that forward hooks (the profiler's) see the projection
        var output = outProjection is null ? Linear(merged, outProjWeight, outProjBias) : outProjection(merged);
        if (!batched) output = output.Squeeze(1);
        if (!needWeights) return (output, null);
        var w = averageAttnWeights ? weights.Mean(1) : weights;
        if (!batched) w = w.Squeeze(0);
        return (output, w);
    }

    /// <summary>A projection [L, N, E] (or [N, L, E] when <paramref name="batchFirst"/>) viewed as heads [N, H, L, d].</summary>
    static Tensor Heads(Tensor x, bool batchFirst, int h, int d) =>
        batchFirst ? x.Reshape(x.Size(0), x.Size(1), h, d).Permute(0, 2, 1, 3) : x.Reshape(x.Size(0), x.Size(1), h, d).Permute(1, 2, 0, 3);

    /// <summary>Float additive mask broadcastable to [N, H, L, S], or null.</summary>
    static Tensor? CombinedAttentionMask(Tensor? attnMask, Tensor? keyPaddingMask, bool isCausal, int l, int s, int n, int h, DType dtype)
    {
        const string name = "multi_head_attention_forward";
        Tensor? mask = null;
        if (attnMask is null && isCausal) attnMask = CausalMask(l, s).LogicalNot();
        if (attnMask is not null)
        {
            var m = ToAdditiveMask(attnMask, dtype);
            if (m.Rank == 2)
            {
                if (m.Size(0) != l || m.Size(1) != s) throw new ArgumentException($"{name}: the 2-D attn_mask should have shape [{l}, {s}], got {m.Shape}");
                mask = m;
            }
            else if (m.Rank == 3)
            {
                if (m.Size(0) != n * h || m.Size(1) != l || m.Size(2) != s)
                    throw new ArgumentException($"{name}: the 3-D attn_mask should have shape [{n * h}, {l}, {s}], got {m.Shape}");
                mask = m.Reshape(n, h, l, s);
            }
            else throw new ArgumentException($"{name}: attn_mask must be 2-D or 3-D, got shape {m.Shape}");
        }
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.Rank != 2 || keyPaddingMask.Size(0) != n || keyPaddingMask.Size(1) != s)
                throw new ArgumentException($"{name}: expected key_padding_mask of shape [{n}, {s}], got {keyPaddingMask.Shape}");
            var kp = ToAdditiveMask(keyPaddingMask, dtype).Reshape(n, 1, 1, s);
            mask = mask is null ? kp : mask + kp;
        }
        return mask;
    }

    /// <summary>True → −∞, false → 0; float masks pass through (PyTorch's _canonical_mask).</summary>
    static Tensor ToAdditiveMask(Tensor mask, DType dtype)
        => mask.DType == DType.Bool ? Torch.Zeros(mask.Shape.ToArray(), dtype).MaskedFill(mask, double.NegativeInfinity) : mask.To(dtype);
}
