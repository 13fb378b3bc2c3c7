using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Models;

/// <summary>AlexNet in torchvision's layout (features / avgpool / classifier; 61,100,840 parameters for 1000 classes).</summary>
public sealed class AlexNet : Module
{
    readonly Sequential features, classifier;
    readonly AdaptiveAvgPool2d avgpool;

    /// <summary>Creates the network for 3×224×224 inputs.</summary>
    public AlexNet(int numClasses = 1000, double dropout = 0.5)
    {
        features = RegisterModule("features", new Sequential(
            new Conv2d(3, 64, 11, stride: 4, padding: 2), new ReLU(inplace: true), new MaxPool2d(3, 2),
            new Conv2d(64, 192, 5, padding: 2), new ReLU(inplace: true), new MaxPool2d(3, 2),
            new Conv2d(192, 384, 3, padding: 1), new ReLU(inplace: true),
            new Conv2d(384, 256, 3, padding: 1), new ReLU(inplace: true),
            new Conv2d(256, 256, 3, padding: 1), new ReLU(inplace: true), new MaxPool2d(3, 2)));
        avgpool = RegisterModule("avgpool", new AdaptiveAvgPool2d(6));
        classifier = RegisterModule("classifier", new Sequential(
            new Dropout(dropout), new Linear(256 * 6 * 6, 4096), new ReLU(inplace: true),
            new Dropout(dropout), new Linear(4096, 4096), new ReLU(inplace: true), new Linear(4096, numClasses)));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => classifier.Call(avgpool.Call(features.Call(x)).Flatten(1));
}
