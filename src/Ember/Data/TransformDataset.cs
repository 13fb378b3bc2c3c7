namespace Ember.Data;

/// <summary>
/// Applies a function to every item of a data set, handing it the sample's generator (for random augmentation).
/// Built by <see cref="Dataset.Map{TIn, TOut}"/>.
/// </summary>
public sealed class TransformDataset<TIn, TOut>(IDataset<TIn> dataset, Func<TIn, Generator, TOut> transform) : IDataset<TOut>
{
    /// <summary>The underlying data set.</summary>
    public IDataset<TIn> Dataset { get; } = dataset;

    /// <inheritdoc/>
    public int Count => Dataset.Count;
    /// <summary>The item with its transform drawing from the global generator (the loader uses <see cref="Get"/>).</summary>
    public TOut this[int index] => Get(index, Generator.Default);
    /// <inheritdoc/>
    public TOut Get(int index, Generator generator) => transform(Dataset.Get(index, generator), generator);
}
