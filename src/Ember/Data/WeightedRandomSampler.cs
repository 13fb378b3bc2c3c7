namespace Ember.Data;

/// <summary>
/// Yields numSamples indices drawn with probability proportional to <c>weights</c> (torch.utils.data.WeightedRandomSampler),
/// with replacement by default. With per-sample weights 1 / count(class) it balances an imbalanced data set
/// (see <see cref="Imbalance.ClassWeights.SampleWeights"/>).
/// </summary>
public sealed class WeightedRandomSampler : Sampler
{
    readonly double[] cumulative;
    readonly double[] weights;
    readonly int numSamples;
    readonly bool replacement;
    readonly Generator? generator;

    /// <summary>A weighted sampler; weights need not sum to 1.</summary>
    public WeightedRandomSampler(IReadOnlyList<double> weights, int numSamples, bool replacement = true, Generator? generator = null)
    {
        CheckCount(numSamples, "WeightedRandomSampler", "num_samples");
        this.weights = [.. weights];
        if (this.weights.Length == 0) throw new ArgumentException("WeightedRandomSampler: weights must not be empty");
        for (int i = 0; i < this.weights.Length; i++)
            if (!(this.weights[i] >= 0) || double.IsInfinity(this.weights[i]))
                throw new ArgumentException($"WeightedRandomSampler: weights must be finite and non-negative, got {this.weights[i]} at index {i}");
        if (!replacement && numSamples > this.weights.Count(w => w > 0))
            throw new ArgumentException($"WeightedRandomSampler: cannot draw {numSamples} samples without replacement from {this.weights.Count(w => w > 0)} items of non-zero weight");
        cumulative = new double[this.weights.Length];
        double acc = 0;
        for (int i = 0; i < this.weights.Length; i++) cumulative[i] = acc += this.weights[i];
        if (acc <= 0) throw new ArgumentException("WeightedRandomSampler: the weights sum to 0");
        this.numSamples = numSamples;
        this.replacement = replacement;
        this.generator = generator;
    }

    /// <inheritdoc/>
    public override int Count => numSamples;

    /// <inheritdoc/>
    public override IEnumerable<int> Indices(Generator generator)
    {
        var g = this.generator ?? generator;
        if (replacement)
        {
            double total = cumulative[^1];
            for (int s = 0; s < numSamples; s++)
            {
                // Binary search of the cumulative weights: O(log n) per draw.
                double u = g.NextDouble() * total;
                int i = Array.BinarySearch(cumulative, u);
                i = i < 0 ? ~i : i + 1;
                if (i >= cumulative.Length) i = cumulative.Length - 1;
                while (weights[i] == 0) i++;   // u fell exactly on a boundary before a zero-weight item
                yield return i;
            }
            yield break;
        }
        var w = (double[])weights.Clone();
        for (int s = 0; s < numSamples; s++)
        {
            double total = 0;
            foreach (var v in w) total += v;
            double u = g.NextDouble() * total, acc = 0;
            int pick = Array.FindLastIndex(w, v => v > 0);
            for (int i = 0; i < w.Length; i++) { acc += w[i]; if (u < acc && w[i] > 0) { pick = i; break; } }
            w[pick] = 0;
            yield return pick;
        }
    }
}
