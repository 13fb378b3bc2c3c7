using Ember.Autograd;
using Ember.Kernels.Conv;
using Ember.Kernels.Numerics;

namespace Ember.Ops;

/// <summary>
/// Pooling over NCHW tensors. Max pooling records the flat argmax in each H×W plane, so its backward scatters by
/// index and the double backward gathers; average pooling's backward is its adjoint, whose backward is the forward again.
/// </summary>
internal static class PoolOps
{
    static (Tensor X, bool Unbatched) Batched(Tensor x, string name)
    {
        if (x.Rank == 3) return (x.Unsqueeze(0), true);
        if (x.Rank != 4) throw new ArgumentException($"{name}: expected a 3-D or 4-D input [N, C, H, W], got shape {x.Shape}");
        if (!x.DType.IsFloatingPoint()) throw new ArgumentException($"{name}: expected a floating point input, got {x.DType.TorchName()}");
        return (x, false);
    }

    /// <summary>Max pooling and its argmax indices; the indices are only written when asked for or needed by backward.</summary>
    public static (Tensor Output, Tensor Indices) MaxPool2d(Tensor input, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, bool ceilMode)
    {
        var (output, indices) = MaxPool2d(input, kernel, stride, padding, dilation, ceilMode, returnIndices: true);
        return (output, indices!);
    }

    /// <summary>Max pooling without indices when no gradient is recorded (inference): half the memory traffic.</summary>
    public static Tensor MaxPool2dOutput(Tensor input, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, bool ceilMode)
        => MaxPool2d(input, kernel, stride, padding, dilation, ceilMode, returnIndices: false).Output;

    static (Tensor Output, Tensor? Indices) MaxPool2d(Tensor input, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, bool ceilMode, bool returnIndices)
    {
        var (x, unbatched) = Batched(input, "max_pool2d");
        if (padding.H * 2 > kernel.H || padding.W * 2 > kernel.W)
            throw new ArgumentException($"max_pool2d: pad should be at most half of effective kernel size, but got pad={padding}, kernel_size={kernel}");
        var g = new Pool2dGeometry(x.Size(0), x.Size(1), x.Size(2), x.Size(3), kernel.H, kernel.W, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, ceilMode);
        bool recording = Recording.IsOn(x);
        if (x.DType.IsReducedFloat()) return HalfMaxPool(x, g, recording || returnIndices, unbatched);
        var xc = PrecisionOps.Widened(x);
        xc.DType.RequireFloat32Or64("max_pool2d");
        var y = Torch.Empty([g.Batch, g.Channels, g.OutHeight, g.OutWidth], xc.DType);
        if (!recording && !returnIndices)
        {
            if (xc.DType == DType.Float32) MaxPool2dKernel.Forward(g, xc.Span<float>(), y.Span<float>(), default);
            else MaxPool2dKernel.Forward(g, xc.Span<double>(), y.Span<double>(), default);
            GC.KeepAlive(xc);
            y = PrecisionOps.Narrowed(y, x.DType);
            return (unbatched ? y.Squeeze(0) : y, null);
        }
        var indices = Torch.Empty([g.Batch, g.Channels, g.OutHeight, g.OutWidth], DType.Int64);
        if (xc.DType == DType.Float32) MaxPool2dKernel.Forward(g, xc.Span<float>(), y.Span<float>(), indices.Span<long>());
        else MaxPool2dKernel.Forward(g, xc.Span<double>(), y.Span<double>(), indices.Span<long>());
        GC.KeepAlive(xc);
        y = PrecisionOps.Narrowed(y, x.DType);
        var inputShape = x.Shape.ToArray();
        Recording.Unary(y, "MaxPool2DWithIndicesBackward0", x, grad => GradMode.IsEnabled ? ScatterToPlanes(grad, indices, inputShape) : MaxBackward(grad, indices, g));
        return unbatched ? (y.Squeeze(0), indices.Squeeze(0)) : (y, indices);
    }

    /// <summary>
    /// Max pooling of a half x: pooled in float32 a few images at a time and rounded back (exact for a max), without a
    /// float32 copy of the whole input; the graph keeps the half tensors.
    /// </summary>
    static (Tensor Output, Tensor? Indices) HalfMaxPool(Tensor x, Pool2dGeometry g, bool withIndices, bool unbatched)
    {
        var xc = x.Detach().Contiguous();
        var y = Torch.Empty([g.Batch, g.Channels, g.OutHeight, g.OutWidth], x.DType);
        var indices = withIndices ? Torch.Empty([g.Batch, g.Channels, g.OutHeight, g.OutWidth], DType.Int64) : null;
        Span<long> idx = indices is null ? default : indices.Span<long>();
        if (x.DType == DType.BFloat16) HalfPool2dKernel.MaxForward(g, xc.Span<BFloat16>(), y.Span<BFloat16>(), idx);
        else HalfPool2dKernel.MaxForward(g, xc.Span<Half>(), y.Span<Half>(), idx);
        GC.KeepAlive(xc);
        if (indices is null) return (unbatched ? y.Squeeze(0) : y, null);
        var inputShape = x.Shape.ToArray();
        Recording.Unary(y, "MaxPool2DWithIndicesBackward0", x, grad => GradMode.IsEnabled ? ScatterToPlanes(grad, indices, inputShape) : MaxBackward(grad, indices, g));
        return unbatched ? (y.Squeeze(0), indices.Squeeze(0)) : (y, indices);
    }

