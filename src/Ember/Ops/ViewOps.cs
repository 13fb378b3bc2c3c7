using Ember.Autograd;
using Ember.Backends;

namespace Ember.Ops;

/// <summary>
/// Views: new layouts over the same storage. Each backward is the inverse movement (or, for sub-views, writing the
/// gradient into zeros at the same place), written with differentiable ops.
/// </summary>
internal static class ViewOps
{
    static Tensor View(Tensor x, int[] shape, int[] strides, int offset) => new(x.storage, shape, strides, offset);

    public static Tensor Reshape(Tensor x, int[] requested, string op)
    {
        var shape = InferShape(requested, x.NumEl, x.shape, op);
        var strides = ViewStrides(x, shape);
        Tensor y;
        if (strides is not null) y = View(x, shape, strides, x.offset);
        else
        {
            if (op == "view")
                throw new InvalidOperationException($"view: shape {Shape.Format(shape)} is incompatible with the input's layout (size {x.Shape}, strides {Shape.Format(x.strides)}); use Reshape() or Contiguous() first");
            using (Torch.NoGrad()) y = View(x.Contiguous(), shape, Tensor.ContiguousStrides(shape), 0);
        }
        var inputShape = x.shape;
        // PyTorch: a reshape that can view is ViewBackward0; one that copies is clone + _unsafe_view
        return Recording.Unary(y, strides is not null ? "ViewBackward0" : "UnsafeViewBackward0", x, g => g.Reshape(inputShape));
    }

