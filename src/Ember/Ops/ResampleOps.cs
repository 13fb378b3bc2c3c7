using Ember.Autograd;
using Ember.Kernels.Conv;

using Ember.Nn;

namespace Ember.Ops;

/// <summary>Nearest and bilinear upsampling over NCHW (torch.nn.functional.interpolate); each backward is the kernel's adjoint, whose own backward is the forward.</summary>
internal static class ResampleOps
{
    public static Tensor Interpolate(Tensor input, (int H, int W)? size, (double H, double W)? scale, InterpolationMode mode, bool alignCorners)
    {
        if (input.Rank != 4) throw new ArgumentException($"interpolate: expected a 4-D input [N, C, H, W], got shape {input.Shape}");
        if (!input.DType.IsFloatingPoint()) throw new ArgumentException($"interpolate: expected a floating point input, got {input.DType.TorchName()}");
        if (size is null == scale is null) throw new ArgumentException("interpolate: give exactly one of size and scale_factor");
        int h = input.Size(2), w = input.Size(3);
        var (outH, outW) = size ?? ((int)Math.Floor(h * scale!.Value.H), (int)Math.Floor(w * scale!.Value.W));
        var g = new Upsample2dGeometry(input.Size(0), input.Size(1), h, w, outH, outW, scale?.H, scale?.W);
        return Forward(input, g, mode, alignCorners);
    }

    static Tensor Forward(Tensor x, Upsample2dGeometry g, InterpolationMode mode, bool alignCorners)
    {
        // half inputs (autocast runs interpolate in its input's dtype): resampled in float32, rounded once
        var xc = PrecisionOps.Widened(x);
        xc.DType.RequireFloat32Or64("interpolate");
        var y = Torch.Empty([g.Batch, g.Channels, g.OutHeight, g.OutWidth], xc.DType);
        if (xc.DType == DType.Float32)
        {
            if (mode == InterpolationMode.Nearest) UpsampleNearest2dKernel.Forward(g, xc.Span<float>(), y.Span<float>());
            else UpsampleBilinear2dKernel.Forward(g, alignCorners, xc.Span<float>(), y.Span<float>());
        }
        else
        {
            if (mode == InterpolationMode.Nearest) UpsampleNearest2dKernel.Forward(g, xc.Span<double>(), y.Span<double>());
            else UpsampleBilinear2dKernel.Forward(g, alignCorners, xc.Span<double>(), y.Span<double>());
        }
        GC.KeepAlive(xc);
        y = PrecisionOps.Narrowed(y, x.DType);
        return Recording.Unary(y, mode == InterpolationMode.Nearest ? "UpsampleNearest2DBackward0" : "UpsampleBilinear2DBackward0", x,
            grad => Backward(grad, g, mode, alignCorners));
    }

    static Tensor Backward(Tensor grad, Upsample2dGeometry g, InterpolationMode mode, bool alignCorners)
    {
        var gc = PrecisionOps.Widened(grad);
        var gx = Torch.Zeros([g.Batch, g.Channels, g.InHeight, g.InWidth], gc.DType);
        if (gc.DType == DType.Float32)
        {
            if (mode == InterpolationMode.Nearest) UpsampleNearest2dKernel.Backward(g, gc.Span<float>(), gx.Span<float>());
            else UpsampleBilinear2dKernel.Backward(g, alignCorners, gc.Span<float>(), gx.Span<float>());
        }
        else
        {
            if (mode == InterpolationMode.Nearest) UpsampleNearest2dKernel.Backward(g, gc.Span<double>(), gx.Span<double>());
            else UpsampleBilinear2dKernel.Backward(g, alignCorners, gc.Span<double>(), gx.Span<double>());
        }
        GC.KeepAlive(gc);
        gx = PrecisionOps.Narrowed(gx, grad.DType);
        return Recording.Unary(gx, "UpsampleBackwardBackward0", grad, gg => Forward(gg, g, mode, alignCorners));
    }
}
