namespace Ember.Nn.Functional;

public static partial class F
{
    /// <summary>
    /// Looks up rows of <paramref name="weight"/> [num, dim] for integer <paramref name="input"/> of any shape → [*, dim]
    /// (torch.nn.functional.embedding). Rows looked up at <paramref name="paddingIdx"/> get no gradient. With
    /// <paramref name="maxNorm"/>, every looked-up row whose p-norm exceeds it is first rescaled in place (under no_grad)
    /// to norm maxNorm, as PyTorch's embedding_renorm_ does.
    /// </summary>
    public static Tensor Embedding(Tensor input, Tensor weight, int? paddingIdx = null, double? maxNorm = null, double normType = 2)
    {
        if (input.DType != DType.Int64)
            throw new ArgumentException($"embedding: expected indices of dtype torch.int64, got {input.DType.TorchName()} (input shape {input.Shape})");
        if (weight.Rank != 2) throw new ArgumentException($"embedding: expected a 2-D weight [num_embeddings, embedding_dim], got shape {weight.Shape}");
        int num = weight.Size(0);
        int? pad = paddingIdx is int p ? (p < 0 ? p + num : p) : null;
        var flat = input.Reshape(-1).Contiguous();
        var indices = flat.ToArray<long>();
        foreach (var i in indices)
            if (i < 0 || i >= num) throw new ArgumentException($"embedding: index {i} is out of range for {num} embeddings (input shape {input.Shape})");
        if (maxNorm is double mn) Renorm(weight, indices, mn, normType);
        var rows = weight.IndexSelect(0, flat);
        if (pad is int padIdx && Array.IndexOf(indices, (long)padIdx) >= 0)
        {
            // Same values, but the padding rows' gradient is cut, so weight[padding_idx] never moves.
            var isPad = flat.Eq(Torch.Scalar(padIdx, DType.Int64)).Unsqueeze(1);
            rows = Torch.Where(isPad, rows.Detach(), rows);
        }
        return rows.Reshape([.. input.Shape, weight.Size(1)]);
    }

    static void Renorm(Tensor weight, long[] indices, double maxNorm, double normType)
    {
        using (Torch.NoGrad())
            foreach (var i in indices.Distinct())
            {
                var row = weight.Narrow(0, (int)i, 1);
                double norm = row.Norm(normType).Item();
                if (norm > maxNorm) row.MulInPlace(maxNorm / (norm + 1e-7));
            }
    }
}
