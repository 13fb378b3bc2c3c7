namespace Ember.Metrics;

/// <summary>
/// Counts of (true class, predicted class) pairs; rows are true classes, columns predictions (sklearn's layout).
/// Precision, recall and F1 per class and their macro, micro and weighted averages derive from it.
/// A sample whose scores hold a NaN has no prediction: it is counted as wrong (in its true class's support and the total,
/// never on the diagonal) rather than given the argmax of garbage, which could land on the target.
/// </summary>
public sealed class ConfusionMatrix : IMetric
{
    readonly long[,] counts;
    readonly long[] unpredicted;

    /// <summary>An empty matrix for <paramref name="numClasses"/> classes.</summary>
    public ConfusionMatrix(int numClasses)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "ConfusionMatrix: need at least one class");
        NumClasses = numClasses;
        counts = new long[numClasses, numClasses];
        unpredicted = new long[numClasses];
    }

    /// <summary>Number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>Count of samples of true class <paramref name="actual"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int actual, int predicted] => counts[actual, predicted];

    /// <summary>Samples of true class <paramref name="actual"/> whose scores held a NaN (counted as wrong).</summary>
    public long Unpredicted(int actual) => unpredicted[actual];

    /// <summary>All counts in one array (the matrix row by row, then the unpredicted counts), for reducing across ranks.</summary>
    internal long[] State()
    {
        var state = new long[NumClasses * NumClasses + NumClasses];
        Buffer.BlockCopy(counts, 0, state, 0, counts.Length * sizeof(long));
        Array.Copy(unpredicted, 0, state, counts.Length, NumClasses);
        return state;
    }

    /// <summary>Replaces all counts with a <see cref="State"/> array.</summary>
    internal void LoadState(long[] state)
    {
        if (state.Length != NumClasses * NumClasses + NumClasses)
            throw new ArgumentException($"ConfusionMatrix: a state of {state.Length} counts does not fit {NumClasses} classes (expected {NumClasses * NumClasses + NumClasses})");
        Buffer.BlockCopy(state, 0, counts, 0, counts.Length * sizeof(long));
        Array.Copy(state, counts.Length, unpredicted, 0, NumClasses);
    }

    /// <summary>
    /// Adds a batch: output is [N, C] scores (argmax taken) or [N] predicted indices; target is [N] class indices.
    /// Rows with a NaN score (or a NaN index) are counted as wrong for their true class.
    /// </summary>
    public void Update(Tensor output, Tensor target)
    {
        var actual = target.To(DType.Int64).ToArray<long>();
        if (!output.DType.IsFloatingPoint()) { Add(output.To(DType.Int64).ToArray<long>(), actual); return; }
        var values = output.Detach().To(DType.Float64).ToArray<double>();
        int n = output.Rank == 0 ? 1 : output.Size(0), c = output.Rank == 2 ? output.Size(1) : 1;
        if (output.Rank > 2 || values.Length != (long)n * c)
            throw new ArgumentException($"ConfusionMatrix: expected scores [N, C] or predicted indices [N], got shape {output.Shape}");
        var predicted = new long[n];
        for (int i = 0; i < n; i++)
        {
            var row = values.AsSpan(i * c, c);
            long best = -1;
            for (int j = 0; j < c; j++)
            {
                if (double.IsNaN(row[j])) { best = -1; break; }
                if (best < 0 || row[j] > row[(int)best]) best = j;
            }
            predicted[i] = output.Rank == 2 || best < 0 ? best : (long)row[0];
        }
        Add(predicted, actual);
    }

    /// <summary>Adds predicted/true index pairs; a predicted index of -1 means "no prediction" (counted as wrong).</summary>
    public void Add(IReadOnlyList<long> predicted, IReadOnlyList<long> actual)
    {
        if (predicted.Count != actual.Count)
            throw new ArgumentException($"ConfusionMatrix: {predicted.Count} predictions but {actual.Count} targets");
        for (int i = 0; i < predicted.Count; i++)
        {
            if (actual[i] < 0 || actual[i] >= NumClasses || predicted[i] < -1 || predicted[i] >= NumClasses)
                throw new ArgumentException($"ConfusionMatrix: sample {i} has target {actual[i]} / prediction {predicted[i]} outside [0, {NumClasses})");
            if (predicted[i] == -1) unpredicted[actual[i]]++;
            else counts[actual[i], predicted[i]]++;
        }
    }

    /// <inheritdoc/>
    public void Reset() { Array.Clear(counts); Array.Clear(unpredicted); }

    /// <summary>A copy of the counts.</summary>
    public long[,] ToArray() => (long[,])counts.Clone();

    /// <summary>Rows divided by their sums (each true class's distribution of predictions); empty rows stay 0.</summary>
    public double[,] Normalized()
    {
        var result = new double[NumClasses, NumClasses];
        for (int i = 0; i < NumClasses; i++)
        {
            long row = Support(i);
            for (int j = 0; j < NumClasses; j++) result[i, j] = row == 0 ? 0 : (double)counts[i, j] / row;
        }
        return result;
    }

    /// <summary>Samples whose true class is <paramref name="c"/>.</summary>
    public long Support(int c) { long s = unpredicted[c]; for (int j = 0; j < NumClasses; j++) s += counts[c, j]; return s; }
    long PredictedAs(int c) { long s = 0; for (int i = 0; i < NumClasses; i++) s += counts[i, c]; return s; }

    /// <summary>Total samples.</summary>
    public long Total { get { long s = 0; foreach (var v in counts) s += v; foreach (var v in unpredicted) s += v; return s; } }

    /// <summary>Fraction on the diagonal.</summary>
    public double Accuracy { get { long d = 0; for (int i = 0; i < NumClasses; i++) d += counts[i, i]; return Total == 0 ? 0 : (double)d / Total; } }

    /// <summary>TP / (TP + FP) for class c (0 when nothing was predicted as c, as sklearn's zero_division=0).</summary>
    public double Precision(int c) { long p = PredictedAs(c); return p == 0 ? 0 : (double)counts[c, c] / p; }
    /// <summary>TP / (TP + FN) for class c.</summary>
    public double Recall(int c) { long s = Support(c); return s == 0 ? 0 : (double)counts[c, c] / s; }
    /// <summary>Harmonic mean of precision and recall for class c.</summary>
    public double F1(int c) { double p = Precision(c), r = Recall(c); return p + r == 0 ? 0 : 2 * p * r / (p + r); }

    /// <summary>Precision averaged over classes.</summary>
    public double Precision(Average average) => Averaged(Precision, average);
    /// <summary>Recall averaged over classes.</summary>
    public double Recall(Average average) => Averaged(Recall, average);
    /// <summary>F1 averaged over classes (micro F1 equals accuracy for single-label data).</summary>
    public double F1(Average average) => Averaged(F1, average);

    double Averaged(Func<int, double> perClass, Average average)
    {
        switch (average)
        {
            case Average.Micro:
                return Accuracy; // single-label: micro precision = micro recall = micro F1 = accuracy
            case Average.Weighted:
                double total = Total, sum = 0;
                for (int c = 0; c < NumClasses; c++) sum += perClass(c) * Support(c);
                return total == 0 ? 0 : sum / total;
            default:
                double s = 0;
                for (int c = 0; c < NumClasses; c++) s += perClass(c);
                return s / NumClasses;
        }
    }
}
