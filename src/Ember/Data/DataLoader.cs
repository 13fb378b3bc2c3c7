namespace Ember.Data;

/// <summary>
/// Iterates a data set in batches collated into a <see cref="Batch"/> (torch.utils.data.DataLoader); see
/// <see cref="DataLoader{T, TBatch}"/> for the options and the reproducibility rules.
/// <code>
/// var loader = new DataLoader&lt;(Tensor, long)&gt;(train, batchSize: 128, shuffle: true, numWorkers: 2, seed: 0);
/// foreach (var (x, y) in loader) { ... }
/// </code>
/// </summary>
public class DataLoader<T> : DataLoader<T, Batch>
{
    /// <summary>A loader over a map-style data set; collate defaults to <see cref="Collate.Default{T}"/>.</summary>
    public DataLoader(IDataset<T> dataset, int batchSize = 1, bool shuffle = false, Sampler? sampler = null,
        IBatchSampler? batchSampler = null, bool dropLast = false, Func<IReadOnlyList<T>, Batch>? collate = null,
        int numWorkers = 0, int? prefetchFactor = null, Generator? generator = null, long? seed = null,
        Func<Batch, Generator, Batch>? batchTransform = null)
        : base(dataset, collate ?? Collate.Default, batchSize, shuffle, sampler, batchSampler, dropLast, numWorkers,
            prefetchFactor, generator, seed, batchTransform) { }

    /// <summary>A loader over an iterable data set; collate defaults to <see cref="Collate.Default{T}"/>.</summary>
    public DataLoader(IIterableDataset<T> dataset, int batchSize = 1, bool dropLast = false,
        Func<IReadOnlyList<T>, Batch>? collate = null, int numWorkers = 0, int? prefetchFactor = null,
        Generator? generator = null, long? seed = null, Func<Batch, Generator, Batch>? batchTransform = null)
        : base(dataset, collate ?? Collate.Default, batchSize, false, null, null, dropLast, numWorkers,
            prefetchFactor, generator, seed, batchTransform) { }
}
