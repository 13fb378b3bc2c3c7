namespace Ember.Data;

/// <summary>Helpers over data sets: random_split and map.</summary>
public static class Dataset
{
    /// <summary>
    /// Splits a data set into non-overlapping random subsets of the given lengths (torch.utils.data.random_split).
    /// </summary>
    public static Subset<T>[] RandomSplit<T>(IDataset<T> dataset, IReadOnlyList<int> lengths, Generator generator)
    {
        long sum = 0;
        foreach (var l in lengths)
        {
            if (l < 0) throw new ArgumentException($"random_split: lengths must be non-negative, got [{string.Join(", ", lengths)}]");
            sum += l;
        }
        if (sum != dataset.Count)
            throw new ArgumentException($"random_split: sum of input lengths [{string.Join(", ", lengths)}] = {sum} does not equal the length of the input dataset ({dataset.Count})");
        var perm = new int[dataset.Count];
        RandomSampler.Permute(perm, generator);
        var result = new Subset<T>[lengths.Count];
        int offset = 0;
        for (int k = 0; k < lengths.Count; k++)
        {
            result[k] = new Subset<T>(dataset, perm.AsSpan(offset, lengths[k]).ToArray());
            offset += lengths[k];
        }
        return result;
    }

    /// <summary>
    /// Splits by fractions that sum to 1: each part gets floor(fraction × count) items and the remainder is dealt one by
    /// one to the parts in order (as PyTorch does).
    /// </summary>
    public static Subset<T>[] RandomSplit<T>(IDataset<T> dataset, IReadOnlyList<double> fractions, Generator generator)
    {
        double total = 0;
        foreach (var f in fractions)
        {
            if (!(f >= 0 && f <= 1)) throw new ArgumentException($"random_split: fractions must be in [0, 1], got [{string.Join(", ", fractions)}]");
            total += f;
        }
        if (Math.Abs(total - 1) > 1e-6)
            throw new ArgumentException($"random_split: fractions [{string.Join(", ", fractions)}] sum to {total}, not 1");
        var lengths = fractions.Select(f => (int)Math.Floor(dataset.Count * f)).ToArray();
        int remainder = dataset.Count - lengths.Sum();
        for (int i = 0; i < remainder; i++) lengths[i % lengths.Length]++;
        return RandomSplit(dataset, lengths, generator);
    }

    /// <summary>A data set whose items are <paramref name="transform"/> applied to the items of <paramref name="dataset"/>.</summary>
    public static TransformDataset<TIn, TOut> Map<TIn, TOut>(this IDataset<TIn> dataset, Func<TIn, Generator, TOut> transform)
        => new(dataset, transform);
}
