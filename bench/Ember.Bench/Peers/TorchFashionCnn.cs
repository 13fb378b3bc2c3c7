using TorchSharp;
using static TorchSharp.torch.nn;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Peers;

/// <summary>
/// Ember's default CNN (src/Ember/Models/FashionCnn.cs, the model of `ember train`) built layer by layer in TorchSharp,
/// with the same submodule names (features.0.weight, classifier.2.bias, …) so Ember's weights copy across by name.
/// </summary>
public static class TorchFashionCnn
{
    /// <summary>conv-BN-ReLU ×2 at 32 channels, max-pool, conv-BN-ReLU at 64, max-pool; flatten, dropout, 3136→128, ReLU, dropout, 128→10.</summary>
    public static Module<TT, TT> Create(int inChannels = 1, int numClasses = 10, double dropout = 0.3) => Sequential(
        ("features", Sequential(
            Conv2d(inChannels, 32, 3, padding: 1, bias: false), BatchNorm2d(32), ReLU(),
            Conv2d(32, 32, 3, padding: 1, bias: false), BatchNorm2d(32), ReLU(),
            MaxPool2d(2),
            Conv2d(32, 64, 3, padding: 1, bias: false), BatchNorm2d(64), ReLU(),
            MaxPool2d(2))),
        ("classifier", Sequential(
            Flatten(), Dropout(dropout), Linear(64 * 7 * 7, 128), ReLU(), Dropout(dropout), Linear(128, numClasses))));
}
