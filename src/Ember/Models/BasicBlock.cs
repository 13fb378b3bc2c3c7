using Ember.Analysis;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Models;

/// <summary>ResNet's basic block: y = ReLU(BN(conv3×3(ReLU(BN(conv3×3(x))))) + shortcut(x)), with a 1×1 projection shortcut when the shape changes.</summary>
public sealed class BasicBlock : Module, IConvBnFusable
{
    /// <summary>Output channels per input "plane" (1 for basic blocks).</summary>
    public const int Expansion = 1;
    // Not readonly: Fusion.FuseModel swaps each conv for its BN-folded copy and each BN for an Identity.
    Conv2d conv1, conv2;
    Module bn1, bn2;
    readonly ReLU relu;
    readonly Sequential? downsample;

    /// <summary>
    /// A block from <paramref name="inPlanes"/> to <paramref name="planes"/> channels with the given stride;
    /// <paramref name="norm"/> (channels → layer, torchvision's norm_layer) builds each normalization layer (default BatchNorm2d).
    /// </summary>
    public BasicBlock(int inPlanes, int planes, int stride = 1, Func<int, Module>? norm = null)
    {
        norm ??= channels => new BatchNorm2d(channels);
        conv1 = RegisterModule("conv1", new Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false));
        bn1 = RegisterModule("bn1", norm(planes));
        relu = RegisterModule("relu", new ReLU(inplace: true));
        conv2 = RegisterModule("conv2", new Conv2d(planes, planes, 3, padding: 1, bias: false));
        bn2 = RegisterModule("bn2", norm(planes));
        if (stride != 1 || inPlanes != planes)
            downsample = RegisterModule("downsample", new Sequential(new Conv2d(inPlanes, planes, 1, stride: stride, bias: false), norm(planes)));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        // In eval without gradients each conv applies its BN while writing its output, the second one also the shortcut and
        // the ReLU: relu(bn2(conv2(y)) + identity) in one pass.
        var identity = downsample is null ? x : ConvBnEval.TryForward(downsample, x, out var down) ? down! : downsample.Call(x);
        var y = ConvBnEval.TryForward(conv1, bn1, relu, Kernels.Conv.ConvActivation.Relu, x, out var fused) ? fused! : relu.Call(bn1.Call(conv1.Call(x)));
        if (ConvBnEval.TryForward(conv2, bn2, relu, Kernels.Conv.ConvActivation.Relu, y, out fused, identity)) return fused!;
        y = bn2.Call(conv2.Call(y));
        return relu.Call(y + identity);
    }

    int IConvBnFusable.FuseConvBn()
        => (Fusion.TryFusePair(this, "conv1", ref conv1, "bn1", ref bn1) ? 1 : 0) + (Fusion.TryFusePair(this, "conv2", ref conv2, "bn2", ref bn2) ? 1 : 0);
}
