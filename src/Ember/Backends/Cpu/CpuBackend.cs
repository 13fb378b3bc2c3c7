using System.Numerics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Loops;
using Ember.Kernels.Numerics;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Backends.Cpu;

/// <summary>The CPU backend: adapts tensors (storage + layout) to the span kernels of Ember.Kernels.</summary>
internal sealed partial class CpuBackend : IBackend
{
    public static readonly CpuBackend Instance = new();

    // lower-case op names for error messages, built once: Enum.ToString() on every call cost more than a 1-element add
    static readonly string[] BinaryNames = Enum.GetNames<BinaryOp>().Select(n => n.ToLowerInvariant()).ToArray();
    static readonly string[] CompareNames = Enum.GetNames<CompareOp>().Select(n => n.ToLowerInvariant()).ToArray();

    public Tensor Empty(DType dtype, int[] shape, bool zeroed)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"empty: negative dimension {d} in shape {Shape.Format(shape)}");
            count *= d;
        }
        if (count > Array.MaxLength) throw new ArgumentException($"empty: shape {Shape.Format(shape)} has {count} elements, more than a CPU tensor can hold");
        return new Tensor(Storage.Allocate(dtype, (int)count, zeroed), shape);
    }

    public void Fill(Tensor dst, double value)
    {
        using var scope = StoragePool.EnterOp();
        if (dst.IsContiguous)
        {
            var fill = new FillAction { Dst = dst, Value = value };
            DTypeDispatch.Run(dst.DType, ref fill);
            return;
        }
        var scalar = Empty(dst.DType, [], false);
        Fill(scalar, value);
        Copy(scalar, dst);
    }

    struct FillAction : IElementAction
    {
        public Tensor Dst; public double Value;
        // the value converts as a float64 tensor would (so 300 fills a uint8 tensor with 44, as PyTorch)
        public readonly void Invoke<T>() where T : unmanaged => Dst.Span<T>().Fill(Elementwise.Convert<double, T>(Value));
    }

    public void Copy(Tensor src, Tensor dst)
    {
        using var scope = StoragePool.EnterOp();
        if (TryConvertHalf(src, dst)) return;
        var copy = new CopyAction { Src = src, SrcStrides = BroadcastStrides(src, dst.shape), Dst = dst };
        DTypeDispatch.Run(src.DType, ref copy);
    }

    /// <summary>
    /// float16/bfloat16 ↔ float32 between whole contiguous tensors of one shape (autocast's casts and the widening around
    /// every half op) with vectorized conversions (<see cref="Float16Conversion"/>, <see cref="BFloat16Conversion"/>), which
    /// round to nearest even exactly as the scalar casts;
    /// the generic element loop converts one <see cref="Half"/> at a time in software.
    /// </summary>
    static bool TryConvertHalf(Tensor src, Tensor dst)
    {
        if (!(src.DType.IsReducedFloat() && dst.DType == DType.Float32 || src.DType == DType.Float32 && dst.DType.IsReducedFloat())) return false;
        if (!src.IsContiguous || !dst.IsContiguous || !src.shape.AsSpan().SequenceEqual(dst.shape)) return false;
        int n = dst.NumEl;
        // Large tensors are split between the threads (the elementwise grain): the conversion is memory-bound, and one
        // core does not saturate memory on these machines.
        var action = new ConvertHalfAction(ConvertArray(src), src.offset, ConvertArray(dst), dst.offset);
        ParallelRange.For(n, Elementwise.GrainFor(n), action);
        return true;
    }

    static Array ConvertArray(Tensor t) => t.DType switch
    {
        DType.Float16 => t.storage.As<Half>(),
        DType.BFloat16 => t.storage.As<BFloat16>(),
        _ => t.storage.As<float>(),
    };

    readonly struct ConvertHalfAction(Array src, int srcOffset, Array dst, int dstOffset) : IRangeAction
    {
        public void Invoke(int start, int end)
        {
            int n = end - start, s = srcOffset + start, d = dstOffset + start;
            switch (src, dst)
            {
                case (Half[] h, float[] f): Float16Conversion.ToSingle(h.AsSpan(s, n), f.AsSpan(d, n)); break;
                case (BFloat16[] b, float[] f): BFloat16Conversion.ToSingle(b.AsSpan(s, n), f.AsSpan(d, n)); break;
                case (float[] f, Half[] h): Float16Conversion.FromSingle(f.AsSpan(s, n), h.AsSpan(d, n)); break;
                case (float[] f, BFloat16[] b): BFloat16Conversion.FromSingle(f.AsSpan(s, n), b.AsSpan(d, n)); break;
                default: throw new InvalidOperationException($"copy: no vectorized conversion from {src.GetType().Name} to {dst.GetType().Name}");
            }
        }
    }

    // Two dispatches, source then destination, so every pair of dtypes reaches Elementwise.Copy with its own types.
    struct CopyAction : IElementAction
    {
        public Tensor Src; public int[] SrcStrides; public Tensor Dst;
        public readonly void Invoke<TSrc>() where TSrc : unmanaged
        {
            var to = new CopyTo<TSrc> { Src = Src, SrcStrides = SrcStrides, Dst = Dst };
            DTypeDispatch.Run(Dst.DType, ref to);
        }
    }

    struct CopyTo<TSrc> : IElementAction where TSrc : unmanaged
    {
        public Tensor Src; public int[] SrcStrides; public Tensor Dst;
        public readonly void Invoke<TDst>() where TDst : unmanaged
            => Elementwise.Copy<TSrc, TDst>(Src.storage.As<TSrc>(), Src.offset, SrcStrides, Dst.storage.As<TDst>(), Dst.offset, Dst.strides, Dst.shape);
    }

    /// <summary>The dtype a kernel computes <paramref name="dtype"/> in: float32 for the half types (PyTorch's "opmath" type), else itself.</summary>
    internal static DType OpMath(DType dtype) => dtype.IsReducedFloat() ? DType.Float32 : dtype;

    /// <summary>x converted to <paramref name="dtype"/> without recording a graph (x itself if it has it already).</summary>
    internal Tensor Convert(Tensor x, DType dtype)
    {
        if (x.DType == dtype) return x;
        var y = Empty(dtype, (int[])x.shape.Clone(), false);
        Copy(x, y);
        return y;
    }

    /// <summary>
    /// A float32 scratch result rounded to the half <paramref name="dtype"/>, its buffer given back to the pool at once
    /// (<see cref="Recycle"/>): the widen-compute-round paths of the half ops would otherwise leave two or three dead
    /// float32 tensors per call for a collection to find, and under autocast those misses induced several full
    /// collections per training step.
    /// </summary>
    internal Tensor Round(Tensor scratch, DType dtype)
    {
        var y = Convert(scratch, dtype);
        Recycle(scratch, y);
        return y;
    }

    /// <summary>
    /// Returns the buffer of <paramref name="scratch"/> to the storage pool now, unless it is <paramref name="source"/>
    /// itself (Convert hands back its input when the dtype already matches). Only for a tensor this op allocated and
    /// that nothing outside it has seen.
    /// </summary>
    internal static void Recycle(Tensor scratch, Tensor source)
    {
        if (!ReferenceEquals(scratch, source)) scratch.HandBack(callerMadeIt: true);
    }

    public Tensor Unary(UnaryOp op, Tensor x)
    {
        using var scope = StoragePool.EnterOp();
        // half types: computed in float32 and rounded once per element, as PyTorch's CPU kernels
        if (x.DType.IsReducedFloat()) return TryHalfUnary(op, x) ?? HalfUnaryWidened(op, x);
        // narrow integers: in int64 and wrapped back (abs(-128) stays -128 in int8, as PyTorch)
        if (x.DType is DType.Int32 or DType.Int8 or DType.UInt8) return Convert(Unary(op, Convert(x, DType.Int64)), x.DType);
        var y = Empty(x.DType, (int[])x.shape.Clone(), false);
        switch (x.DType)
        {
            case DType.Float32: UnaryTyped<float>(op, x, y); break;
            case DType.Float64: UnaryTyped<double>(op, x, y); break;
            case DType.Int64: UnaryInteger(op, x, y); break;
            default: throw DTypeExtensions.NotSupported(op.ToString().ToLowerInvariant(), x.DType);
        }
        return y;
    }

    Tensor HalfUnaryWidened(UnaryOp op, Tensor x) => Widened(x, x, x.DType, (x32, _) => Unary(op, x32));

    /// <summary>
    /// A half op computed in float32: a and b widened (each a scratch copy unless already float32), the float32
    /// <paramref name="compute"/> run, its result rounded once to <paramref name="dtype"/>; every float32 scratch goes
    /// back to the pool before returning (see <see cref="Round"/>).
    /// </summary>
    Tensor Widened(Tensor a, Tensor b, DType dtype, Func<Tensor, Tensor, Tensor> compute)
    {
        var a32 = Convert(a, DType.Float32);
        var b32 = ReferenceEquals(b, a) ? a32 : Convert(b, DType.Float32);
        var y32 = compute(a32, b32);
        var y = Round(y32, dtype);
        Recycle(a32, a);
        if (!ReferenceEquals(b32, a32)) Recycle(b32, b);
        return y;
    }

    static void UnaryTyped<T>(UnaryOp op, Tensor x, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Large contiguous inputs go through the chunked (parallel) loop too: it ends in Contiguous.Unary per chunk.
        if (x.IsContiguous && x.NumEl < Elementwise.ParallelThreshold) Contiguous.Unary(op, x.Span<T>(), y.Span<T>());
        else Elementwise.Unary(op, x.storage.As<T>(), x.offset, x.strides, x.shape, y.Span<T>());
    }

    public Tensor ReluBackward(Tensor grad, Tensor output)
    {
        using var scope = StoragePool.EnterOp();
        if (grad.DType.IsReducedFloat()) return TryHalfReluBackward(grad, output) ?? Widened(grad, output, grad.DType, (g, y) => ReluBackward(g, y));
        grad.DType.RequireFloat32Or64("relu backward");
        var g = grad.Contiguous(); var y = output.Contiguous();
        var dx = Empty(grad.DType, (int[])grad.shape.Clone(), false);
        if (grad.DType == DType.Float32) ActivationGradients.ReluBackward(g.Span<float>(), y.Span<float>(), dx.Span<float>());
        else ActivationGradients.ReluBackward(g.Span<double>(), y.Span<double>(), dx.Span<double>());
        GC.KeepAlive(g); GC.KeepAlive(y);
        return dx;
    }

    public Tensor Activation(Activation activation, Tensor x)
    {
        using var scope = StoragePool.EnterOp();
        if (x.DType.IsReducedFloat()) return Widened(x, x, x.DType, (x32, _) => Activation(activation, x32));
        x.DType.RequireFloat32Or64(activation.ToString().ToLowerInvariant());
        var xc = x.Contiguous();
        var y = Empty(x.DType, (int[])x.shape.Clone(), false);
        if (x.DType == DType.Float32) ActivationKernel.Forward(activation, xc.Span<float>(), y.Span<float>());
        else ActivationKernel.Forward(activation, xc.Span<double>(), y.Span<double>());
        GC.KeepAlive(xc);
        return y;
    }

    public Tensor ActivationBackward(Activation activation, Tensor grad, Tensor x)
    {
        using var scope = StoragePool.EnterOp();
        if (x.DType.IsReducedFloat()) return Widened(grad, x, x.DType, (g, x32) => ActivationBackward(activation, g, x32));
        x.DType.RequireFloat32Or64(activation.ToString().ToLowerInvariant() + " backward");
        var g = grad.Contiguous(); var xc = x.Contiguous();
        var dx = Empty(x.DType, (int[])x.shape.Clone(), false);
        if (x.DType == DType.Float32) ActivationKernel.Backward(activation, g.Span<float>(), xc.Span<float>(), dx.Span<float>());
        else ActivationKernel.Backward(activation, g.Span<double>(), xc.Span<double>(), dx.Span<double>());
        GC.KeepAlive(g); GC.KeepAlive(xc);
        return dx;
    }

    static void UnaryInteger(UnaryOp op, Tensor x, Tensor y)
    {
        var xc = x.IsContiguous ? x : x.Detach().Contiguous();
        var s = xc.Span<long>();
        var d = y.Span<long>();
        for (int i = 0; i < s.Length; i++)
            d[i] = op switch
            {
                UnaryOp.Neg => -s[i],
                UnaryOp.Abs => Math.Abs(s[i]),
                UnaryOp.Sign => Math.Sign(s[i]),
                UnaryOp.Square => s[i] * s[i],
                UnaryOp.Floor or UnaryOp.Ceil or UnaryOp.Round or UnaryOp.Trunc => s[i],
                _ => throw new NotSupportedException($"{op.ToString().ToLowerInvariant()}: not implemented for torch.int64 (convert with To(DType.Float32))"),
            };
    }

    public Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        using var scope = StoragePool.EnterOp();
        // A half-type result is computed in float32 and rounded once. The other operand may be a float32 0-d tensor: a
        // scalar operand is not rounded to half first (PyTorch's original_scalar_value), so h * 0.1 uses 0.1f.
        if (a.DType.IsReducedFloat() || b.DType.IsReducedFloat())
        {
            var outType = a.DType.IsReducedFloat() ? a.DType : b.DType;
            if (TryHalfBinary(op, a, b) is { } chunked) return chunked;
            return Widened(a, b, outType, (a32, b32) => Binary(op, a32, b32));
        }
        var shape = Broadcasting.Shape(a.shape, b.shape, BinaryNames[(int)op]);
        var y = Empty(a.DType, shape, false);
        switch (a.DType)
        {
            case DType.Float32: BinaryTyped<float>(op, a, b, y); break;
            case DType.Float64: BinaryTyped<double>(op, a, b, y); break;
            case DType.Int64: BinaryTyped<long>(op, a, b, y); break;
            // narrow integers wrap on overflow, as in PyTorch (int8 100 + 100 = -56)
            case DType.Int32: BinaryTyped<int>(op, a, b, y); break;
            case DType.Int8: BinaryTyped<sbyte>(op, a, b, y); break;
            case DType.UInt8: BinaryTyped<byte>(op, a, b, y); break;
            default: throw DTypeExtensions.NotSupported(op.ToString().ToLowerInvariant(), a.DType);
        }
        return y;
    }

    static void BinaryTyped<T>(BinaryOp op, Tensor a, Tensor b, Tensor y) where T : unmanaged, INumber<T>
    {
        if (a.IsContiguous && b.IsContiguous)
        {
            int n = y.NumEl;
            if (a.NumEl == n && b.NumEl == n && n < Elementwise.ParallelThreshold) { Contiguous.Binary(op, a.Span<T>(), b.Span<T>(), y.Span<T>()); return; }
            if (b.NumEl == 1 && a.NumEl == n && n < Elementwise.ParallelThreshold) { Contiguous.BinaryScalarRight(op, a.Span<T>(), b.Span<T>()[0], y.Span<T>()); return; }
        }
        Elementwise.Binary(op, a.storage.As<T>(), a.offset, BroadcastStrides(a, y.shape),
            b.storage.As<T>(), b.offset, BroadcastStrides(b, y.shape), y.shape, y.Span<T>());
    }

    public Tensor Compare(CompareOp op, Tensor a, Tensor b)
    {
        using var scope = StoragePool.EnterOp();
        var shape = Broadcasting.Shape(a.shape, b.shape, CompareNames[(int)op]);
        var y = Empty(DType.Bool, shape, false);
        switch (a.DType)
        {
            case DType.Float32: CompareTyped<float>(op, a, b, y); break;
            case DType.Float64: CompareTyped<double>(op, a, b, y); break;
            case DType.Int64: CompareTyped<long>(op, a, b, y); break;
            case DType.Int32: CompareTyped<int>(op, a, b, y); break;
            case DType.Int8: CompareTyped<sbyte>(op, a, b, y); break;
            case DType.UInt8: CompareTyped<byte>(op, a, b, y); break;
            case DType.Float16: CompareTyped<Half>(op, a, b, y); break;
            // bfloat16 → float32 is exact, so comparing the widened values is comparing the values
            case DType.BFloat16: CompareTyped<float>(op, Convert(a, DType.Float32), Convert(b, DType.Float32), y); break;
            default: CompareTyped<long>(op, Convert(a, DType.Int64), Convert(b, DType.Int64), y); break;
        }
        return y;
    }

    static void CompareTyped<T>(CompareOp op, Tensor a, Tensor b, Tensor y) where T : unmanaged, INumber<T>
        => Elementwise.Compare(op, a.storage.As<T>(), a.offset, BroadcastStrides(a, y.shape),
            b.storage.As<T>(), b.offset, BroadcastStrides(b, y.shape), y.shape, y.Span<bool>());

    public Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        using var scope = StoragePool.EnterOp();
        var shape = Broadcasting.Shape(Broadcasting.Shape(condition.shape, a.shape, "where"), b.shape, "where");
        var y = Empty(a.DType, shape, false);
        var cs = BroadcastStrides(condition, shape);
        var where = new WhereAction { Condition = condition, ConditionStrides = cs, A = a, B = b, Y = y };
        DTypeDispatch.Run(a.DType, ref where);
        return y;
    }

    struct WhereAction : IElementAction
    {
        public Tensor Condition, A, B, Y; public int[] ConditionStrides;
        public readonly void Invoke<T>() where T : unmanaged => WhereTyped<T>(Condition, ConditionStrides, A, B, Y);
    }

    static void WhereTyped<T>(Tensor c, int[] cs, Tensor a, Tensor b, Tensor y) where T : unmanaged
        => Elementwise.Where(c.storage.As<bool>(), c.offset, cs, a.storage.As<T>(), a.offset, BroadcastStrides(a, y.shape),
            b.storage.As<T>(), b.offset, BroadcastStrides(b, y.shape), y.shape, y.Span<T>());

    /// <summary>Strides that read <paramref name="t"/> as if expanded to <paramref name="shape"/> (0 on broadcast dims).</summary>
    internal static int[] BroadcastStrides(Tensor t, int[] shape)
    {
        var result = new int[shape.Length];
        int lead = shape.Length - t.shape.Length;
        for (int d = 0; d < t.shape.Length; d++)
            result[lead + d] = t.shape[d] == 1 && shape[lead + d] != 1 ? 0 : t.strides[d];
        return result;
    }
}
