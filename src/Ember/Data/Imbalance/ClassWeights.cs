namespace Ember.Data.Imbalance;

/// <summary>
/// Class counts and weights for imbalanced classification: inverse-frequency class weights for CrossEntropyLoss's
/// weight, and per-sample weights for <see cref="WeightedRandomSampler"/> that draw every class equally often.
/// </summary>
public static class ClassWeights
{
    /// <summary>How many samples each class has; a label outside [0, numClasses) is an error naming the sample.</summary>
    public static long[] Counts(IReadOnlyList<long> labels, int numClasses)
    {
        if (numClasses <= 0) throw new ArgumentException($"class counts: numClasses must be positive, got {numClasses}");
        var counts = new long[numClasses];
        for (int i = 0; i < labels.Count; i++)
        {
            long y = labels[i];
            if (y < 0 || y >= numClasses)
                throw new ArgumentException($"class counts: label {y} of sample {i} is outside the class range [0, {numClasses})");
            counts[y]++;
        }
        return counts;
    }

    /// <summary>Counts from an int64 label tensor.</summary>
    public static long[] Counts(Tensor labels, int numClasses) => Counts(Labels(labels), numClasses);

    /// <summary>
    /// Inverse-frequency ("balanced") class weights N / (numClasses · count[c]) as a float32 tensor [numClasses], for
    /// CrossEntropyLoss's weight: a class with half the average frequency weighs 2. Classes with no sample get 0.
    /// </summary>
    public static Tensor InverseFrequency(IReadOnlyList<long> labels, int numClasses)
    {
        var counts = Counts(labels, numClasses);
        var w = new float[numClasses];
        for (int c = 0; c < numClasses; c++) w[c] = counts[c] == 0 ? 0 : (float)((double)labels.Count / (numClasses * counts[c]));
        return DataTensors.Wrap(w, numClasses);
    }

    /// <summary>Inverse-frequency class weights from an int64 label tensor.</summary>
    public static Tensor InverseFrequency(Tensor labels, int numClasses) => InverseFrequency(Labels(labels), numClasses);

    /// <summary>
    /// Per-sample weights 1 / count[label] for <see cref="WeightedRandomSampler"/>: each class then has the same total
    /// weight, so the sampler draws classes equally often.
    /// </summary>
    public static double[] SampleWeights(IReadOnlyList<long> labels, int numClasses)
    {
        var counts = Counts(labels, numClasses);
        var w = new double[labels.Count];
        for (int i = 0; i < w.Length; i++) w[i] = 1.0 / counts[labels[i]];
        return w;
    }

    internal static long[] Labels(Tensor labels)
    {
        if (labels.DType != DType.Int64 || labels.Rank != 1)
            throw new ArgumentException($"class weights: expected an int64 label tensor [N], got {labels.DType.TorchName()} of shape {labels.Shape}");
        return labels.Contiguous().ToArray<long>();
    }
}
