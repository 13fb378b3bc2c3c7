using Ember.Nn;

namespace Ember.Models;

/// <summary>Models by name, for the command line and the benchmarks.</summary>
public static class ModelZoo
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mlp", "cnn", "resnet", "vit", "lenet", "alexnet", "resnet18", "resnet34", "resnet50"];

    /// <summary>Builds a model by name for inputs of <paramref name="inChannels"/> channels (28×28 for the small models, 224×224 for the torchvision ones).</summary>
    public static Module Create(string name, int numClasses = 10, int inChannels = 1) => name switch
    {
        "mlp" => new Mlp(inChannels * 28 * 28, numClasses: numClasses),
        "cnn" => new FashionCnn(inChannels, numClasses),
        "resnet" => ResNet.Small(numClasses, inChannels),
        "vit" => new VisionTransformer(inChannels: inChannels, numClasses: numClasses),
        "lenet" => new LeNet(inChannels, numClasses),
        "alexnet" => new AlexNet(numClasses),
        "resnet18" => ResNet.ResNet18(numClasses, inChannels),
        "resnet34" => ResNet.ResNet34(numClasses, inChannels),
        "resnet50" => ResNet.ResNet50(numClasses, inChannels),
        _ => throw new ArgumentException($"unknown model '{name}'; valid choices: {string.Join(", ", Names)}"),
    };

    /// <summary>The input shape (without batch) a zoo model expects.</summary>
    public static int[] InputShape(string name, int inChannels = 1) => name is "alexnet" or "resnet18" or "resnet34" or "resnet50"
        ? [3, 224, 224] : [inChannels, 28, 28];
}
