using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Adaptive average pooling to a fixed output size, an int or an (H, W) pair (torch.nn.AdaptiveAvgPool2d); 1 is global average pooling.</summary>
public sealed class AdaptiveAvgPool2d(Size2 outputSize) : Module
{
    /// <summary>The output size.</summary>
    public Size2 OutputSize { get; } = outputSize;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AdaptiveAvgPool2d(input, OutputSize);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"output_size=({OutputSize.H}, {OutputSize.W})";
}
