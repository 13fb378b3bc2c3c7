using Ember.Autograd;

namespace Ember.Ops;

/// <summary>
/// Order statistics and counting: median, quantile, mode, bincount, histc. The order statistics are built on the stable
/// sort (values gathered, so gradients reach the selected elements); the counts have no gradient, as in PyTorch.
/// </summary>
internal static class StatisticsOps
{
    /// <summary>The lower median of all elements; the gradient is shared evenly between elements equal to it (PyTorch's evenly_distribute_backward).</summary>
    public static Tensor Median(Tensor x)
    {
        if (x.NumEl == 0) throw new ArgumentException("median: expected a non-empty tensor");
        Tensor y;
        using (Torch.NoGrad())
        {
            var sorted = x.Reshape(-1).Sort(0).Values;
            y = sorted.Select(0, (x.NumEl - 1) / 2).Clone();
        }
        return Recording.Unary(y, "MedianBackward0", x, g =>
        {
            var mask = x.Eq(y).To(g.DType);
            return mask * (g / mask.Sum());
        }, x, y);
    }

    /// <summary>The lower median along dim and its index (the stable sort's), the gradient going to that index.</summary>
    public static (Tensor Values, Tensor Indices) Median(Tensor x, int dim, bool keepDim)
    {
        int d = x.Rank == 0 ? 0 : Tensor.NormalizeDim(dim, x.Rank, "median");
        if (x.Rank == 0) return (x.Clone(), Torch.Scalar(0L, DType.Int64));
        int n = x.shape[d];
        if (n == 0) throw new ArgumentException($"median: cannot reduce dim {d} of size 0 (shape {x.Shape})");
        var order = x.Detach().Sort(d).Indices.Narrow(d, (n - 1) / 2, 1);
        var values = x.Gather(d, order);
        return keepDim ? (values, order) : (values.Squeeze(d), order.Squeeze(d));
    }

