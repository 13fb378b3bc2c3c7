namespace Ember.Data.Imbalance;

/// <summary>
/// Random undersampling (imblearn's RandomUnderSampler): keeps a random subset of each larger class so that every class
/// has as many samples as the smallest non-empty one. Returns sorted indices (for <see cref="Subset{T}"/>).
/// </summary>
public static class RandomUnderSampler
{
    /// <summary>The kept indices, in increasing order.</summary>
    public static int[] Resample(IReadOnlyList<long> labels, int numClasses, Generator generator)
    {
        var byClass = GroupByClass(labels, numClasses);
        int target = byClass.Where(c => c.Count > 0).Min(c => c.Count);
        var kept = new List<int>(target * numClasses);
        foreach (var members in byClass)
        {
            if (members.Count == 0) continue;
            var perm = new int[members.Count];
            RandomSampler.Permute(perm, generator);
            for (int k = 0; k < target; k++) kept.Add(members[perm[k]]);
        }
        kept.Sort();
        return [.. kept];
    }

    internal static List<int>[] GroupByClass(IReadOnlyList<long> labels, int numClasses)
    {
        ClassWeights.Counts(labels, numClasses);   // validates the labels, naming a bad sample
        var byClass = Enumerable.Range(0, numClasses).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < labels.Count; i++) byClass[labels[i]].Add(i);
        if (labels.Count == 0) throw new ArgumentException("resampling: no samples");
        return byClass;
    }
}
