using TorchSharp;
using static TorchSharp.torch.nn;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Peers;

/// <summary>
/// torchvision's resnet18 built layer by layer in TorchSharp (conv1 7×7/2, bn1, relu, maxpool 3×3/2, layer1–4 of two
/// <see cref="TorchBasicBlock"/>s at 64, 128, 256, 512 channels, adaptive average pool, fc), with torchvision's names
/// so that Ember's Models.ResNet.ResNet18 weights copy across by name.
/// </summary>
public sealed class TorchResNet18 : Module<TT, TT>
{
    readonly Module<TT, TT> conv1, bn1, relu, maxpool, layer1, layer2, layer3, layer4, avgpool, fc;

    /// <summary>ResNet-18 for 3-channel images and <paramref name="numClasses"/> outputs.</summary>
    public TorchResNet18(int numClasses = 1000) : base(nameof(TorchResNet18))
    {
        conv1 = Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64);
        relu = ReLU(inplace: true);
        maxpool = MaxPool2d(3, stride: 2, padding: 1);
        layer1 = Sequential(new TorchBasicBlock(64, 64), new TorchBasicBlock(64, 64));
        layer2 = Sequential(new TorchBasicBlock(64, 128, 2), new TorchBasicBlock(128, 128));
        layer3 = Sequential(new TorchBasicBlock(128, 256, 2), new TorchBasicBlock(256, 256));
        layer4 = Sequential(new TorchBasicBlock(256, 512, 2), new TorchBasicBlock(512, 512));
        avgpool = AdaptiveAvgPool2d(1);
        fc = Linear(512, numClasses);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override TT forward(TT x)
    {
        x = maxpool.forward(relu.forward(bn1.forward(conv1.forward(x))));
        x = layer4.forward(layer3.forward(layer2.forward(layer1.forward(x))));
        return fc.forward(avgpool.forward(x).flatten(1));
    }
}
