using Ember.Ops;

namespace Ember;

public partial class Tensor
{
    /// <summary>Matrix product with broadcasting batch dims (torch.matmul).</summary>
    public Tensor MatMul(Tensor other) => LinalgOps.MatMul(this, other);

    /// <summary>2-D matrix product (torch.mm).</summary>
    public Tensor Mm(Tensor other)
    {
        if (Rank != 2 || other.Rank != 2) throw new ArgumentException($"mm: expected 2-D tensors, got shapes {Shape} and {other.Shape}");
        return LinalgOps.Mm(this, other, "mm");
    }

    /// <summary>Batched matrix product of 3-D tensors with equal batch (torch.bmm).</summary>
    public Tensor Bmm(Tensor other)
    {
        if (Rank != 3 || other.Rank != 3) throw new ArgumentException($"bmm: expected 3-D tensors, got shapes {Shape} and {other.Shape}");
        if (shape[0] != other.shape[0]) throw new ArgumentException($"bmm: batch sizes differ: {Shape} and {other.Shape}");
        return LinalgOps.Mm(this, other, "bmm");
    }

    /// <summary>Outer product of two vectors (torch.outer).</summary>
    public Tensor Outer(Tensor other)
    {
        if (Rank != 1 || other.Rank != 1) throw new ArgumentException($"outer: expected 1-D tensors, got shapes {Shape} and {other.Shape}");
        return Unsqueeze(1) * other.Unsqueeze(0);
    }

    /// <summary>Dot product of two vectors (torch.dot).</summary>
    public Tensor Dot(Tensor other)
    {
        if (Rank != 1 || other.Rank != 1) throw new ArgumentException($"dot: expected 1-D tensors, got shapes {Shape} and {other.Shape}");
        return MatMul(other);
    }

    /// <summary>beta·this + alpha·(m1 @ m2) (torch.addmm).</summary>
    public Tensor AddMm(Tensor m1, Tensor m2, double beta = 1, double alpha = 1)
    {
        var product = m1.Mm(m2);
        if (alpha != 1) product = product * alpha;
        return beta == 0 ? product : (beta == 1 ? this : this * beta) + product;
    }
}
