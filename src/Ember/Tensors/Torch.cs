using Ember.Autograd;
using Ember.Backends;
using Ember.Kernels.Threading;
using Ember.Ops;

namespace Ember;

/// <summary>The torch namespace: grad mode, seeding, threads and the free functions.</summary>
public static partial class Torch
{
    /// <summary>Disables graph recording until disposed: <c>using (Torch.NoGrad()) { ... }</c> (torch.no_grad).</summary>
    public static GradMode.Scope NoGrad() => new(false);

    /// <summary>Enables graph recording until disposed (torch.enable_grad).</summary>
    public static GradMode.Scope EnableGrad() => new(true);

    /// <summary>
    /// Turns on anomaly detection until disposed (torch.autograd.detect_anomaly): nodes remember their forward call's
    /// stack, and backward throws <see cref="AnomalyException"/> naming the first node whose gradient holds NaN or Inf and
    /// the user's line that created it. <paramref name="checkNan"/> false keeps only the stacks.
    /// </summary>
    public static AnomalyMode.Scope DetectAnomaly(bool checkNan = true) => new(true, checkNan);

    /// <summary>
    /// Activation checkpointing (torch.utils.checkpoint.checkpoint, use_reentrant=True): runs <paramref name="function"/>
    /// without keeping its activations and runs it again during backward, trading compute for memory. With
    /// <paramref name="preserveRngState"/> (the default) the default generator is rewound for the recomputation, so dropout
    /// inside draws the same mask; an explicit generator passed to dropout is not rewound. Gradients reach parameters used
    /// inside through <see cref="Tensor.Backward"/>; <see cref="Grad(Tensor[], Tensor[], Tensor?[], bool, bool, bool)"/> through a
    /// checkpoint throws, as PyTorch's reentrant checkpoint does.
    /// </summary>
    public static Tensor Checkpoint(Func<Tensor[], Tensor> function, Tensor[] inputs, bool preserveRngState = true)
        => Checkpointing.Checkpoint(function, inputs, preserveRngState);

    /// <summary>Whether operations are recorded (torch.is_grad_enabled).</summary>
    public static bool IsGradEnabled => GradMode.IsEnabled;

    /// <summary>Seeds the default generator (torch.manual_seed).</summary>
    public static Generator ManualSeed(long seed) => Generator.Default.ManualSeed(seed);

    /// <summary>Threads used by kernels (torch.set_num_threads). Results do not depend on it.</summary>
    public static int NumThreads
    {
        get => ParallelRange.MaxThreads;
        set => ParallelRange.MaxThreads = value;
    }

    /// <summary>
    /// Whether tensor buffers of 32 KiB and up are recycled through Ember's storage pool once their tensors are
    /// collected (default on): steady-state training then reuses the same buffers instead of faulting in fresh memory.
    /// </summary>
    public static bool PoolStorage
    {
        get => Backends.Cpu.StoragePool.Enabled;
        set => Backends.Cpu.StoragePool.Enabled = value;
    }

    /// <summary>
    /// The most bytes of free buffers the storage pool keeps now; beyond it the least recently wanted sizes are dropped
    /// to the GC. The pool sizes it itself: it starts at min(1 GiB, an eighth of the available memory), grows when sizes
    /// it had to drop are asked for again (a working set larger than the limit), up to a quarter of the available memory,
    /// and comes back down when the sizes it grew for are no longer asked for. Setting it fixes the limit for the
    /// process (a user's override, e.g. to hold less memory); <see cref="EmptyCache"/> does not undo that.
    /// </summary>
    public static long PoolLimitBytes
    {
        get => Backends.Cpu.StoragePool.LimitBytes;
        set => Backends.Cpu.StoragePool.LimitBytes = value;
    }

    /// <summary>Releases the buffers waiting in the storage pool to the GC (torch.cuda.empty_cache's counterpart).</summary>
    public static void EmptyCache() => Backends.Cpu.StoragePool.Clear();

