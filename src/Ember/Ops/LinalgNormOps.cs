namespace Ember.Ops;

/// <summary>
/// torch.linalg.vector_norm, matrix_norm and norm, composed from reductions and the SVD, so their gradients (ties
/// shared evenly for max/min, 0 at a zero 2-norm) are those of the parts, as in ATen's own compositions.
/// </summary>
internal static class LinalgNormOps
{
    public static Tensor VectorNorm(Tensor x, double ord, int[]? dim, bool keepDim)
    {
        const string op = "linalg.vector_norm";
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: Expected a floating point tensor as input. Got {x.DType.TorchName()}");
        var dims = ReductionOps.NormalizeDims(x, dim, op);
        if (ord == 2) return ReductionOps.Norm2(x, dims, keepDim);
        if (ord == 1) return x.Abs().Sum(dims, keepDim);
        if (double.IsPositiveInfinity(ord)) return x.Abs().Amax(dims, keepDim);
        if (double.IsNegativeInfinity(ord)) return x.Abs().Amin(dims, keepDim);
        if (ord == 0) { using (Torch.NoGrad()) return x.Ne(0.0).To(x.DType).Sum(dims, keepDim); }
        if (double.IsNaN(ord)) throw new ArgumentException($"{op}: ord must be a number or ±inf, got NaN");
        return x.Abs().Pow(ord).Sum(dims, keepDim).Pow(1 / ord);
    }

    public static Tensor MatrixNorm(Tensor a, double ord, int[]? dim, bool keepDim)
    {
        const string op = "linalg.matrix_norm";
        var (rows, cols) = Dims(a, dim, op);
        if (!(Math.Abs(ord) == 1 || Math.Abs(ord) == 2 || double.IsInfinity(ord)))
            throw new ArgumentException($"{op}: Order {ord} not supported (expected ±1, ±2, ±inf, or MatrixNormOrd.Fro / Nuc)");
        var m = Last(a, rows, cols);                                  // [..., r, c]
        Tensor y;
        if (Math.Abs(ord) == 2)
        {
            var s = LinalgFactorOps.Svd(m, fullMatrices: false).S;
            y = ord > 0 ? s.Amax([-1]) : s.Amin([-1]);
        }
        else
        {
            // ord ±1: column sums (over rows); ord ±inf: row sums (over columns)
            var sums = m.Abs().Sum(Math.Abs(ord) == 1 ? -2 : -1);
            y = ord > 0 ? sums.Amax([-1]) : sums.Amin([-1]);
        }
        return keepDim ? Restore(y, rows, cols) : y;
    }

    public static Tensor MatrixNorm(Tensor a, MatrixNormOrd ord, int[]? dim, bool keepDim)
    {
        const string op = "linalg.matrix_norm";
        var (rows, cols) = Dims(a, dim, op);
        if (ord == MatrixNormOrd.Fro) return ReductionOps.Norm2(a, [rows, cols], keepDim);
        var y = LinalgFactorOps.Svd(Last(a, rows, cols), fullMatrices: false).S.Sum(-1);
        return keepDim ? Restore(y, rows, cols) : y;
    }

    /// <summary>
    /// torch.linalg.norm: without ord, the 2-norm of the flattened input (dim null) or of the given dims (Frobenius for
    /// two); with a numeric ord, a vector norm for one dim (or 1-D input) and a matrix norm for two (or 2-D input).
    /// </summary>
    public static Tensor Norm(Tensor a, double? ord, int[]? dim, bool keepDim)
    {
        const string op = "linalg.norm";
        if (dim is { Length: > 2 } or { Length: 0 })
            throw new ArgumentException($"{op}: If dim is specified, it must be of length 1 or 2. Got [{string.Join(", ", dim)}]");
        if (ord is null)
        {
            if (dim is null)
            {
                var y = ReductionOps.Norm2(a, null, keepDim: false);
                return keepDim ? y.Reshape(Enumerable.Repeat(1, a.Rank).ToArray()) : y;
            }
            return ReductionOps.Norm2(a, dim, keepDim);
        }
        if (dim is null)
        {
            if (a.Rank == 1) return VectorNorm(a, ord.Value, null, keepDim);
            if (a.Rank == 2) return MatrixNorm(a, ord.Value, null, keepDim);
            throw new ArgumentException($"{op}: If dim is not specified but ord is, the input must be 1D or 2D. Got {a.Rank}D.");
        }
        return dim.Length == 1 ? VectorNorm(a, ord.Value, dim, keepDim) : MatrixNorm(a, ord.Value, dim, keepDim);
    }

    public static Tensor Norm(Tensor a, MatrixNormOrd ord, int[]? dim, bool keepDim)
    {
        if (dim is null && a.Rank != 2)
            throw new ArgumentException($"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {a.Rank}D.");
        if (dim is { Length: not 2 })
            throw new ArgumentException($"linalg.norm: ord {ord} is a matrix norm and needs 2 dims, got [{string.Join(", ", dim)}]");
        return MatrixNorm(a, ord, dim, keepDim);
    }

    static (int Rows, int Cols) Dims(Tensor a, int[]? dim, string op)
    {
        if (!a.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: Expected a floating point tensor as input. Got {a.DType.TorchName()}");
        dim ??= [-2, -1];
        if (dim.Length != 2) throw new ArgumentException($"{op}: dim must be a 2-tuple. Got [{string.Join(", ", dim)}]");
        if (a.Rank < 2) throw new ArgumentException($"{op}: The input tensor A must have at least 2 dimensions, got shape {a.Shape}.");
        int rows = Tensor.NormalizeDim(dim[0], a.Rank, op), cols = Tensor.NormalizeDim(dim[1], a.Rank, op);
        if (rows == cols) throw new ArgumentException($"{op}: dims must be different. Got ({dim[0]}, {dim[1]})");
        return (rows, cols);
    }

    // the two matrix dims moved last, in (rows, cols) order
    static Tensor Last(Tensor a, int rows, int cols)
    {
        var order = new List<int>();
        for (int i = 0; i < a.Rank; i++) if (i != rows && i != cols) order.Add(i);
        order.Add(rows); order.Add(cols);
        return a.Permute([.. order]);
    }

    static Tensor Restore(Tensor y, int rows, int cols)
    {
        foreach (var d in rows < cols ? [rows, cols] : new[] { cols, rows }) y = y.Unsqueeze(d);
        return y;
    }
}
