using Ember.Nn.Functional;

namespace Ember.Nn.Losses;

/// <summary>max(−y·(x1 − x2) + margin, 0) (torch.nn.MarginRankingLoss); see <see cref="F.MarginRankingLoss"/>.</summary>
public sealed class MarginRankingLoss : Module
{
    /// <summary>The margin.</summary>
    public double Margin { get; }
    /// <summary>How per-element losses are reduced.</summary>
    public Reduction Reduction { get; set; }

    /// <summary>Creates the loss (torch.nn.MarginRankingLoss).</summary>
    public MarginRankingLoss(double margin = 0, Reduction reduction = Reduction.Mean)
    {
        Margin = margin; Reduction = reduction;
    }

    /// <summary>The loss of ranking input1 against input2 as target (±1) says.</summary>
    public Tensor Forward(Tensor input1, Tensor input2, Tensor target) => F.MarginRankingLoss(input1, input2, target, Margin, Reduction);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"margin={Margin}, reduction={Reduction}";
}
