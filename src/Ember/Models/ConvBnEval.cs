using Ember.Autograd;
using Ember.Kernels.Conv;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Ops;

namespace Ember.Models;

/// <summary>
/// The inference form of Conv2d → BatchNorm → activation: when the BatchNorm is in eval mode and no gradient is needed,
/// BN is the per-channel affine α = γ/√(var + ε), β = β_bn − mean·α (PyTorch's inference formula), and the conv applies
/// it and the activation while writing its output (<see cref="Conv2dKernel.ForwardFused"/>) instead of three more
/// passes over the activation. Anything else (training, gradients, hooks, padding modes, autocast) takes the modules.
/// </summary>
internal static class ConvBnEval
{
    /// <summary>
    /// act(bn(conv(x)) + residual) fused when it applies (residual optional, of the output's shape; added after the SiLU
    /// for <see cref="ConvActivation.SiluThenResidual"/>), written into <paramref name="output"/> when given (see
    /// <see cref="ConvOps.Conv2dFused"/>); false (and y null)
    /// when the caller must run the modules.
    /// </summary>
    public static bool TryForward(Conv2d conv, Module bn, Module? act, ConvActivation activation, Tensor x, out Tensor? y, Tensor? residual = null,
        Tensor? output = null)
    {
        y = null;
        if (residual is not null && (residual.RequiresGrad && GradMode.IsEnabled || residual.DType != x.DType)) return false;
        if (bn is not BatchNorm norm || norm.Training || norm.RunningMean is null || norm.RunningVar is null) return false;
        if (x.Rank != 4 || (x.DType != DType.Float32 && x.DType != DType.Float64) || x.DType != conv.Weight.DType) return false;
        if (conv.PaddingMode != PaddingMode.Constant || conv.Padding.IsSame || norm.NumFeatures != conv.OutChannels) return false;
        // Inputs the conv rejects go through the modules, so the error names the module as before.
        if (x.Size(1) != conv.InChannels || OutSize(x.Size(2), conv.KernelSize.H, conv.Stride.H, conv.Padding.H, conv.Dilation.H) <= 0
            || OutSize(x.Size(3), conv.KernelSize.W, conv.Stride.W, conv.Padding.W, conv.Dilation.W) <= 0) return false;
        if (conv.HasHooks || norm.HasHooks || (act is not null && act.HasHooks) || Training.Amp.Autocast.Active is not null) return false;
        if (GradMode.IsEnabled && (x.RequiresGrad || conv.Weight.RequiresGrad || conv.Bias is { RequiresGrad: true }
            || norm.Weight is { RequiresGrad: true } || norm.Bias is { RequiresGrad: true })) return false;
        Tensor scale, shift;
        using (Torch.NoGrad())
        {
            // The same α and β as F.BatchNorm's eval branch, with the conv's bias folded into β.
            var mean = norm.RunningMean.To(x.DType);
            scale = (norm.RunningVar.To(x.DType) + norm.Eps).Rsqrt();
            if (norm.Weight is not null) scale = norm.Weight * scale;
            shift = conv.Bias is null ? -(mean * scale) : (conv.Bias - mean) * scale;
            if (norm.Bias is not null) shift = norm.Bias + shift;
        }
        y = ConvOps.Conv2dFused(x, conv.Weight, scale, shift, conv.Stride, (conv.Padding.H, conv.Padding.W), conv.Dilation, conv.Groups, activation, residual, output);
        return true;
    }

    static int OutSize(int size, int kernel, int stride, int padding, int dilation)
    {
        int span = size + 2 * padding - dilation * (kernel - 1) - 1;
        return span < 0 ? 0 : span / stride + 1;
    }

    /// <summary>
    /// A Sequential that starts with Conv2d, BatchNorm and optionally ReLU or SiLU (a ResNet stem or downsample): those
    /// fused, the remaining children called in order. False (and y null) when the caller must call the Sequential.
    /// </summary>
    public static bool TryForward(Sequential sequential, Tensor x, out Tensor? y)
    {
        y = null;
        if (sequential.HasHooks) return false;
        var children = sequential.Children().ToArray();
        if (children.Length < 2 || children[0] is not Conv2d conv) return false;
        Module? act = children.Length > 2 && (children[2] is ReLU || children[2] is SiLU) ? children[2] : null;
        var activation = act switch { ReLU => ConvActivation.Relu, SiLU => ConvActivation.Silu, _ => ConvActivation.None };
        if (!TryForward(conv, children[1], act, activation, x, out y)) return false;
        for (int i = act is null ? 2 : 3; i < children.Length; i++) y = children[i].Call(y!);
        return true;
    }
}
