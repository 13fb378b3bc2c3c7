using Ember.Autograd;

namespace Ember.Ops;

/// <summary>
/// torch.diagonal as a view (stride = the two dims' strides summed), and its backward, which writes the gradient into
/// the diagonal of zeros; each is the other's backward, so higher-order gradients come for free.
/// </summary>
internal static class DiagonalOps
{
    public static Tensor Diagonal(Tensor x, int offset, int dim1, int dim2)
    {
        const string op = "diagonal";
        int d1 = Tensor.NormalizeDim(dim1, x.Rank, op), d2 = Tensor.NormalizeDim(dim2, x.Rank, op);
        if (d1 == d2) throw new ArgumentException($"{op}: dim1 and dim2 cannot be identical, got {dim1} and {dim2} (shape {x.Shape})");
        var (shape, strides, start) = Layout(x.shape, x.strides, offset, d1, d2);
        var y = new Tensor(x.storage, shape, strides, x.offset + start);
        var inputShape = x.shape;
        return Recording.Unary(y, "DiagonalBackward0", x, g => Backward(g, inputShape, offset, d1, d2));
    }

    /// <summary>The other dims in order, then the diagonal (PyTorch appends it last); length and start follow the offset's sign.</summary>
    static (int[] Shape, int[] Strides, int Start) Layout(int[] inShape, int[] inStrides, int offset, int d1, int d2)
    {
        int length = offset >= 0 ? Math.Min(inShape[d1], inShape[d2] - offset) : Math.Min(inShape[d1] + offset, inShape[d2]);
        length = Math.Max(length, 0);
        int start = length == 0 ? 0 : offset >= 0 ? offset * inStrides[d2] : -offset * inStrides[d1];
        var shape = new int[inShape.Length - 1];
        var strides = new int[inShape.Length - 1];
        for (int i = 0, j = 0; i < inShape.Length; i++)
            if (i != d1 && i != d2) { shape[j] = inShape[i]; strides[j] = inStrides[i]; j++; }
        shape[^1] = length;
        strides[^1] = inStrides[d1] + inStrides[d2];
        return (shape, strides, start);
    }

    /// <summary>Zeros of the input's shape with <paramref name="g"/> on the diagonal (PyTorch's diagonal_backward).</summary>
    static Tensor Backward(Tensor g, int[] inputShape, int offset, int d1, int d2)
    {
        var result = Torch.Zeros(inputShape, g.DType);
        using (Torch.NoGrad())
        {
            var (shape, strides, start) = Layout(result.shape, result.strides, offset, d1, d2);
            new Tensor(result.storage, shape, strides, result.offset + start).CopyFrom(g);
        }
        return Recording.Unary(result, "DiagonalBackwardBackward0", g, gg => Diagonal(gg, offset, d1, d2));
    }
}
