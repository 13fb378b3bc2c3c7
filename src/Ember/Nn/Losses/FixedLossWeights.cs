namespace Ember.Nn.Losses;

/// <summary>A fixed weighted sum of named losses: Σ wᵢ·Lᵢ.</summary>
public sealed class FixedLossWeights : MultiTaskLoss
{
    readonly double[] weights;

    /// <summary>Creates the sum with one finite, non-negative weight per task name.</summary>
    public FixedLossWeights(IReadOnlyDictionary<string, double> weights) : base(weights.Keys)
    {
        this.weights = [.. Names.Select(n => weights[n])];
        foreach (var (name, w) in Names.Zip(this.weights))
            if (!(w >= 0) || double.IsInfinity(w)) throw new ArgumentException($"FixedLossWeights: the weight of '{name}' is {w}, expected a finite value >= 0");
    }

    /// <summary>The weight of each task, in <see cref="MultiTaskLoss.Names"/> order.</summary>
    public IReadOnlyList<double> Weights => weights;

    /// <inheritdoc/>
    protected override (Tensor Term, double Weight) Term(int index, Tensor loss) => (loss * weights[index], weights[index]);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Join(", ", Names.Zip(weights, (n, w) => $"{n}={PyRepr.Float(w)}"));
}
