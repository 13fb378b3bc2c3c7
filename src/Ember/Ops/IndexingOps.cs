using Ember.Autograd;
using Ember.Backends.Cpu;

namespace Ember.Ops;

/// <summary>Gather/scatter, index_select/index_add, joining and reordering; each backward is the adjoint indexing op.</summary>
internal static class IndexingOps
{
    static CpuBackend Cpu => CpuBackend.Instance;

    static void CheckIndex(Tensor index, string op)
    {
        if (index.DType != DType.Int64)
            throw new ArgumentException($"{op}: expected index of dtype torch.int64, got {index.DType.TorchName()}");
    }

    public static Tensor Gather(Tensor x, int dim, Tensor index)
    {
        CheckIndex(index, "gather");
        int d = Tensor.NormalizeDim(dim, x.Rank, "gather");
        if (index.Rank != x.Rank)
            throw new ArgumentException($"gather: index tensor must have the same number of dimensions as input ({index.Rank} vs {x.Rank})");
        for (int i = 0; i < x.Rank; i++)
            if (i != d && index.shape[i] > x.shape[i])
                throw new ArgumentException($"gather: size of index ({index.Shape}) must not exceed the input ({x.Shape}) apart from dim {d}");
        var y = Cpu.Gather(x, d, index);
        var inputShape = x.shape;
        return Recording.Unary(y, "GatherBackward0", x, g => Torch.Zeros(inputShape, g.DType).ScatterAdd(d, index, g));
    }

    public static Tensor Scatter(Tensor x, int dim, Tensor index, Tensor src, bool accumulate)
    {
        string op = accumulate ? "scatter_add" : "scatter";
        CheckIndex(index, op);
        int d = Tensor.NormalizeDim(dim, x.Rank, op);
        if (index.Rank != x.Rank || src.Rank != x.Rank)
            throw new ArgumentException($"{op}: index ({index.Shape}) and src ({src.Shape}) must have the same number of dimensions as self ({x.Shape})");
        for (int i = 0; i < x.Rank; i++)
        {
            if (i != d && index.shape[i] > x.shape[i])
                throw new ArgumentException($"{op}: expected index {index.Shape} to be no larger than self {x.Shape} apart from dimension {d} (dim {i})");
            if (index.shape[i] > src.shape[i])
                throw new ArgumentException($"{op}: expected index {index.Shape} to be no larger than src {src.Shape} (dim {i})");
        }
        // like PyTorch, only the leading index-shaped block of src is read
        var block = src;
        for (int i = 0; i < x.Rank; i++) if (block.shape[i] != index.shape[i]) block = block.Detach().Narrow(i, 0, index.shape[i]);
        var y = x.Detach().Clone();
        Cpu.Scatter(y, d, index, block.Detach().To(x.DType), accumulate);
        string name = accumulate ? "ScatterAddBackward0" : "ScatterBackward0";
        var srcShape = src.shape;
        return Recording.Binary(y, name, x, src,
            g => accumulate ? g : g.Scatter(d, index, 0.0),
            g => PadTo(g.Gather(d, index), srcShape));
    }

    /// <summary>Zero-pads g at the end of each dim up to <paramref name="shape"/> (the adjoint of taking the leading block).</summary>
    static Tensor PadTo(Tensor g, int[] shape)
    {
        if (g.shape.AsSpan().SequenceEqual(shape)) return g;
        var pad = new int[2 * shape.Length];
        for (int i = 0; i < shape.Length; i++) pad[2 * (shape.Length - 1 - i) + 1] = shape[i] - g.shape[i];
        return Torch.Pad(g, pad);
    }

    public static Tensor IndexSelect(Tensor x, int dim, Tensor index)
    {
        CheckIndex(index, "index_select");
        if (index.Rank > 1) throw new ArgumentException($"index_select: index must be 0-D or 1-D, got shape {index.Shape}");
        int d = Tensor.NormalizeDim(dim, x.Rank, "index_select");
        var y = Cpu.IndexSelect(x, d, index);
        var inputShape = x.shape;
        return Recording.Unary(y, "IndexSelectBackward0", x, g => Torch.Zeros(inputShape, g.DType).IndexAdd(d, index, g));
    }

