using TorchSharp;
using static TorchSharp.torch.nn;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Peers;

/// <summary>
/// torchvision's ResNet BasicBlock in TorchSharp (which ships no torchvision): conv3×3-BN-ReLU, conv3×3-BN, plus the
/// identity or a 1×1 conv-BN downsample, then ReLU. Field names are the state-dict names (conv1, bn1, …, downsample.0).
/// </summary>
public sealed class TorchBasicBlock : Module<TT, TT>
{
    readonly Module<TT, TT> conv1, bn1, relu, conv2, bn2;
    readonly Module<TT, TT>? downsample;

    /// <summary>A block from <paramref name="inPlanes"/> to <paramref name="planes"/> channels with the given stride.</summary>
    public TorchBasicBlock(int inPlanes, int planes, int stride = 1) : base(nameof(TorchBasicBlock))
    {
        conv1 = Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(planes);
        relu = ReLU(inplace: true);
        conv2 = Conv2d(planes, planes, 3, padding: 1, bias: false);
        bn2 = BatchNorm2d(planes);
        if (stride != 1 || inPlanes != planes) downsample = Sequential(Conv2d(inPlanes, planes, 1, stride: stride, bias: false), BatchNorm2d(planes));
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TT forward(TT x)
    {
        TT identity = downsample is null ? x : downsample.forward(x);
        TT y = relu.forward(bn1.forward(conv1.forward(x)));
        y = bn2.forward(conv2.forward(y));
        return relu.forward(y + identity);
    }
}
