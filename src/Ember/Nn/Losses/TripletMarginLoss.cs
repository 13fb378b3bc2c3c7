using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>max(d(a, p) − d(a, n) + margin, 0) (torch.nn.TripletMarginLoss); see <see cref="F.TripletMarginLoss"/>.</summary>
public sealed class TripletMarginLoss : Module
{
    /// <summary>The margin between the positive and the negative distance.</summary>
    public double Margin { get; }
    /// <summary>The norm degree of the pairwise distance.</summary>
    public double P { get; }
    /// <summary>Added to the difference before the norm, for stability.</summary>
    public double Eps { get; }
    /// <summary>Whether the distance swap (Balntas et al.) is used.</summary>
    public bool Swap { get; }
    /// <summary>How per-sample losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Creates the loss (torch.nn.TripletMarginLoss).</summary>
    public TripletMarginLoss(double margin = 1.0, double p = 2, double eps = 1e-6, bool swap = false, Reduction reduction = Reduction.Mean)
    {
        Margin = margin; P = p; Eps = eps; Swap = swap; Reduction = reduction;
    }

    /// <summary>The loss of the (anchor, positive, negative) triplets.</summary>
    public Tensor Forward(Tensor anchor, Tensor positive, Tensor negative)
        => F.TripletMarginLoss(anchor, positive, negative, Margin, P, Eps, Swap, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"margin={Margin}, p={P}, eps={Eps}, swap={Swap}, reduction={Reduction}";
}