    static Tensor MaxBackward(Tensor grad, Tensor indices, Pool2dGeometry g)
    {
        if (grad.DType.IsReducedFloat())
        {
            var gh = grad.Detach().Contiguous();
            var dx = Torch.Empty([g.Batch, g.Channels, g.InHeight, g.InWidth], grad.DType);
            if (grad.DType == DType.BFloat16) HalfPool2dKernel.MaxBackward(g, gh.Span<BFloat16>(), indices.Span<long>(), dx.Span<BFloat16>());
            else HalfPool2dKernel.MaxBackward(g, gh.Span<Half>(), indices.Span<long>(), dx.Span<Half>());
            GC.KeepAlive(gh);
            return dx;
        }
        var gc = PrecisionOps.Widened(grad);
        var gx = Torch.Empty([g.Batch, g.Channels, g.InHeight, g.InWidth], gc.DType);
        if (gc.DType == DType.Float32) MaxPool2dKernel.Backward(g, gc.Span<float>(), indices.Span<long>(), gx.Span<float>());
        else MaxPool2dKernel.Backward(g, gc.Span<double>(), indices.Span<long>(), gx.Span<double>());
        GC.KeepAlive(gc);
        return PrecisionOps.Narrowed(gx, grad.DType);
    }

    /// <summary>Adds each output gradient at its argmax position of the input plane (the backward of max pooling).</summary>
    static Tensor ScatterToPlanes(Tensor grad, Tensor indices, int[] inputShape)
    {
        int n = inputShape[0], c = inputShape[1], plane = inputShape[2] * inputShape[3];
        var flatIndex = indices.Reshape(n, c, -1);
        var result = Torch.Zeros([n, c, plane], grad.DType).ScatterAdd(2, flatIndex, grad.Reshape(n, c, -1));
        return result.Reshape(inputShape);
    }

    public static Tensor AvgPool2d(Tensor input, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, bool ceilMode, bool countIncludePad, int? divisorOverride)
    {
        var (x, unbatched) = Batched(input, "avg_pool2d");
        if (padding.H * 2 > kernel.H || padding.W * 2 > kernel.W)
            throw new ArgumentException($"avg_pool2d: pad should be at most half of kernel size, but got pad={padding}, kernel_size={kernel}");
        var g = new Pool2dGeometry(x.Size(0), x.Size(1), x.Size(2), x.Size(3), kernel.H, kernel.W, stride.H, stride.W, padding.H, padding.W, 1, 1, ceilMode);
        var y = AvgForward(x, g, countIncludePad, divisorOverride);
        return unbatched ? y.Squeeze(0) : y;
    }

    static Tensor AvgForward(Tensor x, Pool2dGeometry g, bool countIncludePad, int? divisorOverride)
    {
        var xc = x.DType.IsReducedFloat() ? x.Detach().Contiguous() : PrecisionOps.Widened(x);
        var y = Torch.Empty([g.Batch, g.Channels, g.OutHeight, g.OutWidth], xc.DType);
        // half x: pooled in float32 a few images at a time, no whole float32 copy
        if (xc.DType == DType.BFloat16) HalfPool2dKernel.AvgForward(g, xc.Span<BFloat16>(), y.Span<BFloat16>(), countIncludePad, divisorOverride);
        else if (xc.DType == DType.Float16) HalfPool2dKernel.AvgForward(g, xc.Span<Half>(), y.Span<Half>(), countIncludePad, divisorOverride);
        else if (xc.DType == DType.Float32) AvgPool2dKernel.Forward(g, xc.Span<float>(), y.Span<float>(), countIncludePad, divisorOverride);
        else
        {
            xc.DType.RequireFloat32Or64("avg_pool2d");
            AvgPool2dKernel.Forward(g, xc.Span<double>(), y.Span<double>(), countIncludePad, divisorOverride);
        }
        GC.KeepAlive(xc);
        return Recording.Unary(y, "AvgPool2DBackward0", x, grad => AvgBackward(grad, g, countIncludePad, divisorOverride));
    }

