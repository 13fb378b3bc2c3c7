namespace Ember.Data.Imbalance;

/// <summary>
/// Random oversampling (imblearn's RandomOverSampler): repeats randomly chosen samples of each smaller class until every
/// class has as many samples as the largest. Returns indices, so it works with any data set through <see cref="Subset{T}"/>.
/// </summary>
public static class RandomOverSampler
{
    /// <summary>All original indices followed by the drawn duplicates.</summary>
    public static int[] Resample(IReadOnlyList<long> labels, int numClasses, Generator generator)
    {
        var byClass = RandomUnderSampler.GroupByClass(labels, numClasses);
        int target = byClass.Max(c => c.Count);
        var result = new List<int>(target * numClasses);
        for (int i = 0; i < labels.Count; i++) result.Add(i);
        foreach (var members in byClass)
            if (members.Count > 0)
                for (int k = members.Count; k < target; k++) result.Add(members[(int)generator.NextInt64(members.Count)]);
        return [.. result];
    }
}
