using Ember.Autograd;
using Ember.Backends;
using Ember.Kernels.Operators;

namespace Ember.Ops;

/// <summary>Reductions and the softmax family. Backwards broadcast the gradient back over the reduced dims.</summary>
internal static class ReductionOps
{
    /// <summary>Sorted, distinct, non-negative dims; null or empty means all.</summary>
    public static int[] NormalizeDims(Tensor x, int[]? dims, string op)
    {
        if (dims is null || dims.Length == 0) return Enumerable.Range(0, x.Rank).ToArray();
        var result = dims.Select(d => Tensor.NormalizeDim(d, x.Rank, op)).Distinct().OrderBy(d => d).ToArray();
        if (result.Length != dims.Length) throw new ArgumentException($"{op}: dim {Shape.Format(dims)} appears multiple times in the list of dims");
        return x.Rank == 0 ? [] : result;
    }

    /// <summary>Re-inserts reduced dims as size 1 so that a gradient broadcasts back.</summary>
    static Tensor Unreduce(Tensor g, int[] inputShape, int[] dims, bool keepDim)
    {
        if (!keepDim)
        {
            var shape = (int[])inputShape.Clone();
            foreach (var d in dims) shape[d] = 1;
            g = g.Reshape(shape);
        }
        return g.Expand(inputShape);
    }

    public static Tensor Sum(Tensor x, int[]? dims, bool keepDim)
    {
        if (x.DType == DType.Bool || x.DType.IsIntegral()) x = x.To(DType.Int64); // sum of bool or any integer type is int64, as PyTorch
        var d = NormalizeDims(x, dims, "sum");
        var y = Backend.Of(x).Reduce(ReduceOp.Sum, x, d, keepDim);
        var inputShape = x.shape;
        // PyTorch: sum() is SumBackward0, sum(dim) SumBackward1
        return Recording.Unary(y, dims is null ? "SumBackward0" : "SumBackward1", x, g => Unreduce(g, inputShape, d, keepDim));
    }

