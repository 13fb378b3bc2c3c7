using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Models;

/// <summary>
/// The default CNN for 28×28 grayscale images ("cnn"): two 3×3 conv-BN-ReLU at 32 channels and a max-pool, one at 64
/// channels and a max-pool, then dropout, a 128-unit hidden layer and the head. About 11 M multiply-adds per image.
/// The constructor's norm argument builds each normalization layer from its channel count (default <see cref="BatchNorm2d"/>):
/// for example <c>c =&gt; GroupNorm.WithChannelsPerGroup(c, 16)</c> or <c>c =&gt; new CrossMiniBatchNorm2d(c, 4)</c>.
/// An optional <see cref="DropBlock2d"/> acts after the first max-pool, on the 14×14 maps; it holds no state, so the
/// state-dict names are the same with and without it.
/// </summary>
public sealed class FashionCnn : Module
{
    readonly Sequential features, classifier;
    readonly DropBlock2d? dropBlock;
    const int FirstPool = 6; // features[6] is the first max-pool

    /// <summary>Creates the network for <paramref name="inChannels"/>×28×28 inputs.</summary>
    public FashionCnn(int inChannels = 1, int numClasses = 10, double dropout = 0.3, Func<int, Module>? norm = null, DropBlock2d? dropBlock = null)
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
        if (dropBlock is not null) this.dropBlock = RegisterModule("drop_block", dropBlock);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        if (dropBlock is null) return classifier.Call(features.Call(x));
        int i = 0;
        foreach (var layer in features.Children())
        {
            x = layer.Call(x);
            if (i++ == FirstPool) x = dropBlock.Call(x);
        }
        return classifier.Call(x);
    }
}
