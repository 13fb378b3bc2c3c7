using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// A lookup table of <c>numEmbeddings</c> vectors of size <c>embeddingDim</c> (torch.nn.Embedding). Initialized N(0, 1)
/// with the padding row zeroed; the padding row receives no gradient. With maxNorm, looked-up rows are renormalized
/// in place.
/// </summary>
public sealed class Embedding : Module
{
    /// <summary>The table, shape [numEmbeddings, embeddingDim].</summary>
    public Parameter Weight { get; }
    /// <summary>Number of rows.</summary>
    public int NumEmbeddings { get; }
    /// <summary>Row size.</summary>
    public int EmbeddingDim { get; }
    /// <summary>Row that stays fixed (normalized to non-negative), or null.</summary>
    public int? PaddingIdx { get; }
    /// <summary>Maximum row norm, or null.</summary>
    public double? MaxNorm { get; }
    /// <summary>The p of the max-norm renormalization.</summary>
    public double NormType { get; }

    /// <summary>Creates the table with N(0, 1) rows drawn from <paramref name="generator"/> (or the global default).</summary>
    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx = null, double? maxNorm = null, double normType = 2, Generator? generator = null)
        : this(numEmbeddings, embeddingDim, paddingIdx, maxNorm, normType, null, generator) { }

    Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx, double? maxNorm, double normType, Tensor? weight, Generator? generator)
    {
        if (paddingIdx is int p && (p >= numEmbeddings || p < -numEmbeddings))
            throw new ArgumentException($"Embedding: padding_idx must be within [{-numEmbeddings}, {numEmbeddings}), got {p}");
        (NumEmbeddings, EmbeddingDim, MaxNorm, NormType) = (numEmbeddings, embeddingDim, maxNorm, normType);
        PaddingIdx = paddingIdx is int q && q < 0 ? q + numEmbeddings : paddingIdx;
        Weight = RegisterParameter("weight", weight ?? Torch.Empty([numEmbeddings, embeddingDim]));
        if (weight is null) ResetParameters(generator);
    }

    /// <summary>Re-draws N(0, 1) rows and zeroes the padding row (PyTorch's reset_parameters).</summary>
    public void ResetParameters(Generator? generator = null)
    {
        Init.Normal(Weight, 0, 1, generator);
        if (PaddingIdx is int p) using (Torch.NoGrad()) Weight.Narrow(0, p, 1).ZeroInPlace();
    }

    /// <summary>
    /// An embedding holding a copy of <paramref name="embeddings"/> [num, dim] (torch.nn.Embedding.from_pretrained);
    /// frozen (no gradient) unless <paramref name="freeze"/> is false. The padding row is not zeroed.
    /// </summary>
    public static Embedding FromPretrained(Tensor embeddings, bool freeze = true, int? paddingIdx = null, double? maxNorm = null, double normType = 2)
    {
        if (embeddings.Rank != 2) throw new ArgumentException($"Embedding.FromPretrained: embeddings must be 2-D [num, dim], got shape {embeddings.Shape}");
        var e = new Embedding(embeddings.Size(0), embeddings.Size(1), paddingIdx, maxNorm, normType, embeddings.Detach().Clone(), null);
        e.Weight.RequiresGrad = !freeze;
        return e;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Embedding(input, Weight, PaddingIdx, MaxNorm, NormType);

    /// <inheritdoc/>
    protected override string ExtraRepr()
    {
        var s = $"{NumEmbeddings}, {EmbeddingDim}";
        if (PaddingIdx is int p) s += $", padding_idx={p}";
        if (MaxNorm is double m) s += $", max_norm={PyRepr.Float(m)}";
        if (NormType != 2) s += $", norm_type={PyRepr.Float(NormType)}";
        return s;
    }
}