    /// <summary>Backward from <paramref name="outputs"/>, returning the gradients of <paramref name="inputs"/> instead of accumulating them (torch.autograd.grad).</summary>
    public static Tensor?[] Grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? gradOutputs = null, bool retainGraph = false, bool createGraph = false, bool allowUnused = false)
        => Engine.Grad(outputs, inputs, gradOutputs, retainGraph || createGraph, createGraph, allowUnused);

    /// <summary>Gradient of a single output with respect to inputs.</summary>
    public static Tensor?[] Grad(Tensor output, Tensor[] inputs, bool retainGraph = false, bool createGraph = false, bool allowUnused = false)
        => Grad([output], inputs, null, retainGraph, createGraph, allowUnused);

    /// <summary>Joins tensors along an existing dim (torch.cat).</summary>
    public static Tensor Cat(Tensor[] tensors, int dim = 0) => IndexingOps.Cat(tensors, dim);

    /// <summary>Joins tensors along a new dim (torch.stack).</summary>
    public static Tensor Stack(Tensor[] tensors, int dim = 0)
    {
        if (tensors.Length == 0) throw new ArgumentException("stack: expects a non-empty list of tensors");
        for (int k = 1; k < tensors.Length; k++)
            if (tensors[k].Shape != tensors[0].Shape)
                throw new ArgumentException($"stack: expects each tensor to be equal size, but got {tensors[0].Shape} at entry 0 and {tensors[k].Shape} at entry {k}");
        int d = Ember.Tensor.NormalizeDim(dim, tensors[0].Rank + 1, "stack");
        return Recording.Named(Cat(tensors.Select(t => t.Unsqueeze(d)).ToArray(), d), "StackBackward0", tensors);
    }

    /// <summary>condition ? a : b, broadcasting (torch.where).</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b) => BinaryOps.Where(condition, a, b);

    /// <summary>condition ? a : scalar.</summary>
    public static Tensor Where(Tensor condition, Tensor a, double b) => Where(condition, a, Scalar(b, a.DType));

    /// <summary>Matrix product (torch.matmul).</summary>
    public static Tensor MatMul(Tensor a, Tensor b) => a.MatMul(b);

    /// <summary>One-hot encoding of int64 class indices; numClasses −1 infers max + 1 (torch.nn.functional.one_hot).</summary>
    public static Tensor OneHot(Tensor indices, int numClasses = -1)
    {
        if (indices.DType != DType.Int64) throw new ArgumentException($"one_hot: expected an int64 tensor of class indices, got {indices.DType.TorchName()}");
        var flat = indices.Contiguous().ToArray<long>();
        if (numClasses < 0) numClasses = flat.Length == 0 ? 0 : (int)flat.Max() + 1;
        var result = new long[flat.Length * numClasses];
        for (int i = 0; i < flat.Length; i++)
        {
            if (flat[i] < 0 || flat[i] >= numClasses)
                throw new ArgumentException($"one_hot: class value {flat[i]} at position {i} is out of range [0, {numClasses})");
            result[i * numClasses + flat[i]] = 1;
        }
        return FromArray(result, [.. indices.shape, numClasses]);
    }

    /// <summary>
    /// Pads the last dims (torch.nn.functional.pad): <paramref name="pad"/> lists (left, right) pairs starting from the last dim.
    /// Constant mode fills with value; reflect mirrors without repeating the edge; replicate repeats the edge.
    /// </summary>
    public static Tensor Pad(Tensor x, int[] pad, PaddingMode mode = PaddingMode.Constant, double value = 0)
    {
        if (pad.Length % 2 != 0 || pad.Length / 2 > x.Rank)
            throw new ArgumentException($"pad: padding length must be even and at most twice the rank ({x.Rank}), got {pad.Length}");
        var y = x;
        for (int k = 0; k < pad.Length / 2; k++)
        {
            int d = x.Rank - 1 - k;
            int left = pad[2 * k], right = pad[2 * k + 1];
            if (left == 0 && right == 0) continue;
            int n = y.Size(d);
            if (mode == PaddingMode.Constant)
            {
                if (left < 0) { y = y.Narrow(d, -left, n + left); n += left; left = 0; }
                if (right < 0) { y = y.Narrow(d, 0, n + right); right = 0; }
                var parts = new List<Tensor>();
                var sideShape = y.Shape.ToArray();
                if (left > 0) { sideShape[d] = left; parts.Add(Full(sideShape, value, y.DType)); }
                parts.Add(y);
                if (right > 0) { sideShape[d] = right; parts.Add(Full(sideShape, value, y.DType)); }
                y = Cat(parts.ToArray(), d);
                continue;
            }
            if (mode == PaddingMode.Reflect && (left >= n || right >= n))
                throw new ArgumentException($"pad: padding size should be less than the corresponding input dimension, but got padding ({left}, {right}) at dimension {d} of input {x.Shape}");
            var index = new long[left + n + right];
            for (int i = 0; i < index.Length; i++)
            {
                int p = i - left;
                index[i] = mode == PaddingMode.Reflect
                    ? (p < 0 ? -p : p >= n ? 2 * (n - 1) - p : p)
                    : Math.Clamp(p, 0, n - 1);
            }
            y = y.IndexSelect(d, FromArray(index, [index.Length]));
        }
        return y;
    }
}
