using System.Numerics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Loops;
using Ember.Kernels.Operators;

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
            switch (dst.DType)
            {
                case DType.Float32: dst.Span<float>().Fill((float)value); return;
                case DType.Float64: dst.Span<double>().Fill(value); return;
                case DType.Int64: dst.Span<long>().Fill((long)value); return;
                default: dst.Span<bool>().Fill(value != 0); return;
            }
        }
        var scalar = Empty(dst.DType, [], false);
        Fill(scalar, value);
        Copy(scalar, dst);
    }

    public void Copy(Tensor src, Tensor dst)
    {
        using var scope = StoragePool.EnterOp();
        var srcStrides = BroadcastStrides(src, dst.shape);
        switch (src.DType)
        {
            case DType.Float32: CopyFrom<float>(src, srcStrides, dst); break;
            case DType.Float64: CopyFrom<double>(src, srcStrides, dst); break;
            case DType.Int64: CopyFrom<long>(src, srcStrides, dst); break;
            default: CopyFrom<bool>(src, srcStrides, dst); break;
        }
    }

    static void CopyFrom<TSrc>(Tensor src, int[] srcStrides, Tensor dst) where TSrc : unmanaged
    {
        var s = src.storage.As<TSrc>();
        switch (dst.DType)
        {
            case DType.Float32: Elementwise.Copy<TSrc, float>(s, src.offset, srcStrides, dst.storage.As<float>(), dst.offset, dst.strides, dst.shape); break;
            case DType.Float64: Elementwise.Copy<TSrc, double>(s, src.offset, srcStrides, dst.storage.As<double>(), dst.offset, dst.strides, dst.shape); break;
            case DType.Int64: Elementwise.Copy<TSrc, long>(s, src.offset, srcStrides, dst.storage.As<long>(), dst.offset, dst.strides, dst.shape); break;
            default: Elementwise.Copy<TSrc, bool>(s, src.offset, srcStrides, dst.storage.As<bool>(), dst.offset, dst.strides, dst.shape); break;
        }
    }

    public Tensor Unary(UnaryOp op, Tensor x)
    {
        using var scope = StoragePool.EnterOp();
        var y = Empty(x.DType, (int[])x.shape.Clone(), false);
        switch (x.DType)
        {
            case DType.Float32: UnaryTyped<float>(op, x, y); break;
            case DType.Float64: UnaryTyped<double>(op, x, y); break;
            case DType.Int64: UnaryInteger(op, x, y); break;
            default: throw new NotSupportedException($"{op.ToString().ToLowerInvariant()}: not implemented for {x.DType.TorchName()}");
        }
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
        var shape = Broadcasting.Shape(a.shape, b.shape, BinaryNames[(int)op]);
        var y = Empty(a.DType, shape, false);
        switch (a.DType)
        {
            case DType.Float32: BinaryTyped<float>(op, a, b, y); break;
            case DType.Float64: BinaryTyped<double>(op, a, b, y); break;
            case DType.Int64: BinaryTyped<long>(op, a, b, y); break;
            default: throw new NotSupportedException($"{op.ToString().ToLowerInvariant()}: not implemented for torch.bool");
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
            default: CompareTyped<long>(op, a.To(DType.Int64), b.To(DType.Int64), y); break;
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
        switch (a.DType)
        {
            case DType.Float32: WhereTyped<float>(condition, cs, a, b, y); break;
            case DType.Float64: WhereTyped<double>(condition, cs, a, b, y); break;
            case DType.Int64: WhereTyped<long>(condition, cs, a, b, y); break;
            default: WhereTyped<bool>(condition, cs, a, b, y); break;
        }
        return y;
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
