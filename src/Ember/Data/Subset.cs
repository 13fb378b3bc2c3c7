namespace Ember.Data;

/// <summary>The items of a data set at the given indices (torch.utils.data.Subset).</summary>
public sealed class Subset<T> : IDataset<T>
{
    readonly int[] indices;

    /// <summary>A view of <paramref name="dataset"/> restricted to <paramref name="indices"/>.</summary>
    public Subset(IDataset<T> dataset, IReadOnlyList<int> indices)
    {
        Dataset = dataset;
        this.indices = [.. indices];
        for (int i = 0; i < this.indices.Length; i++)
            if ((uint)this.indices[i] >= (uint)dataset.Count)
                throw new ArgumentException($"Subset: index {this.indices[i]} at position {i} is out of range for a data set of {dataset.Count} items");
    }

    /// <summary>The underlying data set.</summary>
    public IDataset<T> Dataset { get; }
    /// <summary>The indices into <see cref="Dataset"/>.</summary>
    public IReadOnlyList<int> Indices => indices;

    /// <inheritdoc/>
    public int Count => indices.Length;
    /// <inheritdoc/>
    public T this[int index] => Dataset[indices[index]];
    /// <inheritdoc/>
    public T Get(int index, Generator generator) => Dataset.Get(indices[index], generator);
}
