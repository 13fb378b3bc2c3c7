using Ember.Analysis;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Models;

/// <summary>ResNet's bottleneck block (1×1 reduce, 3×3 with the stride, 1×1 expand ×4), torchvision's v1.5 layout.</summary>
public sealed class Bottleneck : Module, IConvBnFusable
{
    /// <summary>Output channels are planes × 4.</summary>
    public const int Expansion = 4;
    // Not readonly: Fusion.FuseModel swaps each conv for its BN-folded copy and each BN for an Identity.
    Conv2d conv1, conv2, conv3;
    Module bn1, bn2, bn3;
    readonly ReLU relu;
    readonly Sequential? downsample;

    /// <summary>
    /// A block from <paramref name="inPlanes"/> to planes·4 channels; <paramref name="norm"/> (channels → layer,
    /// torchvision's norm_layer) builds each normalization layer (default BatchNorm2d).
    /// </summary>
    public Bottleneck(int inPlanes, int planes, int stride = 1, Func<int, Module>? norm = null)
    {
        norm ??= channels => new BatchNorm2d(channels);
        conv1 = RegisterModule("conv1", new Conv2d(inPlanes, planes, 1, bias: false));
        bn1 = RegisterModule("bn1", norm(planes));
        conv2 = RegisterModule("conv2", new Conv2d(planes, planes, 3, stride: stride, padding: 1, bias: false));
        bn2 = RegisterModule("bn2", norm(planes));
        conv3 = RegisterModule("conv3", new Conv2d(planes, planes * Expansion, 1, bias: false));
        bn3 = RegisterModule("bn3", norm(planes * Expansion));
        relu = RegisterModule("relu", new ReLU(inplace: true));
        if (stride != 1 || inPlanes != planes * Expansion)
            downsample = RegisterModule("downsample", new Sequential(new Conv2d(inPlanes, planes * Expansion, 1, stride: stride, bias: false), norm(planes * Expansion)));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        var identity = downsample is null ? x : downsample.Call(x);
        var y = relu.Call(bn1.Call(conv1.Call(x)));
        y = relu.Call(bn2.Call(conv2.Call(y)));
        y = bn3.Call(conv3.Call(y));
        return relu.Call(y + identity);
    }

    int IConvBnFusable.FuseConvBn()
        => (Fusion.TryFusePair(this, "conv1", ref conv1, "bn1", ref bn1) ? 1 : 0) + (Fusion.TryFusePair(this, "conv2", ref conv2, "bn2", ref bn2) ? 1 : 0)
            + (Fusion.TryFusePair(this, "conv3", ref conv3, "bn3", ref bn3) ? 1 : 0);
}
