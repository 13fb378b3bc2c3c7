using Ember.Nn;

namespace Ember.Models;

/// <summary>Models by name, for the command line and the benchmarks.</summary>
public static class ModelZoo
{
    /// <summary>The models whose normalization layers <see cref="Create"/>'s norm argument replaces.</summary>
    public static IReadOnlyList<string> NormModels { get; } = ["cnn", "resnet", "resnet18", "resnet34", "resnet50"];

    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mlp", "cnn", "resnet", "vit", "lenet", "alexnet", "resnet18", "resnet34", "resnet50"];

    /// <summary>
    /// Builds a model by name for inputs of <paramref name="inChannels"/> channels (28×28 for the small models, 224×224
    /// for the torchvision ones); null: 1, or 3 for alexnet, whose torchvision layout has no in_channels (any other
    /// count for it is an error rather than silently ignored). <paramref name="norm"/> (channels → layer) replaces the
    /// normalization layers of the convolutional models (cnn, the resnets), e.g. by GroupNorm with 16 channels per group.
    /// The others take none: mlp normalizes single features (BatchNorm1d), where GroupNorm's case — many spatial values
    /// per channel and small batches — does not arise; vit and lenet/alexnet have no BatchNorm to replace (vit uses
    /// LayerNorm, as transformers do).
    /// </summary>
    public static Module Create(string name, int numClasses = 10, int? inChannels = null, Func<int, Module>? norm = null) => name switch
    {
        _ when norm is not null && !NormModels.Contains(name) && Names.Contains(name)
            => throw new ArgumentException($"ModelZoo: {name} has no choice of normalization layer; only {string.Join(", ", NormModels)} take a norm", nameof(norm)),
        "mlp" => new Mlp((inChannels ?? 1) * 28 * 28, numClasses: numClasses),
        "cnn" => new FashionCnn(inChannels ?? 1, numClasses, norm: norm),
        "resnet" => ResNet.Small(numClasses, inChannels ?? 1, norm: norm),
        "vit" => new VisionTransformer(inChannels: inChannels ?? 1, numClasses: numClasses),
        "lenet" => new LeNet(inChannels ?? 1, numClasses),
        "alexnet" => inChannels is null or 3 ? new AlexNet(numClasses)
            : throw new ArgumentException($"ModelZoo: alexnet takes 3-channel input (torchvision's AlexNet has no in_channels), got in_channels {inChannels}", nameof(inChannels)),
        "resnet18" => ResNet.ResNet18(numClasses, inChannels ?? 1, norm),
        "resnet34" => ResNet.ResNet34(numClasses, inChannels ?? 1, norm),
        "resnet50" => ResNet.ResNet50(numClasses, inChannels ?? 1, norm),
        _ => throw new ArgumentException($"unknown model '{name}'; valid choices: {string.Join(", ", Names)}"),
    };

    /// <summary>The input shape (without batch) a zoo model expects.</summary>
    public static int[] InputShape(string name, int inChannels = 1) => name is "alexnet" or "resnet18" or "resnet34" or "resnet50"
        ? [3, 224, 224] : [inChannels, 28, 28];
}
