using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Analysis;

/// <summary>
/// Folds an eval-mode BatchNorm2d into the convolution before it (notes 001/002; PyTorch's
/// torch.nn.utils.fusion.fuse_conv_bn_eval, YOLOv5's fuse_conv_and_bn). With s = γ / √(running_var + ε):
/// ŵ = s · w (per output channel), b̂ = s · (b − running_mean) + β, so BN(conv(x)) = conv_ŵ,b̂(x) in eval mode.
/// The fused model is for inference only: training it would no longer normalize batches.
/// </summary>
public static class Fusion
{
    /// <summary>A new convolution equal to <paramref name="bn"/>(<paramref name="conv"/>(x)) with BN in eval mode. Inputs are not modified.</summary>
    public static Conv2d FuseConvBn(Conv2d conv, BatchNorm2d bn)
    {
        ArgumentNullException.ThrowIfNull(conv);
        ArgumentNullException.ThrowIfNull(bn);
        if (bn.NumFeatures != conv.OutChannels)
            throw new ArgumentException($"Fusion.FuseConvBn: BatchNorm2d has {bn.NumFeatures} features but the Conv2d has {conv.OutChannels} output channels");
        if (bn.RunningMean is null || bn.RunningVar is null)
            throw new ArgumentException($"Fusion.FuseConvBn: BatchNorm2d({bn.NumFeatures}) tracks no running statistics, so in eval it normalizes by batch statistics and cannot be folded into a convolution");
        var fused = new Conv2d(conv.InChannels, conv.OutChannels, conv.KernelSize, conv.Stride, conv.Padding, conv.Dilation, conv.Groups, bias: true, conv.PaddingMode);
        using (Torch.NoGrad())
        {
            // float64 arithmetic: the fused weights are then rounded once.
            var mean = bn.RunningMean.To(DType.Float64);
            var scale = (bn.RunningVar.To(DType.Float64) + bn.Eps).Rsqrt();
            if (bn.Weight is not null) scale = scale * bn.Weight.To(DType.Float64);
            var w = conv.Weight.To(DType.Float64) * scale.View(-1, 1, 1, 1);
            var b = conv.Bias is null ? Torch.Zeros([conv.OutChannels], DType.Float64) : conv.Bias.To(DType.Float64);
            b = (b - mean) * scale;
            if (bn.Bias is not null) b = b + bn.Bias.To(DType.Float64);
            fused.Weight.CopyFrom(w);
            fused.Bias!.CopyFrom(b);
        }
        fused.Train(conv.Training);
        return fused;
    }

    /// <summary>
    /// Fuses every Conv2d directly followed by a BatchNorm2d of matching width in each Sequential of
    /// <paramref name="model"/>, and the pairs inside the zoo's ResNet, BasicBlock, Bottleneck and ConvBnSiLU; each BN
    /// becomes an Identity. Modifies <paramref name="model"/> in place, puts it in eval mode and returns it and the
    /// number of pairs fused.
    /// </summary>
    public static (Module Model, int Fused) FuseModel(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Eval();
        int fused = 0;
        foreach (var m in model.Modules().ToList())
        {
            if (m is IConvBnFusable f) fused += f.FuseConvBn();
            else if (m is Sequential s) fused += FuseSequential(s);
        }
        model.Eval();
        return (model, fused);
    }

    /// <summary>Fuses adjacent Conv2d → BatchNorm2d children of <paramref name="sequential"/> in place; returns the count.</summary>
    public static int FuseSequential(Sequential sequential)
    {
        ArgumentNullException.ThrowIfNull(sequential);
        var children = sequential.NamedChildren().ToList();
        int fused = 0;
        for (int i = 0; i + 1 < children.Count; i++)
        {
            if (children[i].Module is Conv2d conv && children[i + 1].Module is BatchNorm2d bn && Fusable(conv, bn))
            {
                sequential.SetModule(children[i].Name, FuseConvBn(conv, bn));
                sequential.SetModule(children[i + 1].Name, new Identity());
                fused++;
                i++;
            }
        }
        return fused;
    }

    /// <summary>
    /// For modules that hold a pair in fields: if <paramref name="bn"/> is still a fusable BatchNorm2d, replaces the
    /// fields and the registered children with the fused convolution and an Identity.
    /// </summary>
    internal static bool TryFusePair(Module owner, string convName, ref Conv2d conv, string bnName, ref Module bn)
    {
        if (bn is not BatchNorm2d b || !Fusable(conv, b)) return false;
        conv = FuseConvBn(conv, b);
        bn = new Identity();
        owner.SetModule(convName, conv);
        owner.SetModule(bnName, bn);
        return true;
    }

    static bool Fusable(Conv2d conv, BatchNorm2d bn) => bn.NumFeatures == conv.OutChannels && bn.RunningMean is not null && bn.RunningVar is not null;
}
