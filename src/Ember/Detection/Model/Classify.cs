using Ember.Models;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Detection.Model;

/// <summary>
/// YOLOv5's classification head (models/common.py Classify): a 1×1 Conv (conv, BN, SiLU) to 1280 channels, global
/// average pooling, dropout and a Linear layer to the classes: (N, C, H, W) → (N, classes) logits. Parts named as
/// YOLOv5's (<c>conv</c>, <c>drop</c>, <c>linear</c>).
/// </summary>
public sealed class Classify : Module
{
    /// <summary>The width of YOLOv5's head (its c_ = 1280, EfficientNet-B0's).</summary>
    public const int HiddenChannels = 1280;

    readonly ConvBnSiLU conv;
    readonly Dropout drop;
    readonly Linear linear;

    /// <summary>A head over <paramref name="inChannels"/> channels for <paramref name="numClasses"/> classes, dropout <paramref name="dropout"/>.</summary>
    public Classify(int inChannels, int numClasses, double dropout = 0.0)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "Classify: expected at least one class");
        conv = RegisterModule(nameof(conv), new ConvBnSiLU(inChannels, HiddenChannels, 1));
        drop = RegisterModule(nameof(drop), new Dropout(dropout));
        linear = RegisterModule(nameof(linear), new Linear(HiddenChannels, numClasses));
    }

    /// <summary>The class count.</summary>
    public int NumClasses => linear.OutFeatures;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
        => linear.Call(drop.Call(F.AdaptiveAvgPool2d(conv.Call(x), 1).Flatten(1)));
}
