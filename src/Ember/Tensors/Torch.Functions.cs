namespace Ember;

/// <summary>
/// The free-function forms PyTorch users reach for (torch.exp(x), torch.sum(x, dim), ...). Each forwards to the
/// Tensor method of the same name, which holds the documentation.
/// </summary>
public static partial class Torch
{
    /// <summary>torch.add.</summary>
    public static Tensor Add(Tensor a, Tensor b, double alpha = 1) => a.Add(b, alpha);
    /// <summary>torch.sub.</summary>
    public static Tensor Sub(Tensor a, Tensor b, double alpha = 1) => a.Sub(b, alpha);
    /// <summary>torch.mul.</summary>
    public static Tensor Mul(Tensor a, Tensor b) => a.Mul(b);
    /// <summary>torch.div.</summary>
    public static Tensor Div(Tensor a, Tensor b) => a.Div(b);
    /// <summary>torch.pow.</summary>
    public static Tensor Pow(Tensor a, Tensor exponent) => a.Pow(exponent);
    /// <summary>torch.pow with a scalar exponent.</summary>
    public static Tensor Pow(Tensor a, double exponent) => a.Pow(exponent);
    /// <summary>torch.maximum.</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => a.Maximum(b);
    /// <summary>torch.minimum.</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => a.Minimum(b);
    /// <summary>torch.neg.</summary>
    public static Tensor Neg(Tensor x) => x.Neg();
    /// <summary>torch.abs.</summary>
    public static Tensor Abs(Tensor x) => x.Abs();
    /// <summary>torch.sign.</summary>
    public static Tensor Sign(Tensor x) => x.Sign();
    /// <summary>torch.exp.</summary>
    public static Tensor Exp(Tensor x) => x.Exp();
    /// <summary>torch.log.</summary>
    public static Tensor Log(Tensor x) => x.Log();
    /// <summary>torch.log1p.</summary>
    public static Tensor Log1p(Tensor x) => x.Log1p();
    /// <summary>torch.expm1.</summary>
    public static Tensor Expm1(Tensor x) => x.Expm1();
    /// <summary>torch.sqrt.</summary>
    public static Tensor Sqrt(Tensor x) => x.Sqrt();
    /// <summary>torch.rsqrt.</summary>
    public static Tensor Rsqrt(Tensor x) => x.Rsqrt();
    /// <summary>torch.square.</summary>
    public static Tensor Square(Tensor x) => x.Square();
    /// <summary>torch.reciprocal.</summary>
    public static Tensor Reciprocal(Tensor x) => x.Reciprocal();
    /// <summary>torch.sin.</summary>
    public static Tensor Sin(Tensor x) => x.Sin();
    /// <summary>torch.cos.</summary>
    public static Tensor Cos(Tensor x) => x.Cos();
    /// <summary>torch.tanh.</summary>
    public static Tensor Tanh(Tensor x) => x.Tanh();
    /// <summary>torch.sigmoid.</summary>
    public static Tensor Sigmoid(Tensor x) => x.Sigmoid();
    /// <summary>torch.relu.</summary>
    public static Tensor Relu(Tensor x) => x.Relu();
    /// <summary>torch.erf.</summary>
    public static Tensor Erf(Tensor x) => x.Erf();
    /// <summary>torch.clamp.</summary>
    public static Tensor Clamp(Tensor x, double? min = null, double? max = null) => x.Clamp(min, max);
    /// <summary>torch.clamp with tensor bounds.</summary>
    public static Tensor Clamp(Tensor x, Tensor? min, Tensor? max) => x.Clamp(min, max);
    /// <summary>torch.where with a scalar for the true branch.</summary>
    public static Tensor Where(Tensor condition, double a, Tensor b) => Where(condition, Scalar(a, b.DType.IsFloatingPoint() ? b.DType : DType.Float32), b);
    /// <summary>torch.isnan.</summary>
    public static Tensor IsNan(Tensor x) => x.IsNan();
    /// <summary>torch.isfinite.</summary>
    public static Tensor IsFinite(Tensor x) => x.IsFinite();

