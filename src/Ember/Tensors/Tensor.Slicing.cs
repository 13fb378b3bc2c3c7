namespace Ember;

public partial class Tensor
{
    /// <summary>
    /// Python's indexing written as in PyTorch: <c>x["..., ::2, ::2"]</c>, <c>x[":, 0"]</c>, <c>x["None, 1:-1"]</c>
    /// (ints, start:stop:step slices, "..." and "None"). A view, as in PyTorch; see <see cref="TensorIndex.Parse"/>.
    /// </summary>
    [System.Runtime.CompilerServices.IndexerName("Index")]
    public Tensor this[string index] => TensorIndex.Apply(this, TensorIndex.Parse(index));
}