    public static Tensor IndexAdd(Tensor x, int dim, Tensor index, Tensor src)
    {
        CheckIndex(index, "index_add");
        int d = Tensor.NormalizeDim(dim, x.Rank, "index_add");
        if (index.Rank > 1) throw new ArgumentException($"index_add: index must be 0-D or 1-D, got shape {index.Shape}");
        bool srcOk = src.Rank == x.Rank && src.shape[d] == index.NumEl;
        for (int i = 0; srcOk && i < x.Rank; i++) srcOk = i == d || src.shape[i] == x.shape[i];
        if (!srcOk)
            throw new ArgumentException($"index_add: source {src.Shape} must match self {x.Shape} except in dim {d}, where it must equal the number of indices ({index.NumEl})");
        var y = x.Detach().Clone();
        Cpu.IndexAdd(y, d, index, src.Detach().To(x.DType));
        return Recording.Binary(y, "IndexAddBackward0", x, src, g => g, g => g.IndexSelect(d, index));
    }

    public static Tensor Cat(Tensor[] tensors, int dim)
    {
        if (tensors.Length == 0) throw new ArgumentException("cat: expected a non-empty list of tensors");
        var first = tensors.FirstOrDefault(t => !(t.Rank == 1 && t.NumEl == 0)) ?? tensors[0];
        int d = Tensor.NormalizeDim(dim, first.Rank, "cat");
        var dtype = tensors.Select(t => t.DType).Aggregate(DTypeExtensions.Promote);
        var shape = (int[])first.shape.Clone();
        int total = 0;
        var parts = new List<Tensor>();
        for (int k = 0; k < tensors.Length; k++)
        {
            var t = tensors[k];
            if (t.Rank == 1 && t.NumEl == 0 && first.Rank != 1) continue; // legacy: empty 1-D tensors are skipped
            if (t.Rank != first.Rank)
                throw new ArgumentException($"cat: tensors must have the same number of dimensions: got {first.Rank} and {t.Rank} (tensor {k})");
            for (int i = 0; i < t.Rank; i++)
                if (i != d && t.shape[i] != shape[i])
                    throw new ArgumentException($"cat: sizes of tensors must match except in dimension {d}: expected size {shape[i]} but got size {t.shape[i]} for tensor number {k} in the list (dim {i})");
            total += t.shape[d];
            parts.Add(t);
        }
        shape[d] = total;
        var y = Cpu.Empty(dtype, shape, false);
        int offset = 0;
        var sizes = new int[parts.Count];
        for (int k = 0; k < parts.Count; k++)
        {
            sizes[k] = parts[k].shape[d];
            Cpu.Copy(parts[k], y.Narrow(d, offset, sizes[k]).Detach());
            offset += sizes[k];
        }
        var inputs = parts.ToArray();
        return Recording.Many(y, "CatBackward0", inputs, (g, node) =>
        {
            var grads = new Tensor?[inputs.Length];
            for (int k = 0, start = 0; k < inputs.Length; start += sizes[k], k++)
                if (node.NeedsInputGrad(k)) grads[k] = g.Narrow(d, start, sizes[k]).To(inputs[k].DType);
            return grads;
        });
    }

    public static (Tensor Values, Tensor Indices) Sort(Tensor x, int dim, bool descending)
    {
        if (x.Rank == 0) return (x, Torch.Scalar(0L, DType.Int64));
        int d = Tensor.NormalizeDim(dim, x.Rank, "sort");
        var moved = x.Transpose(d, -1).Detach().Contiguous();
        var (_, indices) = Cpu.SortLastDim(moved, descending);
        var idx = indices.Transpose(d, -1).Contiguous();
        return (x.Gather(d, idx), idx);
    }

    public static (Tensor Values, Tensor Indices) TopK(Tensor x, int k, int dim, bool largest, bool sorted)
    {
        int d = Tensor.NormalizeDim(dim, x.Rank, "topk");
        int size = x.Rank == 0 ? 1 : x.shape[d];
        if (k < 0 || k > size) throw new ArgumentException($"topk: k ({k}) is out of range for dimension {d} of size {size}");
        var (_, order) = Sort(x.Detach(), d, descending: largest);
        var idx = order.Narrow(d, 0, k).Contiguous();
        return (x.Gather(d, idx), idx);
    }

    public static Tensor Flip(Tensor x, int[] dims)
    {
        var y = x.Detach();
        foreach (var dim in dims)
        {
            int d = Tensor.NormalizeDim(dim, x.Rank, "flip");
            if (y.shape[d] <= 1) continue;
            var strides = (int[])y.strides.Clone();
            int offset = y.offset + (y.shape[d] - 1) * y.strides[d];
            strides[d] = -strides[d];
            y = new Tensor(y.storage, y.shape, strides, offset);
        }
        var result = Cpu.Empty(x.DType, (int[])x.shape.Clone(), false);
        Cpu.Copy(y, result);
        return Recording.Unary(result, "FlipBackward0", x, g => g.Flip(dims));
    }
}
