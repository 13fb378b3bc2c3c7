using Ember.Analysis;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Models;

/// <summary>YOLOv5's Conv block: Conv2d (no bias, 'same'-style padding k/2) → BatchNorm2d → SiLU.</summary>
public sealed class ConvBnSiLU : Module, IConvBnFusable
{
    // Not readonly: Fusion.FuseModel swaps the conv for its BN-folded copy and the BN for an Identity.
    Conv2d conv;
    Module bn;
    readonly SiLU act;

    /// <summary>Creates the block.</summary>
    public ConvBnSiLU(int inChannels, int outChannels, int kernelSize = 1, int stride = 1, int? padding = null)
    {
        conv = RegisterModule("conv", new Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding ?? kernelSize / 2, bias: false));
        bn = RegisterModule("bn", new BatchNorm2d(outChannels, eps: 1e-3, momentum: 0.03));
        act = RegisterModule("act", new SiLU());
    }

    /// <summary>The convolution (for fusion and weight surgery).</summary>
    public Conv2d Conv => conv;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        if (ConvBnEval.TryForward(conv, bn, act, Kernels.Conv.ConvActivation.Silu, x, out var fused)) return fused!;
        var y = conv.Call(x);
        // BN and SiLU as one op (one pass each way, no BN output kept for the SiLU's backward) unless a hook must see them
        if (bn is BatchNorm norm && !norm.HasHooks && !act.HasHooks) return norm.ForwardSilu(y);
        return act.Call(bn.Call(y));
    }

    /// <summary>
    /// Forward(x), plus <paramref name="shortcut"/> when given (YOLOv5's bottleneck add), written into
    /// <paramref name="destination"/> when given (a channel slice of a concatenation; inference only, as the copy into it
    /// records no graph). When the block runs fused the add happens in the conv's output pass and the result is written
    /// in place; otherwise (training, gradients, this block's own hooks) the modules run and the result is copied.
    /// </summary>
    internal Tensor ForwardInto(Tensor x, Tensor? shortcut = null, Tensor? destination = null)
    {
        var activation = shortcut is null ? Kernels.Conv.ConvActivation.Silu : Kernels.Conv.ConvActivation.SiluThenResidual;
        if (!HasHooks && ConvBnEval.TryForward(conv, bn, act, activation, x, out var fused, shortcut, destination)) return fused!;
        var y = Call(x);
        if (shortcut is not null) y = shortcut + y;
        if (destination is null) return y;
        destination.CopyFrom(y);
        return destination;
    }

    int IConvBnFusable.FuseConvBn() => Fusion.TryFusePair(this, "conv", ref conv, "bn", ref bn) ? 1 : 0;
}
