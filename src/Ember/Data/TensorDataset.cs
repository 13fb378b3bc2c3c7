namespace Ember.Data;

/// <summary>
/// A data set over tensors that share their first dim (torch.utils.data.TensorDataset): item i is the array of
/// row i of each tensor (views, no copy).
/// </summary>
public sealed class TensorDataset : IDataset<Tensor[]>
{
    readonly Tensor[] tensors;

    /// <summary>A data set over <paramref name="tensors"/>, which must all have the same size in dim 0.</summary>
    public TensorDataset(params Tensor[] tensors)
    {
        if (tensors.Length == 0) throw new ArgumentException("TensorDataset: expects at least one tensor");
        for (int k = 0; k < tensors.Length; k++)
        {
            if (tensors[k].Rank == 0) throw new ArgumentException($"TensorDataset: tensor {k} is a scalar; every tensor needs a first (sample) dim");
            if (tensors[k].Size(0) != tensors[0].Size(0))
                throw new ArgumentException($"TensorDataset: size mismatch between tensors: tensor 0 has {tensors[0].Size(0)} rows (shape {tensors[0].Shape}) but tensor {k} has {tensors[k].Size(0)} (shape {tensors[k].Shape})");
        }
        this.tensors = tensors;
    }

    /// <summary>The tensors.</summary>
    public IReadOnlyList<Tensor> Tensors => tensors;

    /// <inheritdoc/>
    public int Count => tensors[0].Size(0);

    /// <inheritdoc/>
    public Tensor[] this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new IndexOutOfRangeException($"TensorDataset: index {index} is out of range for {Count} items");
            var row = new Tensor[tensors.Length];
            for (int k = 0; k < tensors.Length; k++) row[k] = tensors[k].Select(0, index);
            return row;
        }
    }
}
