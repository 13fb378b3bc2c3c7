using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>1 − cos for similar pairs, max(cos − margin, 0) for dissimilar ones (torch.nn.CosineEmbeddingLoss); see <see cref="F.CosineEmbeddingLoss"/>.</summary>
public sealed class CosineEmbeddingLoss : Module
{
    /// <summary>The margin for dissimilar pairs (−1 to 1; PyTorch suggests 0 to 0.5).</summary>
    public double Margin { get; }
    /// <summary>How per-pair losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Creates the loss (torch.nn.CosineEmbeddingLoss).</summary>
    public CosineEmbeddingLoss(double margin = 0, Reduction reduction = Reduction.Mean)
    {
        Margin = margin; Reduction = reduction;
    }

    /// <summary>The loss of the pairs (input1, input2) labelled similar (1) or dissimilar (−1).</summary>
    public Tensor Forward(Tensor input1, Tensor input2, Tensor target) => F.CosineEmbeddingLoss(input1, input2, target, Margin, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"margin={Margin}, reduction={Reduction}";
}