    /// <summary>torch.sum over all elements.</summary>
    public static Tensor Sum(Tensor x) => x.Sum();
    /// <summary>torch.sum over one dim.</summary>
    public static Tensor Sum(Tensor x, int dim, bool keepDim = false) => x.Sum(dim, keepDim);
    /// <summary>torch.sum over several dims.</summary>
    public static Tensor Sum(Tensor x, int[] dims, bool keepDim = false) => x.Sum(dims, keepDim);
    /// <summary>torch.mean over all elements.</summary>
    public static Tensor Mean(Tensor x) => x.Mean();
    /// <summary>torch.mean over one dim.</summary>
    public static Tensor Mean(Tensor x, int dim, bool keepDim = false) => x.Mean(dim, keepDim);
    /// <summary>torch.mean over several dims.</summary>
    public static Tensor Mean(Tensor x, int[] dims, bool keepDim = false) => x.Mean(dims, keepDim);
    /// <summary>torch.prod.</summary>
    public static Tensor Prod(Tensor x) => x.Prod();
    /// <summary>torch.var.</summary>
    public static Tensor Var(Tensor x, int[]? dims = null, bool keepDim = false, double correction = 1) => x.Var(dims, keepDim, correction);
    /// <summary>torch.std.</summary>
    public static Tensor Std(Tensor x, int[]? dims = null, bool keepDim = false, double correction = 1) => x.Std(dims, keepDim, correction);
    /// <summary>torch.max over all elements.</summary>
    public static Tensor Max(Tensor x) => x.Max();
    /// <summary>torch.min over all elements.</summary>
    public static Tensor Min(Tensor x) => x.Min();
    /// <summary>torch.argmax.</summary>
    public static Tensor ArgMax(Tensor x, int? dim = null, bool keepDim = false) => x.ArgMax(dim, keepDim);
    /// <summary>torch.argmin.</summary>
    public static Tensor ArgMin(Tensor x, int? dim = null, bool keepDim = false) => x.ArgMin(dim, keepDim);
    /// <summary>torch.logsumexp.</summary>
    public static Tensor LogSumExp(Tensor x, int dim, bool keepDim = false) => x.LogSumExp(dim, keepDim);
    /// <summary>torch.softmax.</summary>
    public static Tensor Softmax(Tensor x, int dim) => x.Softmax(dim);
    /// <summary>torch.log_softmax.</summary>
    public static Tensor LogSoftmax(Tensor x, int dim) => x.LogSoftmax(dim);

    /// <summary>torch.mm.</summary>
    public static Tensor Mm(Tensor a, Tensor b) => a.Mm(b);
    /// <summary>torch.bmm.</summary>
    public static Tensor Bmm(Tensor a, Tensor b) => a.Bmm(b);
    /// <summary>torch.outer.</summary>
    public static Tensor Outer(Tensor a, Tensor b) => a.Outer(b);
    /// <summary>torch.dot.</summary>
    public static Tensor Dot(Tensor a, Tensor b) => a.Dot(b);
    /// <summary>torch.addmm.</summary>
    public static Tensor AddMm(Tensor input, Tensor m1, Tensor m2, double beta = 1, double alpha = 1) => input.AddMm(m1, m2, beta, alpha);

