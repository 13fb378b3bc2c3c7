using System.Runtime.CompilerServices;
using Ember.Autograd;

namespace Ember;

/// <summary>
/// An n-dimensional array with autograd (torch.Tensor): a storage plus a layout (shape, strides, offset).
/// Views share storage and never copy. The API is split by concern across partial files
/// (layout and views, elementwise, reductions, linear algebra, indexing, in-place).
/// </summary>
public partial class Tensor : IDisposable
{
    readonly Storage heldStorage;
    internal readonly int[] shape;
    internal readonly int[] strides;
    internal readonly int offset;
    bool requiresGrad;
    internal Node? gradFn;
    internal bool retainsGrad;

    internal Tensor(Storage storage, int[] shape, int[] strides, int offset)
    {
        heldStorage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        // Dispose hands a buffer back only if this is the one handle ever made over it.
        if (storage is PooledStorage pooled) Interlocked.Increment(ref pooled.Handles);
    }

    /// <summary>
    /// The storage, as Ember's own code reaches it (every op and data access): throws once this handle is disposed,
    /// except to a backward pass that reads a disposed handle whose buffer was kept (see <see cref="Dispose"/>).
    /// </summary>
    internal Storage storage
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (disposal != Live) ThrowIfDisposed();
            return heldStorage;
        }
    }

    /// <summary>The storage whether or not this handle is disposed: for bookkeeping that reads no elements (which storage, how large).</summary>
    internal Storage StorageEvenIfDisposed => heldStorage;

    internal Tensor(Storage storage, int[] shape) : this(storage, shape, ContiguousStrides(shape), 0) { }

    /// <summary>Element type.</summary>
    public DType DType => storage.DType;

    /// <summary>The shape (torch.Tensor.shape).</summary>
    public Shape Shape => Shape.Wrap(shape);

    /// <summary>Number of dimensions (torch.Tensor.dim()).</summary>
    public int Rank => shape.Length;

    /// <summary>Number of elements (torch.Tensor.numel()).</summary>
    public int NumEl
    {
        get { int n = 1; foreach (var d in shape) n *= d; return n; }
    }

    /// <summary>Extent of <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => shape[NormalizeDim(dim, shape.Length, "size")];

    /// <summary>Element strides (torch.Tensor.stride()).</summary>
    public int[] Strides => (int[])strides.Clone();

    /// <summary>Offset of the first element in the storage (torch.Tensor.storage_offset()).</summary>
    public int StorageOffset => offset;

    /// <summary>The device the tensor lives on. Only the CPU exists today; the seam is kept for a GPU backend.</summary>
    public Device Device => Device.Cpu;

    /// <summary>Whether operations on this tensor are recorded for autograd.</summary>
    public bool RequiresGrad
    {
        get => requiresGrad || gradFn != null;
        set
        {
            if (gradFn != null && !value)
                throw new InvalidOperationException($"requires_grad: can only change the flag of leaf tensors (this one was produced by {gradFn.Name}); use Detach()");
            if (value && !DType.IsFloatingPoint())
                throw new InvalidOperationException($"requires_grad: only floating point tensors can require gradients (dtype is {DType.TorchName()})");
            requiresGrad = value;
        }
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor (torch.Tensor.requires_grad_()).</summary>
    public Tensor RequiresGradInPlace(bool value = true) { RequiresGrad = value; return this; }

    /// <summary>The accumulated gradient of a leaf (or of a tensor that called <see cref="RetainGrad"/>).</summary>
    public Tensor? Grad
    {
        get { if (disposal != Live) ThrowIfDisposed(); return field; }
        set { if (disposal != Live) ThrowIfDisposed(); field = value; }
    }

    /// <summary>True for tensors not produced by a recorded operation.</summary>
    public bool IsLeaf => gradFn == null;

    /// <summary>The operation that produced this tensor, e.g. "MulBackward0", or null for a leaf.</summary>
    public string? GradFn => gradFn?.Name;

    internal Node? Node => gradFn;

    /// <summary>Keeps <see cref="Grad"/> for this non-leaf tensor during backward (torch.Tensor.retain_grad()).</summary>
    public void RetainGrad() => retainsGrad = true;

    /// <summary>Number of in-place modifications of the underlying storage (torch.Tensor._version).</summary>
    public int Version => storage.Version;

    /// <summary>True when the elements are laid out row-major without gaps.</summary>
    public bool IsContiguous
    {
        get
        {
            if (NumEl == 0) return true; // as PyTorch: an empty tensor is contiguous whatever its strides
            int expected = 1;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (shape[d] != 1 && strides[d] != expected) return false;
                expected *= shape[d];
            }
            return true;
        }
    }

    internal static int[] ContiguousStrides(int[] shape) => Ember.Kernels.Loops.Elementwise.ContiguousStrides(shape);

    /// <summary><see cref="NormalizeDim(int, int, string)"/> whose error also names the input's shape (what came).</summary>
    internal static int NormalizeDim(int dim, int[] shape, string op)
    {
        int r = Math.Max(shape.Length, 1);
        if (dim < -r || dim >= r)
            throw new ArgumentOutOfRangeException(nameof(dim), $"{op}: dimension out of range (expected to be in range of [{-r}, {r - 1}], but got {dim}) for input of shape {Ember.Shape.Format(shape)}");
        return dim < 0 ? dim + r : dim;
    }

    internal static int NormalizeDim(int dim, int rank, string op)
    {
        int r = Math.Max(rank, 1);
        if (dim < -r || dim >= r)
            throw new ArgumentOutOfRangeException(nameof(dim), $"{op}: dimension out of range (expected to be in range of [{-r}, {r - 1}], but got {dim})");
        return dim < 0 ? dim + r : dim;
    }

    /// <summary>The contiguous data of this tensor as a span (only for contiguous tensors; for internal kernels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Span<T> Span<T>()
    {
        int n = NumEl;
        // an empty view may sit past the end of its (empty) storage, as the chunks of an empty tensor do
        return n == 0 ? System.Span<T>.Empty : storage.As<T>().AsSpan(offset, n);
    }

    internal void BumpVersion() => storage.Version++;

    internal void SetGradFn(Node node) => gradFn = node;
}
