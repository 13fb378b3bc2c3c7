using Ember.Analysis;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Models;

/// <summary>
/// ResNet in torchvision's layout (conv1, bn1, relu, maxpool, layer1–4, avgpool, fc), so state-dict names match
/// (layer1.0.bn1.running_mean): ResNet-18 has 11,689,512 parameters. <see cref="Small"/> is a variant for 28×28 inputs.
/// </summary>
public sealed class ResNet : Module, IConvBnFusable
{
    readonly Module stem;
    readonly Sequential layer1, layer2, layer3;
    readonly Sequential? layer4;
    readonly AdaptiveAvgPool2d avgpool;
    readonly Linear fc;

    ResNet(Module stem, Sequential[] layers, int features, int numClasses)
    {
        this.stem = stem;
        foreach (var (name, child) in stem.NamedChildren()) RegisterModule(name, child);
        layer1 = RegisterModule("layer1", layers[0]);
        layer2 = RegisterModule("layer2", layers[1]);
        layer3 = RegisterModule("layer3", layers[2]);
        if (layers.Length > 3) layer4 = RegisterModule("layer4", layers[3]);
        avgpool = RegisterModule("avgpool", new AdaptiveAvgPool2d(1));
        fc = RegisterModule("fc", new Linear(features, numClasses));
        InitializeWeights();
    }

    // torchvision: kaiming_normal(fan_out, relu) for convolutions, BN weight 1 and bias 0.
    void InitializeWeights()
    {
        foreach (var m in Modules())
            if (m is Conv2d conv) Init.KaimingNormal(conv.Weight, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu);
    }

    // The norm argument of the factories is torchvision's norm_layer: channels → normalization layer, BatchNorm2d by default.

    /// <summary>ResNet-18: basic blocks [2, 2, 2, 2].</summary>
    public static ResNet ResNet18(int numClasses = 1000, int inChannels = 3, Func<int, Module>? norm = null) => Build(false, [2, 2, 2, 2], numClasses, inChannels, norm);
    /// <summary>ResNet-34: basic blocks [3, 4, 6, 3].</summary>
    public static ResNet ResNet34(int numClasses = 1000, int inChannels = 3, Func<int, Module>? norm = null) => Build(false, [3, 4, 6, 3], numClasses, inChannels, norm);
    /// <summary>ResNet-50: bottlenecks [3, 4, 6, 3].</summary>
    public static ResNet ResNet50(int numClasses = 1000, int inChannels = 3, Func<int, Module>? norm = null) => Build(true, [3, 4, 6, 3], numClasses, inChannels, norm);

    static ResNet Build(bool bottleneck, int[] blocks, int numClasses, int inChannels, Func<int, Module>? norm)
    {
        norm ??= channels => new BatchNorm2d(channels);
        var stem = new Sequential(("conv1", new Conv2d(inChannels, 64, 7, stride: 2, padding: 3, bias: false)), ("bn1", norm(64)),
            ("relu", new ReLU(inplace: true)), ("maxpool", new MaxPool2d(3, 2, padding: 1)));
        int expansion = bottleneck ? Bottleneck.Expansion : BasicBlock.Expansion;
        int inPlanes = 64;
        var layers = new Sequential[4];
        int[] planes = [64, 128, 256, 512];
        for (int i = 0; i < 4; i++)
        {
            var stage = new List<Module>();
            for (int b = 0; b < blocks[i]; b++)
            {
                int stride = b == 0 && i > 0 ? 2 : 1;
                stage.Add(bottleneck ? new Bottleneck(inPlanes, planes[i], stride, norm) : new BasicBlock(inPlanes, planes[i], stride, norm));
                inPlanes = planes[i] * expansion;
            }
            layers[i] = new Sequential(stage.ToArray());
        }
        return new ResNet(stem, layers, 512 * expansion, numClasses);
    }

    /// <summary>
    /// A small ResNet for 28×28 inputs ("resnet"): a 3×3 stem at <paramref name="width"/> channels and three stages of
    /// two basic blocks at width, 2·width and 4·width (strides 1, 2, 2), global average pooling and the head.
    /// </summary>
    public static ResNet Small(int numClasses = 10, int inChannels = 1, int width = 32, Func<int, Module>? norm = null)
    {
        norm ??= channels => new BatchNorm2d(channels);
        var stem = new Sequential(("conv1", new Conv2d(inChannels, width, 3, padding: 1, bias: false)), ("bn1", norm(width)), ("relu", new ReLU(inplace: true)));
        var layers = new Sequential[3];
        int inPlanes = width;
        for (int i = 0; i < 3; i++)
        {
            int planes = width << i;
            layers[i] = new Sequential(new BasicBlock(inPlanes, planes, i == 0 ? 1 : 2, norm), new BasicBlock(planes, planes, norm: norm));
            inPlanes = planes;
        }
        return new ResNet(stem, layers, inPlanes, numClasses);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        // In eval without gradients the stem's conv applies its BN and ReLU while writing its output.
        x = stem is Sequential s && ConvBnEval.TryForward(s, x, out var fused) ? fused! : stem.Call(x);
        x = layer3.Call(layer2.Call(layer1.Call(x)));
        if (layer4 is not null) x = layer4.Call(x);
        return fc.Call(avgpool.Call(x).Flatten(1));
    }

    // The stem runs as an unregistered Sequential whose children are registered here under torchvision's names
    // (conv1, bn1, ...): fuse inside it, then point those registrations at the new children.
    int IConvBnFusable.FuseConvBn()
    {
        if (stem is not Sequential s) return 0;
        int n = Fusion.FuseSequential(s);
        foreach (var (name, child) in s.NamedChildren()) SetModule(name, child);
        return n;
    }
}
