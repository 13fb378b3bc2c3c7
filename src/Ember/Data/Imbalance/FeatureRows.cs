namespace Ember.Data.Imbalance;

/// <summary>The checked [N, D] features and N labels that the nearest-neighbour resamplers work on, as doubles.</summary>
internal static class FeatureRows
{
    internal static (double[] X, long[] Y, int N, int D) Read(string who, Tensor features, Tensor labels)
    {
        if (features.Rank != 2) throw new ArgumentException($"{who}: expected features of shape [N, D], got {features.Shape}");
        var y = ClassWeights.Labels(labels);
        if (y.Length != features.Size(0))
            throw new ArgumentException($"{who}: {features.Size(0)} feature rows but {y.Length} labels");
        return (features.To(DType.Float64).Contiguous().ToArray<double>(), y, features.Size(0), features.Size(1));
    }
}
