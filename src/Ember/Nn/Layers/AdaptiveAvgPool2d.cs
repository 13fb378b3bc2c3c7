using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Adaptive average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d); (1, 1) is global average pooling.</summary>
public sealed class AdaptiveAvgPool2d((int H, int W) outputSize) : Module
{
    /// <summary>Square output size.</summary>
    public AdaptiveAvgPool2d(int outputSize) : this((outputSize, outputSize)) { }

    /// <summary>The output size.</summary>
    public (int H, int W) OutputSize { get; } = outputSize;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AdaptiveAvgPool2d(input, OutputSize);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"output_size=({OutputSize.H}, {OutputSize.W})";
}
