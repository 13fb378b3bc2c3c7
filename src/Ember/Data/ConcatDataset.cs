namespace Ember.Data;

/// <summary>Several data sets one after another (torch.utils.data.ConcatDataset).</summary>
public sealed class ConcatDataset<T> : IDataset<T>
{
    readonly IDataset<T>[] datasets;
    readonly int[] cumulative;

    /// <summary>The concatenation of <paramref name="datasets"/>.</summary>
    public ConcatDataset(params IDataset<T>[] datasets)
    {
        if (datasets.Length == 0) throw new ArgumentException("ConcatDataset: datasets should not be an empty iterable");
        this.datasets = datasets;
        cumulative = new int[datasets.Length];
        int total = 0;
        for (int k = 0; k < datasets.Length; k++) cumulative[k] = total += datasets[k].Count;
    }

    /// <summary>The parts.</summary>
    public IReadOnlyList<IDataset<T>> Datasets => datasets;

    /// <inheritdoc/>
    public int Count => cumulative[^1];
    /// <inheritdoc/>
    public T this[int index] { get { var (d, i) = Locate(index); return datasets[d][i]; } }
    /// <inheritdoc/>
    public T Get(int index, Generator generator) { var (d, i) = Locate(index); return datasets[d].Get(i, generator); }

    (int Dataset, int Index) Locate(int index)
    {
        if (index < 0) index += Count;
        if ((uint)index >= (uint)Count) throw new IndexOutOfRangeException($"ConcatDataset: index {index} is out of range for {Count} items");
        int d = Array.BinarySearch(cumulative, index);
        d = d < 0 ? ~d : d + 1;
        return (d, d == 0 ? index : index - cumulative[d - 1]);
    }
}
