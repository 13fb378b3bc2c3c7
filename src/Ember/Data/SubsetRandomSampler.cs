namespace Ember.Data;

/// <summary>Yields the given indices in random order, without replacement (torch.utils.data.SubsetRandomSampler).</summary>
public sealed class SubsetRandomSampler(IReadOnlyList<int> indices, Generator? generator = null) : Sampler
{
    readonly int[] indices = [.. indices];

    /// <inheritdoc/>
    public override int Count => indices.Length;

    /// <inheritdoc/>
    public override IEnumerable<int> Indices(Generator generator)
    {
        var perm = new int[indices.Length];
        RandomSampler.Permute(perm, this.generator ?? generator);
        for (int i = 0; i < perm.Length; i++) yield return indices[perm[i]];
    }

    readonly Generator? generator = generator;
}
