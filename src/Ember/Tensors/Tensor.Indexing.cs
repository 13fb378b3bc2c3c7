using Ember.Backends.Cpu;
using Ember.Ops;

namespace Ember;

public partial class Tensor
{
    /// <summary>Picks values along dim by an int64 index of the same rank (torch.gather).</summary>
    public Tensor Gather(int dim, Tensor index) => IndexingOps.Gather(this, dim, index);
    /// <summary>A copy with src written at index along dim (torch.scatter).</summary>
    public Tensor Scatter(int dim, Tensor index, Tensor src) => IndexingOps.Scatter(this, dim, index, src, accumulate: false);
    /// <summary>A copy with a scalar written at index along dim (torch.scatter with value).</summary>
    public Tensor Scatter(int dim, Tensor index, double value) => IndexingOps.Scatter(this, dim, index, Torch.Full(index.shape, value, DType), accumulate: false);
    /// <summary>A copy with src added at index along dim; repeated indices accumulate (torch.scatter_add).</summary>
    public Tensor ScatterAdd(int dim, Tensor index, Tensor src) => IndexingOps.Scatter(this, dim, index, src, accumulate: true);
    /// <summary>Slices along dim picked by a 1-D int64 index (torch.index_select).</summary>
    public Tensor IndexSelect(int dim, Tensor index) => IndexingOps.IndexSelect(this, dim, index);
    /// <summary>A copy with src's slices added at index along dim (torch.index_add).</summary>
    public Tensor IndexAdd(int dim, Tensor index, Tensor src) => IndexingOps.IndexAdd(this, dim, index, src);

    /// <summary>The elements where mask (broadcast) is true, as a 1-D tensor (torch.masked_select).</summary>
    public Tensor MaskedSelect(Tensor mask)
    {
        if (mask.DType != DType.Bool) throw new ArgumentException($"masked_select: expected a bool mask, got {mask.DType.TorchName()}");
        var shapeAll = Broadcasting.Shape(shape, mask.shape, "masked_select");
        var flatMask = mask.Expand(shapeAll).Reshape(-1);
        var positions = CpuBackend.Instance.Nonzero(flatMask).Reshape(-1);
        return Expand(shapeAll).Reshape(-1).IndexSelect(0, positions);
    }

    /// <summary>Values and indices sorted along dim, stable (torch.sort).</summary>
    public (Tensor Values, Tensor Indices) Sort(int dim = -1, bool descending = false) => IndexingOps.Sort(this, dim, descending);
    /// <summary>Indices that sort along dim (torch.argsort).</summary>
    public Tensor ArgSort(int dim = -1, bool descending = false) => Sort(dim, descending).Indices;
    /// <summary>The k largest (or smallest) values and their indices along dim (torch.topk).</summary>
    public (Tensor Values, Tensor Indices) TopK(int k, int dim = -1, bool largest = true, bool sorted = true) => IndexingOps.TopK(this, k, dim, largest, sorted);
    /// <summary>Coordinates of the non-zero elements, [n, rank] (torch.nonzero).</summary>
    public Tensor Nonzero() => CpuBackend.Instance.Nonzero(this);

    /// <summary>Lower triangle (j ≤ i + diagonal) of the last two dims, zeros elsewhere (torch.tril).</summary>
    public Tensor Tril(int diagonal = 0) => Triangle(diagonal, lower: true);
    /// <summary>Upper triangle (j ≥ i + diagonal) (torch.triu).</summary>
    public Tensor Triu(int diagonal = 0) => Triangle(diagonal, lower: false);

    Tensor Triangle(int diagonal, bool lower)
    {
        if (Rank < 2) throw new ArgumentException($"{(lower ? "tril" : "triu")}: input tensor must have at least 2 dimensions, got shape {Shape}");
        int rows = shape[^2], cols = shape[^1];
        var i = Torch.Arange(rows).Unsqueeze(1);
        var j = Torch.Arange(cols).Unsqueeze(0);
        var keep = lower ? j <= (i + diagonal) : j >= (i + diagonal);
        return MaskedFill(keep.LogicalNot(), 0.0);
    }

    /// <summary>Tiles the tensor (torch.Tensor.repeat); more repeats than dims add leading dims.</summary>
    public Tensor Repeat(params int[] repeats)
    {
        if (repeats.Length < Rank)
            throw new ArgumentException($"repeat: number of repeat dims ({repeats.Length}) can not be smaller than number of tensor dims ({Rank})");
        var x = Reshape([.. Enumerable.Repeat(1, repeats.Length - Rank), .. shape]);
        var expandedShape = new List<int>(); var viewShape = new List<int>(); var finalShape = new List<int>();
        for (int d = 0; d < repeats.Length; d++)
        {
            viewShape.Add(1); viewShape.Add(x.shape[d]);
            expandedShape.Add(repeats[d]); expandedShape.Add(x.shape[d]);
            finalShape.Add(repeats[d] * x.shape[d]);
        }
        return x.Reshape(viewShape.ToArray()).Expand(expandedShape.ToArray()).Reshape(finalShape.ToArray());
    }

    /// <summary>Reverses the order along dims (torch.flip; a copy, as in PyTorch).</summary>
    public Tensor Flip(params int[] dims) => IndexingOps.Flip(this, dims);

    /// <summary>Rolls elements along dims with wrap-around (torch.roll); without dims the flattened tensor rolls.</summary>
    public Tensor Roll(int[] shifts, int[]? dims = null)
    {
        if (dims is null || dims.Length == 0)
            return Flatten().Roll(shifts, [0]).Reshape(shape);
        if (shifts.Length != dims.Length) throw new ArgumentException($"roll: shifts ({shifts.Length}) and dims ({dims.Length}) must align");
        var y = this;
        for (int k = 0; k < dims.Length; k++)
        {
            int d = NormalizeDim(dims[k], Rank, "roll");
            int n = shape[d];
            if (n == 0) continue;
            int s = ((shifts[k] % n) + n) % n;
            if (s == 0) continue;
            y = Torch.Cat([y.Narrow(d, n - s, s), y.Narrow(d, 0, n - s)], d);
        }
        return y;
    }

    /// <summary>Rolls by one shift along one dim.</summary>
    public Tensor Roll(int shift, int dim) => Roll([shift], [dim]);
}