    /// <summary>torch.gather.</summary>
    public static Tensor Gather(Tensor x, int dim, Tensor index) => x.Gather(dim, index);
    /// <summary>torch.index_select.</summary>
    public static Tensor IndexSelect(Tensor x, int dim, Tensor index) => x.IndexSelect(dim, index);
    /// <summary>torch.masked_select.</summary>
    public static Tensor MaskedSelect(Tensor x, Tensor mask) => x.MaskedSelect(mask);
    /// <summary>torch.nonzero.</summary>
    public static Tensor Nonzero(Tensor x) => x.Nonzero();
    /// <summary>torch.flatten.</summary>
    public static Tensor Flatten(Tensor x, int startDim = 0, int endDim = -1) => x.Flatten(startDim, endDim);
    /// <summary>torch.reshape.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape) => x.Reshape(shape);
    /// <summary>torch.transpose.</summary>
    public static Tensor Transpose(Tensor x, int dim0, int dim1) => x.Transpose(dim0, dim1);
    /// <summary>torch.permute.</summary>
    public static Tensor Permute(Tensor x, params int[] dims) => x.Permute(dims);
    /// <summary>torch.squeeze.</summary>
    public static Tensor Squeeze(Tensor x, params int[] dims) => x.Squeeze(dims);
    /// <summary>torch.unsqueeze.</summary>
    public static Tensor Unsqueeze(Tensor x, int dim) => x.Unsqueeze(dim);
    /// <summary>torch.tril.</summary>
    public static Tensor Tril(Tensor x, int diagonal = 0) => x.Tril(diagonal);
    /// <summary>torch.triu.</summary>
    public static Tensor Triu(Tensor x, int diagonal = 0) => x.Triu(diagonal);
    /// <summary>torch.flip.</summary>
    public static Tensor Flip(Tensor x, params int[] dims) => x.Flip(dims);
    /// <summary>torch.roll.</summary>
    public static Tensor Roll(Tensor x, int[] shifts, int[]? dims = null) => x.Roll(shifts, dims);
    /// <summary>torch.split.</summary>
    public static Tensor[] Split(Tensor x, int splitSize, int dim = 0) => x.Split(splitSize, dim);
    /// <summary>torch.chunk.</summary>
    public static Tensor[] Chunk(Tensor x, int chunks, int dim = 0) => x.Chunk(chunks, dim);
    /// <summary>torch.sort.</summary>
    public static (Tensor Values, Tensor Indices) Sort(Tensor x, int dim = -1, bool descending = false) => x.Sort(dim, descending);
    /// <summary>torch.argsort.</summary>
    public static Tensor ArgSort(Tensor x, int dim = -1, bool descending = false) => x.ArgSort(dim, descending);
    /// <summary>torch.topk.</summary>
    public static (Tensor Values, Tensor Indices) TopK(Tensor x, int k, int dim = -1, bool largest = true, bool sorted = true) => x.TopK(k, dim, largest, sorted);
    /// <summary>torch.split with a list of sizes.</summary>
    public static Tensor[] Split(Tensor x, int[] sizes, int dim = 0) => x.Split(sizes, dim);
    /// <summary>torch.unbind.</summary>
    public static Tensor[] Unbind(Tensor x, int dim = 0) => x.Unbind(dim);
    /// <summary>torch.cumsum.</summary>
    public static Tensor Cumsum(Tensor x, int dim) => x.Cumsum(dim);
    /// <summary>torch.cumprod.</summary>
    public static Tensor Cumprod(Tensor x, int dim) => x.Cumprod(dim);
    /// <summary>torch.repeat_interleave with an int.</summary>
    public static Tensor RepeatInterleave(Tensor x, int repeats, int? dim = null) => x.RepeatInterleave(repeats, dim);
    /// <summary>torch.repeat_interleave with a tensor of counts.</summary>
    public static Tensor RepeatInterleave(Tensor x, Tensor repeats, int? dim = null) => x.RepeatInterleave(repeats, dim);
    /// <summary>torch.take_along_dim.</summary>
    public static Tensor TakeAlongDim(Tensor x, Tensor indices, int? dim = null) => x.TakeAlongDim(indices, dim);
    /// <summary>The diagonal of the (dim1, dim2) planes, as a view moved to the last dim (torch.diagonal).</summary>
    public static Tensor Diagonal(Tensor x, int offset = 0, int dim1 = 0, int dim2 = 1) => x.Diagonal(offset, dim1, dim2);
    /// <summary>
    /// Einstein summation (torch.einsum): "ij,jk->ik", "bhqd,bhkd->bhqk", "...j,jk", implicit outputs, diagonals
    /// ("ii->i", "ii" the trace, "bii->bi"); each pairwise
    /// contraction runs as one batched matrix product, operands left to right.
    /// </summary>
    public static Tensor Einsum(string equation, params Tensor[] operands) => Ops.EinsumOp.Einsum(equation, operands);
    /// <summary>torch.median.</summary>
    public static Tensor Median(Tensor x) => x.Median();
    /// <summary>torch.quantile.</summary>
    public static Tensor Quantile(Tensor x, Tensor q, int? dim = null, bool keepDim = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear) => x.Quantile(q, dim, keepDim, interpolation);
    /// <summary>torch.mode.</summary>
    public static (Tensor Values, Tensor Indices) Mode(Tensor x, int dim = -1, bool keepDim = false) => x.Mode(dim, keepDim);
    /// <summary>torch.bincount.</summary>
    public static Tensor Bincount(Tensor x, Tensor? weights = null, int minLength = 0) => x.Bincount(weights, minLength);
    /// <summary>torch.histc.</summary>
    public static Tensor Histc(Tensor x, int bins = 100, double min = 0, double max = 0) => x.Histc(bins, min, max);
    /// <summary>torch.asin.</summary>
    public static Tensor Asin(Tensor x) => x.Asin();
    /// <summary>torch.acos.</summary>
    public static Tensor Acos(Tensor x) => x.Acos();
    /// <summary>torch.atan.</summary>
    public static Tensor Atan(Tensor x) => x.Atan();
    /// <summary>torch.atan2(y, x).</summary>
    public static Tensor Atan2(Tensor y, Tensor x) => y.Atan2(x);
    /// <summary>torch.remainder.</summary>
    public static Tensor Remainder(Tensor a, Tensor b) => a.Remainder(b);
    /// <summary>torch.remainder with a scalar divisor.</summary>
    public static Tensor Remainder(Tensor a, double b) => a.Remainder(b);
    /// <summary>torch.fmod.</summary>
    public static Tensor Fmod(Tensor a, Tensor b) => a.Fmod(b);
    /// <summary>torch.fmod with a scalar divisor.</summary>
    public static Tensor Fmod(Tensor a, double b) => a.Fmod(b);