    static Tensor AvgBackward(Tensor grad, Pool2dGeometry g, bool countIncludePad, int? divisorOverride)
    {
        Tensor gx;
        if (grad.DType.IsReducedFloat())
        {
            var gh = grad.Detach().Contiguous();
            gx = Torch.Empty([g.Batch, g.Channels, g.InHeight, g.InWidth], grad.DType);
            if (grad.DType == DType.BFloat16) HalfPool2dKernel.AvgBackward(g, gh.Span<BFloat16>(), gx.Span<BFloat16>(), countIncludePad, divisorOverride);
            else HalfPool2dKernel.AvgBackward(g, gh.Span<Half>(), gx.Span<Half>(), countIncludePad, divisorOverride);
            GC.KeepAlive(gh);
        }
        else
        {
            var gc = PrecisionOps.Widened(grad);
            gx = Torch.Zeros([g.Batch, g.Channels, g.InHeight, g.InWidth], gc.DType);
            if (gc.DType == DType.Float32) AvgPool2dKernel.Backward(g, gc.Span<float>(), gx.Span<float>(), countIncludePad, divisorOverride);
            else AvgPool2dKernel.Backward(g, gc.Span<double>(), gx.Span<double>(), countIncludePad, divisorOverride);
            GC.KeepAlive(gc);
        }
        return Recording.Unary(gx, "AvgPool2DBackwardBackward0", grad, gg => AvgForward(gg, g, countIncludePad, divisorOverride));
    }

    public static Tensor AdaptiveAvgPool2d(Tensor input, (int H, int W) outputSize)
    {
        var (x, unbatched) = Batched(input, "adaptive_avg_pool2d");
        var g = new AdaptivePool2dGeometry(x.Size(0), x.Size(1), x.Size(2), x.Size(3), outputSize.H, outputSize.W);
        var y = AdaptiveAvgForward(x, g);
        return unbatched ? y.Squeeze(0) : y;
    }

    static Tensor AdaptiveAvgForward(Tensor x, AdaptivePool2dGeometry g)
    {
        var xc = PrecisionOps.Widened(x);
        xc.DType.RequireFloat32Or64("adaptive_avg_pool2d");
        var y = Torch.Empty([g.Batch, g.Channels, g.OutHeight, g.OutWidth], xc.DType);
        if (xc.DType == DType.Float32) AdaptiveAvgPool2dKernel.Forward(g, xc.Span<float>(), y.Span<float>());
        else AdaptiveAvgPool2dKernel.Forward(g, xc.Span<double>(), y.Span<double>());
        GC.KeepAlive(xc);
        y = PrecisionOps.Narrowed(y, x.DType);
        return Recording.Unary(y, "AdaptiveAvgPool2DBackward0", x, grad => AdaptiveAvgBackward(grad, g));
    }

    static Tensor AdaptiveAvgBackward(Tensor grad, AdaptivePool2dGeometry g)
    {
        var gc = PrecisionOps.Widened(grad);
        var gx = Torch.Zeros([g.Batch, g.Channels, g.InHeight, g.InWidth], gc.DType);
        if (gc.DType == DType.Float32) AdaptiveAvgPool2dKernel.Backward(g, gc.Span<float>(), gx.Span<float>());
        else AdaptiveAvgPool2dKernel.Backward(g, gc.Span<double>(), gx.Span<double>());
        GC.KeepAlive(gc);
        gx = PrecisionOps.Narrowed(gx, grad.DType);
        return Recording.Unary(gx, "AdaptiveAvgPool2DBackwardBackward0", grad, gg => AdaptiveAvgForward(gg, g));
    }

    public static (Tensor Output, Tensor Indices) AdaptiveMaxPool2d(Tensor input, (int H, int W) outputSize)
    {
        var (x, unbatched) = Batched(input, "adaptive_max_pool2d");
        var g = new AdaptivePool2dGeometry(x.Size(0), x.Size(1), x.Size(2), x.Size(3), outputSize.H, outputSize.W);
        var xc = PrecisionOps.Widened(x);
        xc.DType.RequireFloat32Or64("adaptive_max_pool2d");
        var y = Torch.Empty([g.Batch, g.Channels, g.OutHeight, g.OutWidth], xc.DType);
        var indices = Torch.Empty([g.Batch, g.Channels, g.OutHeight, g.OutWidth], DType.Int64);
        if (xc.DType == DType.Float32) AdaptiveMaxPool2dKernel.Forward(g, xc.Span<float>(), y.Span<float>(), indices.Span<long>());
        else AdaptiveMaxPool2dKernel.Forward(g, xc.Span<double>(), y.Span<double>(), indices.Span<long>());
        GC.KeepAlive(xc);
        y = PrecisionOps.Narrowed(y, x.DType);
        var inputShape = x.Shape.ToArray();
        Recording.Unary(y, "AdaptiveMaxPool2DBackward0", x, grad => ScatterToPlanes(grad, indices, inputShape));
        return unbatched ? (y.Squeeze(0), indices.Squeeze(0)) : (y, indices);
    }
}
