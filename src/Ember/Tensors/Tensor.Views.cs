using Ember.Backends;
using Ember.Ops;

namespace Ember;

public partial class Tensor
{
    /// <summary>A view with a new shape; fails if the layout needs a copy (torch.Tensor.view). One dim may be −1.</summary>
    public Tensor View(params int[] shape) => ViewOps.Reshape(this, shape, "view");

    /// <summary>A view with a new shape when possible, otherwise a copy (torch.reshape). One dim may be −1.</summary>
    public Tensor Reshape(params int[] shape) => ViewOps.Reshape(this, shape, "reshape");

    /// <summary>Swaps two dimensions (torch.transpose).</summary>
    public Tensor Transpose(int dim0, int dim1) => ViewOps.Transpose(this, dim0, dim1);

    /// <summary>Reorders dimensions (torch.permute).</summary>
    public Tensor Permute(params int[] dims) => ViewOps.Permute(this, dims);

    /// <summary>Reverses the dimensions (torch.Tensor.T; for a matrix, its transpose).</summary>
    public Tensor T => Rank < 2 ? this : Permute(Enumerable.Range(0, Rank).Reverse().ToArray());

    /// <summary>Transposes the last two dimensions (torch.Tensor.mT).</summary>
    public Tensor MT => Rank < 2
        ? throw new InvalidOperationException($"mT: tensor must have at least 2 dimensions, got shape {Shape}")
        : Transpose(-2, -1);

    /// <summary>A view of <paramref name="length"/> elements along dim from <paramref name="start"/> (torch.narrow).</summary>
    public Tensor Narrow(int dim, int start, int length) => ViewOps.Narrow(this, dim, start, length);

    /// <summary>A strided slice start:end:step along dim (Python's x[..., start:end:step]); bounds clamp like Python.</summary>
    public Tensor Slice(int dim, int start, int end, int step = 1) => ViewOps.Slice(this, dim, start, end, step);

    /// <summary>Removes dim by taking one index (torch.select).</summary>
    public Tensor Select(int dim, int index) => ViewOps.Select(this, dim, index);

    /// <summary>Broadcasts to a larger shape without copying (torch.expand); −1 keeps a size.</summary>
    public Tensor Expand(params int[] sizes) => ViewOps.Expand(this, sizes);

    /// <summary>Expands to the shape of <paramref name="other"/>.</summary>
    public Tensor ExpandAs(Tensor other) => Expand(other.shape);

    /// <summary>Removes all size-1 dimensions, or only the listed ones (torch.squeeze).</summary>
    public Tensor Squeeze(params int[] dims) => ViewOps.Squeeze(this, dims.Length == 0 ? null : dims);

    /// <summary>Inserts a size-1 dimension at dim (torch.unsqueeze).</summary>
    public Tensor Unsqueeze(int dim) => ViewOps.Unsqueeze(this, dim);

    /// <summary>Flattens dims startDim..endDim into one (torch.flatten).</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        int s = NormalizeDim(startDim, shape, "flatten"), e = NormalizeDim(endDim, shape, "flatten"); // first: a 0-D input takes 0 or -1 only
        if (Rank == 0) return Reshape(1);
        if (s > e) throw new ArgumentException($"flatten: start_dim ({startDim}) cannot come after end_dim ({endDim})");
        if (s == e) return this;
        var newShape = new List<int>();
        for (int d = 0; d < s; d++) newShape.Add(shape[d]);
        int merged = 1;
        for (int d = s; d <= e; d++) merged *= shape[d];
        newShape.Add(merged);
        for (int d = e + 1; d < Rank; d++) newShape.Add(shape[d]);
        return Reshape(newShape.ToArray());
    }

    /// <summary>Splits dim into <paramref name="sizes"/> (torch.unflatten).</summary>
    public Tensor Unflatten(int dim, params int[] sizes)
    {
        int d = NormalizeDim(dim, shape, "unflatten");
        var newShape = new List<int>(shape[..d]);
        newShape.AddRange(sizes);
        newShape.AddRange(shape[(d + 1)..]);
        int known = 1, inferred = -1;
        for (int i = 0; i < sizes.Length; i++) if (sizes[i] == -1) inferred = d + i; else known *= sizes[i];
        if (inferred >= 0) newShape[inferred] = known == 0 ? 0 : shape[d] / known;
        else if (known != shape[d])
            throw new ArgumentException($"unflatten: provided sizes {Shape.Format(sizes)} don't multiply up to the size of dim {d} ({shape[d]}) in the input tensor");
        return Reshape(newShape.ToArray());
    }

    /// <summary>This tensor if contiguous, otherwise a contiguous copy (torch.Tensor.contiguous).</summary>
    public Tensor Contiguous() => IsContiguous ? this : ViewOps.Clone(this);

    /// <summary>A copy with its own storage, recorded for autograd (torch.clone).</summary>
    public Tensor Clone() => ViewOps.Clone(this);

    /// <summary>A tensor sharing storage but cut from the graph (torch.Tensor.detach).</summary>
    public Tensor Detach() => new(storage, shape, strides, offset);

    /// <summary>Converts the element type (torch.Tensor.to(dtype)); returns this tensor when the type already matches.</summary>
    public Tensor To(DType dtype) => ViewOps.To(this, dtype);

    /// <summary>Moves to a device; only the CPU exists today.</summary>
    public Tensor To(Device device) { _ = Backend.Of(device); return this; }

    /// <summary>Splits into pieces of <paramref name="splitSize"/> along dim (the last may be smaller) (torch.split).</summary>
    public Tensor[] Split(int splitSize, int dim = 0)
    {
        int d = NormalizeDim(dim, Rank, "split");
        if (splitSize <= 0) throw new ArgumentException($"split: split_size must be positive, got {splitSize}");
        int n = Math.Max(1, (shape[d] + splitSize - 1) / splitSize);
        var parts = new Tensor[n];
        for (int i = 0; i < n; i++) parts[i] = Narrow(d, i * splitSize, Math.Min(splitSize, shape[d] - i * splitSize));
        return parts;
    }

    /// <summary>Splits into pieces of the given sizes along dim (torch.split with a list).</summary>
    public Tensor[] Split(int[] sizes, int dim = 0)
    {
        int d = NormalizeDim(dim, Rank, "split");
        if (sizes.Sum() != shape[d]) throw new ArgumentException($"split: sizes {Shape.Format(sizes)} must sum to the size of dim {d} ({shape[d]})");
        var parts = new Tensor[sizes.Length];
        for (int i = 0, start = 0; i < sizes.Length; start += sizes[i], i++) parts[i] = Narrow(d, start, sizes[i]);
        return parts;
    }

    /// <summary>Splits into <paramref name="chunks"/> pieces of size ceil(n/chunks) along dim (torch.chunk).</summary>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        if (chunks <= 0) throw new ArgumentException($"chunk: chunks must be positive, got {chunks}");
        int d = NormalizeDim(dim, Rank, "chunk");
        return Split(Math.Max(1, (shape[d] + chunks - 1) / chunks), d);
    }

    /// <summary>Indexing in the Python style: ints select, ranges slice, <see cref="TensorIndex.Slice"/> adds steps, <see cref="TensorIndex.Ellipsis"/> and <see cref="TensorIndex.NewAxis"/>.</summary>
    [System.Runtime.CompilerServices.IndexerName("Index")]
    public Tensor this[params TensorIndex[] indices] => TensorIndex.Apply(this, indices);
}
