namespace Ember.Data;

/// <summary>Yields 0, 1, …, count − 1 (torch.utils.data.SequentialSampler).</summary>
public sealed class SequentialSampler(int count) : Sampler
{
    readonly int count = count >= 0 ? count : throw new ArgumentException($"SequentialSampler: count must be non-negative, got {count}");

    /// <inheritdoc/>
    public override int Count => count;

    /// <inheritdoc/>
    public override IEnumerable<int> Indices(Generator generator)
    {
        for (int i = 0; i < count; i++) yield return i;
    }
}
