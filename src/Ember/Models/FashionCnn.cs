using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Models;

/// <summary>
/// The default CNN for 28×28 grayscale images ("cnn"): two 3×3 conv-BN-ReLU at 32 channels and a max-pool, one at 64
/// channels and a max-pool, then dropout, a 128-unit hidden layer and the head. About 11 M multiply-adds per image.
/// The constructor's norm argument builds each normalization layer from its channel count (default <see cref="BatchNorm2d"/>):
/// for example <c>c =&gt; GroupNorm.WithChannelsPerGroup(c, 16)</c> or <c>c =&gt; new CrossMiniBatchNorm2d(c, 4)</c>.
/// </summary>
public sealed class FashionCnn : Module
{
    readonly Sequential features, classifier;

    /// <summary>Creates the network for <paramref name="inChannels"/>×28×28 inputs.</summary>
    public FashionCnn(int inChannels = 1, int numClasses = 10, double dropout = 0.3, Func<int, Module>? norm = null)
    {
        norm ??= channels => new BatchNorm2d(channels);
        features = RegisterModule("features", new Sequential(
            new Conv2d(inChannels, 32, 3, padding: 1, bias: false), norm(32), new ReLU(),
            new Conv2d(32, 32, 3, padding: 1, bias: false), norm(32), new ReLU(),
            new MaxPool2d(2),
            new Conv2d(32, 64, 3, padding: 1, bias: false), norm(64), new ReLU(),
            new MaxPool2d(2)));
        classifier = RegisterModule("classifier", new Sequential(
            new Flatten(), new Dropout(dropout), new Linear(64 * 7 * 7, 128), new ReLU(), new Dropout(dropout), new Linear(128, numClasses)));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => classifier.Call(features.Call(x));
}
