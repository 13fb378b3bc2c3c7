using Ember.Ops;

namespace Ember;

public partial class Tensor
{
    /// <summary>Removes dim, returning every slice along it as a view (torch.unbind).</summary>
    public Tensor[] Unbind(int dim = 0)
    {
        int d = NormalizeDim(dim, Rank, "unbind");
        var parts = new Tensor[shape[d]];
        for (int i = 0; i < parts.Length; i++) parts[i] = Select(d, i);
        return parts;
    }

    /// <summary>Repeats each element <paramref name="repeats"/> times along dim, or over the flattened tensor when dim is null (torch.repeat_interleave).</summary>
    public Tensor RepeatInterleave(int repeats, int? dim = null)
    {
        if (repeats < 0) throw new ArgumentException($"repeat_interleave: repeats must be non-negative, got {repeats}");
        var x = dim is null ? Reshape(-1) : this;
        int d = dim is null ? 0 : NormalizeDim(dim.Value, Rank, "repeat_interleave");
        // element i goes to positions i·r .. i·r + r − 1: a view [.., n, r, ..] that flattens, as PyTorch does for an int
        var expanded = new int[x.Rank + 1];
        for (int i = 0, j = 0; i < expanded.Length; i++) expanded[i] = i == d + 1 ? repeats : x.shape[j++];
        var result = x.Unsqueeze(d + 1).Expand(expanded);
        var final = (int[])x.shape.Clone();
        final[d] *= repeats;
        return result.Reshape(final);
    }

    /// <summary>
    /// Repeats element i of dim <paramref name="repeats"/>[i] times (torch.repeat_interleave with a tensor of counts);
    /// over the flattened tensor when dim is null. Backward sums the copies (index_select's adjoint).
    /// </summary>
    public Tensor RepeatInterleave(Tensor repeats, int? dim = null)
    {
        var x = dim is null ? Reshape(-1) : this;
        int d = dim is null ? 0 : NormalizeDim(dim.Value, Rank, "repeat_interleave");
        if (repeats.Rank > 1) throw new ArgumentException($"repeat_interleave: repeats must be 0-D or 1-D, got shape {repeats.Shape}");
        if (repeats.NumEl == 1 && x.shape[d] != 1) repeats = repeats.Reshape(1).Expand(x.shape[d]);
        if (repeats.NumEl != x.shape[d])
            throw new ArgumentException($"repeat_interleave: repeats must have the same size as input along dim {d}, got {repeats.NumEl} repeats for size {x.shape[d]}");
        return x.IndexSelect(d, Torch.RepeatInterleave(repeats));
    }

    /// <summary>
    /// Picks values along dim by <paramref name="indices"/>, broadcasting the other dims (torch.take_along_dim, NumPy's
    /// take_along_axis); with dim null both are flattened first.
    /// </summary>
    public Tensor TakeAlongDim(Tensor indices, int? dim = null)
    {
        if (indices.DType != DType.Int64)
            throw new ArgumentException($"take_along_dim: expected indices of dtype torch.int64, got {indices.DType.TorchName()}");
        if (dim is null) return Reshape(-1).Gather(0, indices.Reshape(-1));
        if (indices.Rank != Rank)
            throw new ArgumentException($"take_along_dim: input and indices should have the same number of dimensions, but got {Rank} dimensions for input, and {indices.Rank} dimensions for indices");
        int d = NormalizeDim(dim.Value, Rank, "take_along_dim");
        var selfSizes = (int[])shape.Clone(); selfSizes[d] = indices.shape[d];
        var indexShape = Broadcasting.Shape(selfSizes, indices.shape, "take_along_dim");
        var indexSizes = (int[])indices.shape.Clone(); indexSizes[d] = shape[d];
        var selfShape = Broadcasting.Shape(indexSizes, shape, "take_along_dim");
        return Expand(selfShape).Gather(d, indices.Expand(indexShape));
    }

    /// <summary>Cumulative sum along dim (torch.cumsum); integer and bool inputs give int64.</summary>
    public Tensor Cumsum(int dim) => ScanOps.Cumsum(this, dim);

    /// <summary>Cumulative product along dim (torch.cumprod); the gradient is exact where the input has zeros.</summary>
    public Tensor Cumprod(int dim) => ScanOps.Cumprod(this, dim);

    /// <summary>Remainder with the divisor's sign, Python's a % b (torch.remainder).</summary>
    public Tensor Remainder(Tensor other) => RemainderOps.Apply(this, other, remainder: true);
    /// <summary>Remainder by a scalar, with the divisor's sign (torch.remainder).</summary>
    public Tensor Remainder(double other) => RemainderOps.Apply(this, ScalarOperand(other), remainder: true);
    /// <summary>Remainder with the dividend's sign, C's fmod (torch.fmod).</summary>
    public Tensor Fmod(Tensor other) => RemainderOps.Apply(this, other, remainder: false);
    /// <summary>fmod by a scalar (torch.fmod).</summary>
    public Tensor Fmod(double other) => RemainderOps.Apply(this, ScalarOperand(other), remainder: false);

    // a Python scalar next to a tensor: an integral value keeps an int64 tensor integral, a fraction makes it float32
    Tensor ScalarOperand(double value)
        => DType == DType.Int64 && value == Math.Floor(value) ? Torch.Scalar(value, DType.Int64) : ScalarLike(value);
}
