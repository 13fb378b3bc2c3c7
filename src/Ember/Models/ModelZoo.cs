using Ember.Nn;

namespace Ember.Models;

/// <summary>Models by name, for the command line and the benchmarks.</summary>
public static class ModelZoo
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mlp", "cnn", "resnet", "vit", "lenet", "alexnet", "resnet18", "resnet34", "resnet50"];

    /// <summary>
    /// Builds a model by name for inputs of <paramref name="inChannels"/> channels (28×28 for the small models, 224×224
    /// for the torchvision ones); null: 1, or 3 for alexnet, whose torchvision layout has no in_channels (any other
    /// count for it is an error rather than silently ignored). <paramref name="norm"/> (channels → layer) replaces the
    /// cnn's BatchNorm2d layers, e.g. by GroupNorm; the other models take none.
    /// </summary>
    public static Module Create(string name, int numClasses = 10, int? inChannels = null, Func<int, Module>? norm = null) => name switch
    {
        _ when norm is not null && name != "cnn" && Names.Contains(name)
            => throw new ArgumentException($"ModelZoo: {name} has no choice of normalization layer; only cnn takes a norm", nameof(norm)),
        "mlp" => new Mlp((inChannels ?? 1) * 28 * 28, numClasses: numClasses),
        "cnn" => new FashionCnn(inChannels ?? 1, numClasses, norm: norm),
        "resnet" => ResNet.Small(numClasses, inChannels ?? 1),
        "vit" => new VisionTransformer(inChannels: inChannels ?? 1, numClasses: numClasses),
        "lenet" => new LeNet(inChannels ?? 1, numClasses),
        "alexnet" => inChannels is null or 3 ? new AlexNet(numClasses)
            : throw new ArgumentException($"ModelZoo: alexnet takes 3-channel input (torchvision's AlexNet has no in_channels), got in_channels {inChannels}", nameof(inChannels)),
        "resnet18" => ResNet.ResNet18(numClasses, inChannels ?? 1),
        "resnet34" => ResNet.ResNet34(numClasses, inChannels ?? 1),
        "resnet50" => ResNet.ResNet50(numClasses, inChannels ?? 1),
        _ => throw new ArgumentException($"unknown model '{name}'; valid choices: {string.Join(", ", Names)}"),
    };

    /// <summary>The input shape (without batch) a zoo model expects.</summary>
    public static int[] InputShape(string name, int inChannels = 1) => name is "alexnet" or "resnet18" or "resnet34" or "resnet50"
        ? [3, 224, 224] : [inChannels, 28, 28];
}