    /// <summary>
    /// torch.repeat_interleave(repeats): index i repeated repeats[i] times, [0, 0, 1, 2, 2, 2] for [2, 1, 3] (int64).
    /// </summary>
    public static Tensor RepeatInterleave(Tensor repeats)
    {
        if (repeats.Rank > 1 || repeats.DType != DType.Int64)
            throw new ArgumentException($"repeat_interleave: repeats must be a 0-D or 1-D int64 tensor, got {repeats.DType.TorchName()} of shape {repeats.Shape}");
        var counts = repeats.Reshape(-1).ToArray<long>();
        long total = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] < 0) throw new ArgumentException($"repeat_interleave: repeats can not be negative, got {counts[i]} at position {i}");
            total += counts[i];
        }
        var index = new long[total];
        for (int i = 0, k = 0; i < counts.Length; i++)
            for (long r = 0; r < counts[i]; r++) index[k++] = i;
        return FromArray(index, [index.Length]);
    }

    /// <summary>
    /// Coordinate grids from 0-D or 1-D tensors (torch.meshgrid): output k holds tensors[k] broadcast to the grid's shape
    /// [n₀, n₁, ..] (IJ) or [n₁, n₀, ..] (XY). The outputs are expanded views.
    /// </summary>
    public static Tensor[] Meshgrid(Tensor[] tensors, MeshgridIndexing indexing = MeshgridIndexing.IJ)
    {
        if (tensors.Length == 0) throw new ArgumentException("meshgrid: expects a non-empty list of tensors");
        for (int k = 0; k < tensors.Length; k++)
            if (tensors[k].Rank > 1) throw new ArgumentException($"meshgrid: expects 0-D or 1-D tensors, got shape {tensors[k].Shape} at position {k}");
        bool swap = indexing == MeshgridIndexing.XY && tensors.Length >= 2;
        // as ATen: xy is ij over the first two inputs swapped, the first two outputs swapped back
        var order = (Tensor[])tensors.Clone();
        if (swap) (order[0], order[1]) = (order[1], order[0]);
        var shape = new int[order.Length];
        for (int k = 0; k < order.Length; k++) shape[k] = order[k].NumEl;
        var grids = new Tensor[order.Length];
        for (int k = 0; k < order.Length; k++)
        {
            var view = new int[order.Length];
            Array.Fill(view, 1);
            view[k] = shape[k];
            grids[k] = order[k].Reshape(view).Expand(shape);
        }
        if (swap) (grids[0], grids[1]) = (grids[1], grids[0]);
        return grids;
    }

    /// <summary>
    /// p-norm distance between each row of x1 [.., P, M] and each row of x2 [.., R, M] → [.., P, R] (torch.cdist). p = 0
    /// counts differing coordinates (no gradient); p = 2 with more than 25 rows takes the matmul route, as PyTorch.
    /// </summary>
    public static Tensor Cdist(Tensor x1, Tensor x2, double p = 2) => Ops.DistanceOps.Cdist(x1, x2, p);
}
