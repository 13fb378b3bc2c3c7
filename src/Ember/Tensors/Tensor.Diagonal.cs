using Ember.Ops;

namespace Ember;

public partial class Tensor
{
    /// <summary>
    /// The diagonal of the (dim1, dim2) planes as a view, moved to the last dim (torch.diagonal): element k is
    /// x[..., k, k + offset] for offset ≥ 0 and x[..., k − offset, k] below the main diagonal.
    /// </summary>
    public Tensor Diagonal(int offset = 0, int dim1 = 0, int dim2 = 1) => DiagonalOps.Diagonal(this, offset, dim1, dim2);
}
