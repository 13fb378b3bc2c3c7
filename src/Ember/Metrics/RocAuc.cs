namespace Ember.Metrics;

/// <summary>
/// ROC curve and area under it (sklearn's roc_curve / roc_auc_score): binary from scores of the positive class, or
/// one-vs-rest macro average for [N, C] scores. Ties between scores are handled by collapsing equal thresholds; NaN
/// scores count as wrong (see <see cref="Curve"/>).
/// </summary>
public sealed class RocAuc : IMetric
{
    readonly List<double[]> scores = new();
    readonly List<long> labels = new();

    /// <summary>Adds a batch: output [N] positive-class scores (binary) or [N, C] scores; target [N] labels.</summary>
    public void Update(Tensor output, Tensor target)
    {
        var s = output.Detach().To(DType.Float64);
        int n = s.Size(0), c = s.Rank == 1 ? 1 : s.Size(1);
        var flat = s.ToArray<double>();
        for (int i = 0; i < n; i++) scores.Add(flat.AsSpan(i * c, c).ToArray());
        labels.AddRange(target.To(DType.Int64).ToArray<long>());
    }

    /// <inheritdoc/>
    public void Reset() { scores.Clear(); labels.Clear(); }

    /// <summary>The AUC: binary, or the macro one-vs-rest average over classes present.</summary>
    public double Compute()
    {
        if (scores.Count == 0) throw new InvalidOperationException("RocAuc: no samples");
        int c = scores[0].Length;
        if (c == 1) return Auc(scores.Select(s => s[0]).ToArray(), labels.Select(l => l == 1).ToArray());
        double sum = 0; int classes = 0;
        for (int k = 0; k < c; k++)
        {
            var positive = labels.Select(l => l == k).ToArray();
            if (positive.All(p => p) || !positive.Any(p => p)) continue;
            sum += Auc(scores.Select(s => s[k]).ToArray(), positive);
            classes++;
        }
        return classes == 0 ? throw new InvalidOperationException("RocAuc: only one class present in targets") : sum / classes;
    }

    /// <summary>
    /// False- and true-positive rates and thresholds, thresholds decreasing, starting at (0, 0) with +∞. A NaN score
    /// is ranked as wrong as it can be: a NaN negative above every other sample, a NaN positive below every other
    /// sample (their thresholds are NaN), so a diverged model cannot earn area from scores that compare false with everything.
    /// </summary>
    public static (double[] Fpr, double[] Tpr, double[] Thresholds) Curve(double[] score, bool[] positive)
    {
        if (score.Length != positive.Length)
            throw new ArgumentException($"RocAuc: {score.Length} scores but {positive.Length} labels");
        int n = score.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            int ta = Tier(score[a], positive[a]), tb = Tier(score[b], positive[b]);
            if (ta != tb) return tb.CompareTo(ta);
            int byScore = ta == 0 ? score[b].CompareTo(score[a]) : 0;
            return byScore != 0 ? byScore : a.CompareTo(b); // ties keep input order (a stable sort)
        });
        double totalPositive = 0;
        foreach (var p in positive) if (p) totalPositive++;
        double totalNegative = n - totalPositive;
        if (totalPositive == 0 || totalNegative == 0)
            throw new InvalidOperationException("RocAuc: ROC is undefined when only one class is present");
        var fpr = new List<double> { 0 }; var tpr = new List<double> { 0 }; var thresholds = new List<double> { double.PositiveInfinity };
        double tp = 0, fp = 0;
        for (int k = 0; k < n; k++)
        {
            int i = order[k];
            if (positive[i]) tp++; else fp++;
            if (k + 1 < n)
            {
                int j = order[k + 1], ti = Tier(score[i], positive[i]);
                if (ti == Tier(score[j], positive[j]) && (ti != 0 || score[j] == score[i])) continue; // same threshold
            }
            fpr.Add(fp / totalNegative); tpr.Add(tp / totalPositive); thresholds.Add(score[i]);
        }
        return (fpr.ToArray(), tpr.ToArray(), thresholds.ToArray());
    }

    // 1: a NaN negative (ranked first), -1: a NaN positive (ranked last), 0: a number.
    static int Tier(double score, bool positive) => double.IsNaN(score) ? (positive ? -1 : 1) : 0;

    /// <summary>Area under the ROC curve by the trapezoidal rule.</summary>
    public static double Auc(double[] score, bool[] positive)
    {
        var (fpr, tpr, _) = Curve(score, positive);
        double area = 0;
        for (int i = 1; i < fpr.Length; i++) area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
        return area;
    }
}