    public static Tensor Mean(Tensor x, int[]? dims, bool keepDim)
    {
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"mean: could not infer output dtype; input dtype must be floating point, got {x.DType.TorchName()}");
        // half types: one float32 accumulation and division, rounded once, as PyTorch (not a rounded sum divided again)
        if (x.DType.IsReducedFloat()) return Mean(x.To(DType.Float32), dims, keepDim).To(x.DType);
        var d = NormalizeDims(x, dims, "mean");
        int count = 1;
        foreach (var i in d) count *= x.shape[i];
        // One kernel divides each sum as it stores it (the same bits as sum, then divide by the count, which it replaced).
        var y = Backend.Of(x).Mean(x, d, keepDim);
        var inputShape = x.shape;
        return Recording.Unary(y, dims is null ? "MeanBackward0" : "MeanBackward1", x, g => Unreduce(g / (double)count, inputShape, d, keepDim));
    }

    public static Tensor Prod(Tensor x, int[]? dims, bool keepDim)
    {
        if (x.DType == DType.Bool || x.DType.IsIntegral()) x = x.To(DType.Int64);
        var d = NormalizeDims(x, dims, "prod");
        var y = Backend.Of(x).Reduce(ReduceOp.Prod, x, d, keepDim);
        var inputShape = x.shape;
        return Recording.Unary(y, dims is null ? "ProdBackward0" : "ProdBackward1", x, g => ProdBackward(g, x, y, inputShape, d, keepDim), x, y);
    }

    /// <summary>
    /// ∂Π/∂xᵢ = Π_{j≠i} xⱼ. Without zeros that is Π/xᵢ; with one zero in a slice only the zero's position gets the
    /// product of the others; with two or more, everything is 0 (PyTorch's prod_backward).
    /// </summary>
    static Tensor ProdBackward(Tensor g, Tensor x, Tensor y, int[] inputShape, int[] d, bool keepDim)
    {
        var gk = Unreduce(g, inputShape, d, keepDim);
        var isZero = x.Eq(0.0);
        bool anyZero;
        using (Torch.NoGrad()) anyZero = isZero.AnyNonzero();
        if (!anyZero) return gk * Unreduce(y, inputShape, d, keepDim) / x;
        var zerosPerSlice = isZero.To(DType.Int64).Sum(d, keepDim: true);
        var othersProduct = Prod(Torch.Where(isZero, Torch.OnesLike(x), x), d, keepDim: true); // product of the non-zero entries
        var withoutZero = Unreduce(y, inputShape, d, keepDim) / Torch.Where(isZero, Torch.OnesLike(x), x);
        var oneZero = Torch.Where(isZero, othersProduct.Expand(inputShape), Torch.ZerosLike(x));
        var grad = Torch.Where(zerosPerSlice.Eq(0.0), withoutZero, Torch.Where(zerosPerSlice.Eq(1.0), oneZero, Torch.ZerosLike(x)));
        return gk * grad;
    }

    /// <summary>max/min over several dims (torch.amax/amin): the gradient is shared evenly between tied extremes.</summary>
    public static Tensor AMaxMin(Tensor x, int[]? dims, bool keepDim, bool max)
    {
        var d = NormalizeDims(x, dims, max ? "amax" : "amin");
        foreach (var i in d)
            if (x.shape[i] == 0) throw new ArgumentException($"{(max ? "amax" : "amin")}: cannot reduce over dim {i} of size 0 (shape {x.Shape})");
        var y = Backend.Of(x).Reduce(max ? ReduceOp.Max : ReduceOp.Min, x, d, keepDim);
        var inputShape = x.shape;
        return Recording.Unary(y, max ? "AmaxBackward0" : "AminBackward0", x, g =>
        {
            var mask = x.Eq(Unreduce(y, inputShape, d, keepDim)).To(g.DType);
            return Unreduce(g, inputShape, d, keepDim) * mask / mask.Sum(d, keepDim: true);
        }, x, y);
    }

    /// <summary>The Euclidean norm over dims; its gradient x/‖x‖ is defined as 0 where ‖x‖ = 0, as PyTorch does.</summary>
    public static Tensor Norm2(Tensor x, int[]? dims, bool keepDim)
    {
        var d = NormalizeDims(x, dims, "norm");
        Tensor y;
        using (Torch.NoGrad()) y = x.Square().Sum(d, keepDim).Sqrt();
        var inputShape = x.shape;
        return Recording.Unary(y, "NormBackward1", x, g =>
        {
            var yk = Unreduce(y, inputShape, d, keepDim);
            return (Unreduce(g, inputShape, d, keepDim) * x / yk).MaskedFill(yk.Eq(0.0), 0.0);
        }, x, y);
    }

    /// <summary>max/min over all elements; the gradient is shared evenly between tied maxima, as PyTorch does.</summary>
    public static Tensor MaxAll(Tensor x, bool max)
    {
        var d = NormalizeDims(x, null, "max");
        if (x.NumEl == 0) throw new ArgumentException($"{(max ? "max" : "min")}: expected a non-empty tensor");
        var y = Backend.Of(x).Reduce(max ? ReduceOp.Max : ReduceOp.Min, x, d, false);
        return Recording.Unary(y, max ? "MaxBackward1" : "MinBackward1", x, g =>
        {
            var mask = x.Eq(y).To(g.DType);
            return mask * (g / mask.Sum());
        }, x, y);
    }

    public static (Tensor Values, Tensor Indices) MaxDim(Tensor x, int dim, bool keepDim, bool max)
    {
        int d = Tensor.NormalizeDim(dim, x.Rank, max ? "max" : "min");
        if (x.Rank == 0) return (x.Clone(), Torch.Scalar(0L, DType.Int64));
        var (values, indices) = Backend.Of(x).ArgReduce(max, x, d, keepDim);
        var inputShape = x.shape;
        Recording.Unary(values, max ? "MaxBackward0" : "MinBackward0", x, g =>
        {
            var gk = keepDim ? g : g.Unsqueeze(d);
            var ik = keepDim ? indices : indices.Unsqueeze(d);
            return Torch.Zeros(inputShape, g.DType).ScatterAdd(d, ik, gk);
        });
        return (values, indices);
    }

    public static Tensor Softmax(Tensor x, int dim, bool log)
    {
        if (!x.DType.IsFloatingPoint()) x = x.To(DType.Float32);
        x = PrecisionOps.Float32ForAutocast(x); // autocast keeps softmax and log_softmax in float32
        int d = Tensor.NormalizeDim(dim, x.shape, log ? "log_softmax" : "softmax"); // first: a 0-D input takes dim 0 or -1 only
        if (x.Rank == 0) return log ? Torch.ZerosLike(x) : Torch.OnesLike(x);
        var y = Backend.Of(x).Softmax(x, d, log);
        // One fused kernel for the plain backward; the composed form when a graph of the backward is requested.
        if (log)
            return Recording.Unary(y, "LogSoftmaxBackward0", x, g => GradMode.IsEnabled || g.DType != y.DType || g.Shape != y.Shape
                ? g - y.Exp() * g.Sum([d], keepDim: true)
                : Backend.Of(g).SoftmaxBackward(g, y, d, log: true), y);
        return Recording.Unary(y, "SoftmaxBackward0", x, g => GradMode.IsEnabled || g.DType != y.DType || g.Shape != y.Shape
            ? y * (g - (g * y).Sum([d], keepDim: true))
            : Backend.Of(g).SoftmaxBackward(g, y, d, log: false), y);
    }
}
