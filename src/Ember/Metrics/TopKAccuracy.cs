namespace Ember.Metrics;

/// <summary>
/// Fraction of samples whose target is among the k highest scores (top-1, top-5). As in the notes, a label ranked
/// third counts for top-5 but not for top-1. A sample whose scores hold a NaN is counted as wrong: NaN compares false
/// with everything, so a plain rank count would put the label first and score a diverged model at 100%.
/// </summary>
public sealed class TopKAccuracy : IMetric
{
    long correct, total;

    /// <summary>A top-<paramref name="k"/> accuracy.</summary>
    public TopKAccuracy(int k = 1)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "TopKAccuracy: k must be at least 1");
        K = k;
    }

    /// <summary>The k in top-k.</summary>
    public int K { get; }

    /// <summary>Samples seen so far.</summary>
    public long Count => total;

    /// <summary>Samples whose label was in the top k so far.</summary>
    public long Correct => correct;

    /// <summary>Continues from saved <see cref="Correct"/> and <see cref="Count"/> counts (a resumed epoch).</summary>
    public void Restore(long savedCorrect, long savedCount)
    {
        if (savedCorrect < 0 || savedCount < savedCorrect) throw new ArgumentOutOfRangeException(nameof(savedCorrect), $"TopKAccuracy.Restore: {savedCorrect} correct of {savedCount}");
        correct = savedCorrect;
        total = savedCount;
    }

    /// <inheritdoc/>
    public void Update(Tensor output, Tensor target)
    {
        if (output.Rank != 2) throw new ArgumentException($"TopKAccuracy: expected scores of shape [N, C], got {output.Shape}");
        if (target.Rank != 1 || target.Size(0) != output.Size(0))
            throw new ArgumentException($"TopKAccuracy: expected targets of shape [{output.Size(0)}], got {target.Shape}");
        int n = output.Size(0), c = output.Size(1), k = Math.Min(K, c);
        var scores = output.Detach().To(DType.Float64).ToArray<double>();
        var labels = target.To(DType.Int64).ToArray<long>();
        for (int i = 0; i < n; i++)
        {
            long label = labels[i];
            if (label < 0 || label >= c)
                throw new ArgumentException($"TopKAccuracy: target {label} of sample {i} is outside the {c} classes [0, {c})");
            if (HasNaN(scores.AsSpan(i * c, c))) continue; // wrong, whatever the label
            // the label is in the top k when fewer than k classes score strictly higher (ties favour the label, like topk's first index)
            double own = scores[i * c + label];
            int higher = 0;
            for (int j = 0; j < c; j++)
                if (scores[i * c + j] > own || (scores[i * c + j] == own && j < labels[i])) higher++;
            if (higher < k) correct++;
        }
        total += n;
    }

    static bool HasNaN(ReadOnlySpan<double> row)
    {
        foreach (var v in row) if (double.IsNaN(v)) return true;
        return false;
    }

    /// <summary>The accuracy in [0, 1] (0 before any update).</summary>
    public double Compute() => total == 0 ? 0 : (double)correct / total;

    /// <inheritdoc/>
    public void Reset() { correct = 0; total = 0; }
}