    /// <summary>Resolves one −1 and checks the element count.</summary>
    static int[] InferShape(int[] requested, int numel, int[] from, string op)
    {
        var shape = (int[])requested.Clone();
        int infer = -1, known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension can be inferred (shape {Shape.Format(requested)})");
                infer = i;
            }
            else if (shape[i] < 0) throw new ArgumentException($"{op}: invalid shape dimension {shape[i]} in {Shape.Format(requested)}");
            else known *= shape[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || numel % known != 0)
                throw new ArgumentException($"{op}: shape {Shape.Format(requested)} is invalid for input of size {numel} (shape {Shape.Format(from)})");
            shape[infer] = numel / known;
        }
        else if (known != numel)
            throw new ArgumentException($"{op}: shape {Shape.Format(requested)} is invalid for input of size {numel} (shape {Shape.Format(from)})");
        return shape;
    }

    /// <summary>Strides that view x with <paramref name="shape"/> without copying, or null when a copy is needed (PyTorch's computeStride).</summary>
    static int[]? ViewStrides(Tensor x, int[] shape)
    {
        if (x.IsContiguous) return Tensor.ContiguousStrides(shape);
        var oldShape = x.shape; var oldStrides = x.strides;
        var newStrides = new int[shape.Length];
        if (x.NumEl == 0) return Tensor.ContiguousStrides(shape);
        int viewD = shape.Length - 1;
        int chunkBaseStride = oldStrides.Length > 0 ? oldStrides[^1] : 1;
        int tensorNumel = 1, viewNumel = 1;
        for (int tensorD = oldShape.Length - 1; tensorD >= 0; tensorD--)
        {
            tensorNumel *= oldShape[tensorD];
            if (tensorD == 0 || (oldShape[tensorD - 1] != 1 && oldStrides[tensorD - 1] != tensorNumel * chunkBaseStride))
            {
                while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] == 1))
                {
                    newStrides[viewD] = viewNumel * chunkBaseStride;
                    viewNumel *= shape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (tensorD > 0) { chunkBaseStride = oldStrides[tensorD - 1]; tensorNumel = 1; viewNumel = 1; }
            }
        }
        return viewD == -1 ? newStrides : null;
    }

    public static Tensor Permute(Tensor x, int[] dims)
    {
        int rank = x.Rank;
        if (dims.Length != rank)
            throw new ArgumentException($"permute: number of dims don't match (input rank {rank}, got {dims.Length} dims {Shape.Format(dims)})");
        var seen = new bool[rank];
        var shape = new int[rank]; var strides = new int[rank]; var inverse = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int d = Tensor.NormalizeDim(dims[i], rank, "permute");
            if (seen[d]) throw new ArgumentException($"permute: dim {d} repeats in {Shape.Format(dims)}");
            seen[d] = true;
            shape[i] = x.shape[d]; strides[i] = x.strides[d]; inverse[d] = i;
        }
        return Recording.Unary(View(x, shape, strides, x.offset), "PermuteBackward0", x, g => g.Permute(inverse));
    }

    public static Tensor Transpose(Tensor x, int dim0, int dim1)
    {
        int rank = x.Rank;
        if (rank == 0) return x;
        int a = Tensor.NormalizeDim(dim0, rank, "transpose"), b = Tensor.NormalizeDim(dim1, rank, "transpose");
        var shape = (int[])x.shape.Clone(); var strides = (int[])x.strides.Clone();
        (shape[a], shape[b]) = (shape[b], shape[a]);
        (strides[a], strides[b]) = (strides[b], strides[a]);
        return Recording.Unary(View(x, shape, strides, x.offset), "TransposeBackward0", x, g => g.Transpose(a, b));
    }

    public static Tensor Expand(Tensor x, int[] sizes)
    {
        if (sizes.Length < x.Rank)
            throw new ArgumentException($"expand: the number of sizes provided ({sizes.Length}) must be greater or equal to the number of dimensions in the tensor ({x.Rank})");
        int lead = sizes.Length - x.Rank;
        var shape = new int[sizes.Length]; var strides = new int[sizes.Length];
        for (int i = 0; i < sizes.Length; i++)
        {
            int target = sizes[i];
            if (i < lead)
            {
                if (target < 0) throw new ArgumentException($"expand: the expanded size {target} is not allowed in a leading, non-existing dimension {i}");
                shape[i] = target; strides[i] = 0; continue;
            }
            int have = x.shape[i - lead];
            if (target == -1) target = have;
            if (have != target && have != 1)
                throw new ArgumentException($"expand: the expanded size of the tensor ({target}) must match the existing size ({have}) at non-singleton dimension {i}. Target sizes: {Shape.Format(sizes)}. Tensor sizes: {x.Shape}");
            shape[i] = target;
            strides[i] = have == target ? x.strides[i - lead] : 0;
        }
        var inputShape = x.shape;
        return Recording.Unary(View(x, shape, strides, x.offset), "ExpandBackward0", x, g => g.SumTo(inputShape));
    }

    /// <summary>Elements start, start+step, … (fewer than end) along dim: the view behind narrow and slicing.</summary>
    public static Tensor Slice(Tensor x, int dim, int start, int end, int step)
    {
        int d = Tensor.NormalizeDim(dim, x.Rank, "slice");
        int size = x.shape[d];
        if (step <= 0) throw new ArgumentException($"slice: step must be positive, got {step}");
        if (start < 0) start += size;
        if (end < 0) end += size;
        start = Math.Clamp(start, 0, size);
        end = Math.Clamp(end, start, size);
        int length = (end - start + step - 1) / step;
        var shape = (int[])x.shape.Clone(); var strides = (int[])x.strides.Clone();
        shape[d] = length; strides[d] *= step;
        var y = View(x, shape, strides, x.offset + start * x.strides[d]);
        var inputShape = x.shape;
        return Recording.Unary(y, "SliceBackward0", x, g => SliceBackward(g, inputShape, d, start, end, step));
    }

    /// <summary>Zeros of the input's shape with the gradient written into the sliced place.</summary>
    static Tensor SliceBackward(Tensor g, int[] inputShape, int dim, int start, int end, int step)
    {
        var result = Torch.Zeros(inputShape, g.DType);
        using (Torch.NoGrad()) Slice(result, dim, start, end, step).CopyFrom(g);
        return Recording.Unary(result, "SliceBackwardBackward0", g, gg => gg.Slice(dim, start, end, step));
    }

    public static Tensor Narrow(Tensor x, int dim, int start, int length)
    {
        int d = Tensor.NormalizeDim(dim, x.Rank, "narrow");
        int size = x.shape[d];
        if (start < 0) start += size;
        if (start < 0 || length < 0 || start + length > size)
            throw new ArgumentOutOfRangeException(nameof(start), $"narrow: start ({start}) + length ({length}) exceeds dimension size ({size}) of dim {d} (shape {x.Shape})");
        return Slice(x, d, start, start + length, 1);
    }

    public static Tensor Select(Tensor x, int dim, int index)
    {
        int d = Tensor.NormalizeDim(dim, x.Rank, "select");
        int size = x.shape[d];
        if (index < -size || index >= size)
            throw new IndexOutOfRangeException($"select: index {index} is out of bounds for dimension {d} with size {size} (shape {x.Shape})");
        if (index < 0) index += size;
        var shape = new int[x.Rank - 1]; var strides = new int[x.Rank - 1];
        for (int i = 0, j = 0; i < x.Rank; i++) if (i != d) { shape[j] = x.shape[i]; strides[j] = x.strides[i]; j++; }
        var y = View(x, shape, strides, x.offset + index * x.strides[d]);
        var inputShape = x.shape;
        return Recording.Unary(y, "SelectBackward0", x, g => SliceBackward(g.Unsqueeze(d), inputShape, d, index, index + 1, 1));
    }

    public static Tensor Squeeze(Tensor x, int[]? dims)
    {
        var keep = new List<int>();
        var normalized = dims?.Select(d => Tensor.NormalizeDim(d, x.Rank, "squeeze")).ToArray();
        for (int i = 0; i < x.Rank; i++)
        {
            bool candidate = normalized is null || Array.IndexOf(normalized, i) >= 0;
            if (!(candidate && x.shape[i] == 1)) keep.Add(i);
        }
        var shape = keep.Select(i => x.shape[i]).ToArray();
        var strides = keep.Select(i => x.strides[i]).ToArray();
        var inputShape = x.shape;
        // PyTorch: squeeze() is SqueezeBackward0, squeeze(dim) SqueezeBackward1, squeeze(dims) SqueezeBackward2
        string name = dims is null ? "SqueezeBackward0" : dims.Length == 1 ? "SqueezeBackward1" : "SqueezeBackward2";
        return Recording.Unary(View(x, shape, strides, x.offset), name, x, g => g.Reshape(inputShape));
    }

    public static Tensor Unsqueeze(Tensor x, int dim)
    {
        int d = Tensor.NormalizeDim(dim, x.Rank + 1, "unsqueeze");
        var shape = new List<int>(x.shape); var strides = new List<int>(x.strides);
        int stride = d < x.Rank ? x.shape[d] * x.strides[d] : 1;
        shape.Insert(d, 1); strides.Insert(d, stride);
        return Recording.Unary(View(x, shape.ToArray(), strides.ToArray(), x.offset), "UnsqueezeBackward0", x, g => g.Squeeze(d));
    }

    /// <summary>A differentiable copy into fresh contiguous storage (also the backward of nothing: the gradient passes through).</summary>
    public static Tensor Clone(Tensor x)
    {
        var y = Backend.Of(x).Empty(x.DType, (int[])x.shape.Clone(), false);
        Backend.Of(x).Copy(x, y);
        return Recording.Unary(y, "CloneBackward0", x, g => g);
    }

    public static Tensor To(Tensor x, DType dtype)
    {
        if (x.DType == dtype) return x;
        var y = Backend.Of(x).Empty(dtype, (int[])x.shape.Clone(), false);
        Backend.Of(x).Copy(x, y);
        if (dtype.IsFloatingPoint() && x.DType.IsFloatingPoint())
        {
            var from = x.DType;
            return Recording.Unary(y, "ToCopyBackward0", x, g => g.To(from));
        }
        return y;
    }
}
