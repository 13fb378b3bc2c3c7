using Ember.Data.Transforms;

namespace Ember.Data;

/// <summary>
/// Fashion-MNIST (torchvision.datasets.FashionMNIST): 60,000 training and 10,000 test 28×28 grayscale images of
/// Zalando articles in 10 classes. Ember ships the files in data/fashion-mnist, found by default by walking up from the
/// current directory and from the program's folder. Items are (image [1, 28, 28] float32 in [0, 1], label).
/// </summary>
public sealed class FashionMnist : Mnist
{
    /// <summary>The class names, indexed by label.</summary>
    public static readonly IReadOnlyList<string> Classes =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Loads the train or test split from <paramref name="root"/> (default: the repository's data/fashion-mnist).</summary>
    public FashionMnist(string? root = null, bool train = true, ITransform? transform = null)
        : base(root, train, transform, "fashion-mnist", Classes) { }
}
