namespace Ember.Data;

/// <summary>
/// Yields indices of a data set of <c>count</c> items in random order (torch.utils.data.RandomSampler): a permutation
/// without replacement (repeated as needed when numSamples exceeds count), or numSamples uniform draws with replacement.
/// </summary>
public sealed class RandomSampler : Sampler
{
    readonly int count, numSamples;
    readonly bool replacement;
    readonly Generator? generator;

    /// <summary>A random sampler over <paramref name="count"/> items.</summary>
    public RandomSampler(int count, bool replacement = false, int? numSamples = null, Generator? generator = null)
    {
        if (count < 0) throw new ArgumentException($"RandomSampler: count must be non-negative, got {count}");
        this.count = count;
        this.replacement = replacement;
        this.numSamples = numSamples ?? count;
        if (numSamples is int n) CheckCount(n, "RandomSampler", "num_samples");
        this.generator = generator;
    }

    /// <summary>Whether draws are with replacement.</summary>
    public bool Replacement => replacement;

    /// <inheritdoc/>
    public override int Count => numSamples;

    /// <inheritdoc/>
    public override IEnumerable<int> Indices(Generator generator)
    {
        var g = this.generator ?? generator;
        if (count == 0) yield break;
        if (replacement)
        {
            for (int i = 0; i < numSamples; i++) yield return (int)g.NextInt64(count);
            yield break;
        }
        // Without replacement PyTorch yields whole permutations, then the head of one more.
        int produced = 0;
        var perm = new int[count];
        while (produced < numSamples)
        {
            Permute(perm, g);
            for (int i = 0; i < count && produced < numSamples; i++, produced++) yield return perm[i];
        }
    }

    /// <summary>Fills <paramref name="perm"/> with a uniform random permutation (Fisher–Yates).</summary>
    internal static void Permute(int[] perm, Generator g)
    {
        for (int i = 0; i < perm.Length; i++) perm[i] = i;
        for (int i = perm.Length - 1; i > 0; i--)
        {
            int j = (int)g.NextInt64(i + 1);
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }
    }
}
