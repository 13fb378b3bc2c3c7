namespace Ember.Nn.Layers;

/// <summary>
/// A learned position table added to the input (BERT / ViT style): weight [maxLen, d] initialized N(0, 1) like
/// nn.Embedding; inputs are [N, L, d] (batchFirst, the default) or [L, N, d], and position p gets weight[p].
/// </summary>
public sealed class LearnedPositionalEmbedding : Module
{
    /// <summary>The table [maxLen, d].</summary>
    public Parameter Weight { get; }
    /// <summary>Longest sequence supported.</summary>
    public int MaxLen { get; }
    /// <summary>Model width d.</summary>
    public int DModel { get; }
    /// <summary>Whether inputs are [N, L, d].</summary>
    public bool BatchFirst { get; }

    /// <summary>Creates the table, drawn from <paramref name="generator"/> (or the global default).</summary>
    public LearnedPositionalEmbedding(int maxLen, int dModel, bool batchFirst = true, Generator? generator = null)
    {
        if (dModel <= 0 || maxLen <= 0) throw new ArgumentException($"LearnedPositionalEmbedding: max_len and d_model must be positive, got {maxLen} and {dModel}");
        (MaxLen, DModel, BatchFirst) = (maxLen, dModel, batchFirst);
        Weight = RegisterParameter("weight", Torch.Empty([maxLen, dModel]));
        Init.Normal(Weight, 0, 1, generator);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 3 || input.Size(2) != DModel)
            throw new ArgumentException($"LearnedPositionalEmbedding: expected a 3-D input with {DModel} features, got shape {input.Shape}");
        int len = input.Size(BatchFirst ? 1 : 0);
        if (len > MaxLen) throw new ArgumentException($"LearnedPositionalEmbedding: sequence length {len} exceeds max_len {MaxLen}");
        var pos = Weight.Narrow(0, 0, len);
        return input + (BatchFirst ? pos.Unsqueeze(0) : pos.Unsqueeze(1));
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{MaxLen}, {DModel}";
}
