using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Models;

/// <summary>LeNet-5 style network for 28×28 inputs: conv 5×5 (padding 2) → pool → conv 5×5 → pool → 120 → 84 → classes.</summary>
public sealed class LeNet : Module
{
    readonly Sequential features, classifier;

    /// <summary>Creates the network.</summary>
    public LeNet(int inChannels = 1, int numClasses = 10)
    {
        features = RegisterModule("features", new Sequential(
            new Conv2d(inChannels, 6, 5, padding: 2), new ReLU(), new MaxPool2d(2),
            new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2)));
        classifier = RegisterModule("classifier", new Sequential(
            new Flatten(), new Linear(16 * 5 * 5, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, numClasses)));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => classifier.Call(features.Call(x));
}
