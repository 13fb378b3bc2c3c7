using Ember.Autograd;

namespace Ember.Ops;

/// <summary>Similarity and distance: cosine similarity, pairwise distance and cdist, as ATen computes them.</summary>
internal static class DistanceOps
{
    /// <summary>
    /// Σ (x1/‖x1‖)(x2/‖x2‖) along dim after broadcasting, each norm clamped below by eps. As ATen, the clamp is applied
    /// to the value only (under no_grad), so the gradient is that of the unclamped norm.
    /// </summary>
    public static Tensor CosineSimilarity(Tensor x1, Tensor x2, int dim, double eps)
    {
        var dtype = BinaryOps.ResultType(x1, x2);
        if (!dtype.IsFloatingPoint()) dtype = DType.Float32;
        var shape = Broadcasting.Shape(x1.shape, x2.shape, "cosine_similarity");
        var a = x1.To(dtype).Expand(shape);
        var b = x2.To(dtype).Expand(shape);
        int d = Tensor.NormalizeDim(dim, shape.Length, "cosine_similarity");
        var na = ClampValue(a.Norm(2, [d], keepDim: true), eps);
        var nb = ClampValue(b.Norm(2, [d], keepDim: true), eps);
        return (a / na * (b / nb)).Sum(d);
    }

    // n with its value raised to at least eps, its gradient unchanged (ATen's clamp_min_ under NoGradGuard)
    static Tensor ClampValue(Tensor n, double eps)
    {
        Tensor shift;
        using (Torch.NoGrad()) shift = n.Clamp(min: eps) - n;
        return n + shift;
    }

    /// <summary>‖x1 − x2 + eps‖_p over the last dim (torch.nn.functional.pairwise_distance).</summary>
    public static Tensor PairwiseDistance(Tensor x1, Tensor x2, double p, double eps, bool keepDim)
    {
        int rank = Math.Max(x1.Rank, x2.Rank);
        var diff = x1 - x2 + eps;
        if (rank == 0) diff = diff.Reshape(1);
        var result = PNorm(diff, p, -1, keepDim || rank == 0);
        return rank == 0 && !keepDim ? result.Reshape([]) : result;
    }

    /// <summary>
    /// The p-norm over one dim, with ATen's norm_backward: x·|x|^(p−2)·g/‖x‖^(p−1), 0 where the norm is 0 (composing pow
    /// would give NaN there); p = 1 and 2 use the existing norms, whose gradients already follow that rule.
    /// </summary>
    static Tensor PNorm(Tensor x, double p, int dim, bool keepDim)
    {
        if (p == 1 || p == 2 || double.IsPositiveInfinity(p)) return x.Norm(p, [dim], keepDim);
        if (p <= 0) throw new ArgumentException($"norm: p must be positive here (p = 0 counts, which has no gradient), got {p}");
        int d = Tensor.NormalizeDim(dim, x.Rank, "norm");
        Tensor y;
        using (Torch.NoGrad()) y = x.Abs().Pow(p).Sum(d, keepDim).Pow(1 / p);
        var inputShape = x.shape;
        return Recording.Unary(y, "NormBackward1", x, g =>
        {
            var yk = keepDim ? y : y.Unsqueeze(d);
            var gk = keepDim ? g : g.Unsqueeze(d);
            var grad = x * x.Abs().Pow(p - 2) * gk / yk.Pow(p - 1);
            return grad.MaskedFill(yk.Eq(0.0).Expand(inputShape), 0.0);
        }, x, y);
    }

    /// <summary>
    /// p-norm distances between the rows of x1 [.., P, M] and x2 [.., R, M] → [.., P, R] (torch.cdist). For p = 2 with
    /// more than 25 rows on either side it takes ATen's matrix-product route (‖a‖² + ‖b‖² − 2a·b through one matmul,
    /// use_mm_for_euclid_dist_if_necessary), otherwise the direct differences.
    /// </summary>
    public static Tensor Cdist(Tensor x1, Tensor x2, double p)
    {
        if (x1.Rank < 2 || x2.Rank < 2)
            throw new ArgumentException($"cdist: expected at least 2-D inputs, got x1 {x1.Shape} and x2 {x2.Shape}");
        if (x1.shape[^1] != x2.shape[^1])
            throw new ArgumentException($"cdist: x1 and x2 must have the same number of columns, got x1 {x1.Shape} and x2 {x2.Shape}");
        if (p < 0) throw new ArgumentException($"cdist: p must be non-negative, got {p}");
        if (!x1.DType.IsFloatingPoint() || !x2.DType.IsFloatingPoint())
            throw new ArgumentException($"cdist: only floating-point inputs are supported, got {x1.DType.TorchName()} and {x2.DType.TorchName()}");
        if (p == 2 && (x1.shape[^2] > 25 || x2.shape[^2] > 25)) return EuclideanByMatmul(x1, x2);
        var diff = x1.Unsqueeze(-2) - x2.Unsqueeze(-3);   // [.., P, R, M]
        if (p == 0)
        {
            using (Torch.NoGrad()) return diff.Ne(0.0).To(diff.DType).Sum(-1);
        }
        return PNorm(diff, p, -1, keepDim: false);
    }

    static Tensor EuclideanByMatmul(Tensor x1, Tensor x2)
    {
        Tensor y;
        using (Torch.NoGrad())
        {
            var n1 = x1.Square().Sum(-1, keepDim: true);
            var n2 = x2.Square().Sum(-1, keepDim: true);
            var a = Torch.Cat([x1 * -2.0, n1, Torch.OnesLike(n1)], -1);
            var b = Torch.Cat([x2, Torch.OnesLike(n2), n2], -1);
            y = a.MatMul(b.MT).Clamp(min: 0).Sqrt();
        }
        // ATen's _euclidean_dist_backward, with the ratio g/d set to 0 where d = 0
        return Recording.Binary(y, "EuclideanDistBackward0", x1, x2,
            g => { var r = (g / y).MaskedFill(y.Eq(0.0), 0.0); return x1 * r.Sum(-1, keepDim: true) - r.MatMul(x2); },
            g => { var r = (g / y).MaskedFill(y.Eq(0.0), 0.0); return x2 * r.Sum(-2).Unsqueeze(-1) - r.MT.MatMul(x1); },
            x1, x2, y);
    }
}
