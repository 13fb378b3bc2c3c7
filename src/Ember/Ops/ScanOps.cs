using Ember.Autograd;

namespace Ember.Ops;

/// <summary>
/// Cumulative sum and product along a dim (torch.cumsum / torch.cumprod). The scan runs as a scalar loop over rows of a
/// contiguous copy with the dim moved last; float32 accumulates in double, as PyTorch's CPU kernel does.
/// </summary>
internal static class ScanOps
{
    public static Tensor Cumsum(Tensor x, int dim)
    {
        if (x.DType == DType.Bool) x = x.To(DType.Int64); // as PyTorch: bool and integer sums are int64
        int d = x.Rank == 0 ? 0 : Tensor.NormalizeDim(dim, x.Rank, "cumsum");
        var y = Scan(x, d, product: false);
        // the adjoint of a prefix sum is a suffix sum: flip, cumsum, flip
        return Recording.Unary(y, "CumsumBackward0", x, g => x.Rank == 0 ? g : g.Flip(d).Cumsum(d).Flip(d));
    }

    public static Tensor Cumprod(Tensor x, int dim)
    {
        if (x.DType == DType.Bool) x = x.To(DType.Int64);
        int d = x.Rank == 0 ? 0 : Tensor.NormalizeDim(dim, x.Rank, "cumprod");
        var y = Scan(x, d, product: true);
        return Recording.Unary(y, "CumprodBackward0", x, g => x.Rank == 0 ? g : CumprodBackward(g, x, y, d), x, y);
    }

    /// <summary>
    /// ∂L/∂xᵢ = Σ_{k≥i} g_k·Π_{j≤k, j≠i} x_j. Without zeros that is suffix-sum(g·y)/x. With a zero the division fails, so
    /// the products leaving xᵢ out are formed explicitly: an [n, n] matrix per row whose diagonal is 1 (O(n²), only then).
    /// Both forms use differentiable ops, so double backward works.
    /// </summary>
    static Tensor CumprodBackward(Tensor g, Tensor x, Tensor y, int d)
    {
        bool anyZero;
        using (Torch.NoGrad()) anyZero = x.Eq(0.0).AnyNonzero();
        if (!anyZero) return (g * y).Flip(d).Cumsum(d).Flip(d) / x;
        var xl = x.Transpose(d, -1);                       // [..., n]
        var gl = g.Transpose(d, -1);
        int n = xl.Size(-1);
        var shape = new int[xl.Rank + 1];
        for (int i = 0; i < xl.Rank - 1; i++) shape[i] = xl.shape[i];
        shape[^2] = n; shape[^1] = n;
        var rows = Torch.Arange(n).Unsqueeze(1); var cols = Torch.Arange(n).Unsqueeze(0);
        var eye = rows.Eq(cols);
        var leaveOut = Torch.Where(eye, Torch.Scalar(1.0, x.DType), xl.Unsqueeze(-2).Expand(shape)); // [..., i, j]
        var products = leaveOut.Cumprod(-1);               // [..., i, k] = Π_{j≤k, j≠i} x_j
        var upper = cols >= rows;                           // k ≥ i
        var grad = Torch.Where(upper, products * gl.Unsqueeze(-2), Torch.Scalar(0.0, x.DType)).Sum(-1);
        return grad.Transpose(d, -1);
    }

    static Tensor Scan(Tensor x, int d, bool product)
    {
        var moved = (x.Rank == 0 ? x : x.Transpose(d, -1)).Detach().Contiguous();
        var y = Torch.Empty(moved.shape, x.DType);
        int n = x.Rank == 0 ? 1 : moved.shape[^1];
        switch (x.DType)
        {
            case DType.Float32:
                {
                    var s = moved.Span<float>(); var o = y.Span<float>();
                    for (int start = 0; start < s.Length; start += n)
                    {
                        double acc = product ? 1 : 0;
                        for (int i = start; i < start + n; i++) { acc = product ? acc * s[i] : acc + s[i]; o[i] = (float)acc; }
                    }
                    break;
                }
            case DType.Float64:
                {
                    var s = moved.Span<double>(); var o = y.Span<double>();
                    for (int start = 0; start < s.Length; start += n)
                    {
                        double acc = product ? 1 : 0;
                        for (int i = start; i < start + n; i++) { acc = product ? acc * s[i] : acc + s[i]; o[i] = acc; }
                    }
                    break;
                }
            case DType.Int64:
                {
                    var s = moved.Span<long>(); var o = y.Span<long>();
                    for (int start = 0; start < s.Length; start += n)
                    {
                        long acc = product ? 1 : 0;
                        for (int i = start; i < start + n; i++) { acc = product ? acc * s[i] : acc + s[i]; o[i] = acc; }
                    }
                    break;
                }
            default: throw new NotSupportedException($"{(product ? "cumprod" : "cumsum")}: not implemented for {x.DType.TorchName()}");
        }
        return x.Rank == 0 ? y : y.Transpose(d, -1).Contiguous();
    }
}
