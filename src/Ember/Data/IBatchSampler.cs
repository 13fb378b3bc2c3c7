namespace Ember.Data;

/// <summary>Yields lists of indices, one per batch (the batch_sampler of torch.utils.data.DataLoader).</summary>
public interface IBatchSampler
{
    /// <summary>The number of batches one pass yields.</summary>
    int Count { get; }

    /// <summary>One pass of batches; random parts draw from <paramref name="generator"/> unless they own a generator.</summary>
    IEnumerable<int[]> Batches(Generator generator);
}
