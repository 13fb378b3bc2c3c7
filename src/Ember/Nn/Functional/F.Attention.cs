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
        var scores = query.MatMul(key.Transpose(-2, -1)) * sc;
        if (isCausal) scores = scores.MaskedFill(CausalMask(l, s).LogicalNot(), double.NegativeInfinity);
        else if (attnMask is not null)
            scores = attnMask.DType == DType.Bool
                ? scores.MaskedFill(attnMask.LogicalNot(), double.NegativeInfinity)
                : scores + attnMask.To(scores.DType);
        var weights = scores.Softmax(-1);
        if (dropoutP > 0) weights = Dropout(weights, dropoutP, training: true, generator);
        return (weights.MatMul(value), weights);
    }

    /// <summary>[L, S] bool, true on and below the diagonal: query i may attend to keys 0..i.</summary>
    internal static Tensor CausalMask(int l, int s) => Torch.Ones([l, s]).Tril() > 0.0;
}