    /// <summary>
    /// Quantiles q ∈ [0, 1] along dim (or of all elements when dim is null) with PyTorch's interpolations (torch.quantile).
    /// A 1-D q adds a leading dim of its length; a 0-D q does not. Composed from sort, gather and lerp, as ATen's.
    /// </summary>
    public static Tensor Quantile(Tensor x, Tensor q, int? dim, bool keepDim, QuantileInterpolation interpolation)
    {
        const string op = "quantile";
        if (!x.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: input tensor must be either float or double dtype, got {x.DType.TorchName()}");
        if (q.Rank > 1) throw new ArgumentException($"{op}: q must be a scalar or 1D tensor, got shape {q.Shape}");
        var qs = q.Detach().To(DType.Float64).Reshape(-1).ToArray<double>();
        foreach (var v in qs)
            if (!(v >= 0 && v <= 1)) throw new ArgumentException($"{op}: q values must be in the range [0, 1], got {v}");
        var src = dim is null ? x.Reshape(-1) : x;
        int d = dim is null ? 0 : Tensor.NormalizeDim(dim.Value, x.Rank, op);
        int n = src.shape[d];
        if (n == 0) throw new ArgumentException($"{op}: input tensor must be non-empty along dim {d} (shape {x.Shape})");
        var sorted = src.Sort(d).Values;
        var results = new Tensor[qs.Length];
        for (int k = 0; k < qs.Length; k++)
        {
            double rank = qs[k] * (n - 1);
            int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
            Tensor below = sorted.Narrow(d, lo, 1), above = sorted.Narrow(d, hi, 1);
            results[k] = interpolation switch
            {
                QuantileInterpolation.Lower => below,
                QuantileInterpolation.Higher => above,
                QuantileInterpolation.Midpoint => lo == hi ? below : (below + above) * 0.5,
                // round half to even, as torch.round
                QuantileInterpolation.Nearest => Math.Round(rank, MidpointRounding.ToEven) == lo ? below : above,
                _ => lo == hi ? below : below + (above - below) * (rank - lo),
            };
        }
        for (int k = 0; k < results.Length; k++)
        {
            var r = results[k];
            if (dim is null) r = keepDim ? r.Reshape(Enumerable.Repeat(1, x.Rank).ToArray()) : r.Reshape([]);
            else if (!keepDim) r = r.Squeeze(d);
            results[k] = r;
        }
        return q.Rank == 0 ? results[0] : Torch.Stack(results, 0);
    }

    /// <summary>
    /// The most frequent value along dim and the index of its last occurrence (torch.mode); among equally frequent
    /// values the smallest wins. The gradient goes to that index.
    /// </summary>
    public static (Tensor Values, Tensor Indices) Mode(Tensor x, int dim, bool keepDim)
    {
        if (x.Rank == 0) return (x.Clone(), Torch.Scalar(0L, DType.Int64));
        int d = Tensor.NormalizeDim(dim, x.Rank, "mode");
        int n = x.shape[d];
        if (n == 0) throw new ArgumentException($"mode: cannot reduce dim {d} of size 0 (shape {x.Shape})");
        var moved = x.Detach().Transpose(d, -1).Contiguous().To(DType.Float64);
        var v = moved.ToArray<double>();
        int rows = v.Length / n;
        var picked = new long[rows];
        var order = new int[n];
        var keys = new double[n];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < n; i++) { order[i] = i; keys[i] = v[r * n + i]; }
            Array.Sort((double[])keys.Clone(), order); // ascending values; equal values keep no particular order
            int bestCount = 0; long bestIndex = 0;
            for (int i = 0; i < n;)
            {
                int j = i; long last = order[i];
                while (j < n && keys[order[j]].Equals(keys[order[i]])) { last = Math.Max(last, order[j]); j++; }
                if (j - i > bestCount) { bestCount = j - i; bestIndex = last; } // strictly more: the smallest value wins ties
                i = j;
            }
            picked[r] = bestIndex;
        }
        var outShape = (int[])moved.shape.Clone(); outShape[^1] = 1;
        var index = Torch.FromArray(picked, outShape).Transpose(d, -1).Contiguous();
        var values = x.Gather(d, index);
        return keepDim ? (values, index) : (values.Squeeze(d), index.Squeeze(d));
    }

    /// <summary>Counts of each value of a 1-D non-negative int64 tensor, or the sums of their weights (torch.bincount).</summary>
    public static Tensor Bincount(Tensor x, Tensor? weights, int minLength)
    {
        const string op = "bincount";
        if (x.Rank != 1 || x.DType != DType.Int64) throw new ArgumentException($"{op}: expected a 1-D int64 tensor, got {x.DType.TorchName()} of shape {x.Shape}");
        if (minLength < 0) throw new ArgumentException($"{op}: minlength should be >= 0, got {minLength}");
        if (weights is not null && weights.Shape != x.Shape)
            throw new ArgumentException($"{op}: weights should be 1-d and have the same length as input, got {weights.Shape} for input {x.Shape}");
        var values = x.ToArray<long>();
        long max = -1;
        foreach (var v in values)
        {
            if (v < 0) throw new ArgumentException($"{op}: input should contain only non-negative values, got {v}");
            max = Math.Max(max, v);
        }
        int bins = (int)Math.Max(max + 1, minLength);
        if (weights is null)
        {
            var counts = new long[bins];
            foreach (var v in values) counts[v]++;
            return Torch.FromArray(counts, [bins]);
        }
        var w = weights.Detach().To(DType.Float64).ToArray<double>();
        var sums = new double[bins];
        for (int i = 0; i < values.Length; i++) sums[values[i]] += w[i];
        // PyTorch: float weights give float output, any other weights give double
        var dtype = weights.DType == DType.Float32 ? DType.Float32 : DType.Float64;
        return Torch.FromArray(sums, [bins]).To(dtype);
    }

    /// <summary>
    /// A histogram of <paramref name="bins"/> equal bins over [min, max] (torch.histc); min = max = 0 takes the data's
    /// range. Values outside are ignored; max itself falls in the last bin.
    /// </summary>
    public static Tensor Histc(Tensor x, int bins, double min, double max)
    {
        const string op = "histc";
        if (!x.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: expected a floating-point input, got {x.DType.TorchName()}");
        if (bins <= 0) throw new ArgumentException($"{op}: bins must be > 0, got {bins}");
        var v = x.Detach().To(DType.Float64).Reshape(-1).ToArray<double>();
        if (min == max && v.Length > 0) { min = v.Min(); max = v.Max(); }
        if (min == max) { min -= 1; max += 1; }
        if (min > max) throw new ArgumentException($"{op}: max must be larger than min, got min {min} and max {max}");
        var counts = new double[bins];
        foreach (var e in v)
        {
            if (e < min || e > max || double.IsNaN(e)) continue;
            int b = (int)((e - min) * bins / (max - min));
            if (b == bins) b--;
            counts[b]++;
        }
        return Torch.FromArray(counts, [bins]).To(x.DType);
    }
}
