using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Adaptive max pooling to a fixed output size (torch.nn.AdaptiveMaxPool2d).</summary>
public sealed class AdaptiveMaxPool2d((int H, int W) outputSize) : Module
{
    /// <summary>Square output size.</summary>
    public AdaptiveMaxPool2d(int outputSize) : this((outputSize, outputSize)) { }

    /// <summary>The output size.</summary>
    public (int H, int W) OutputSize { get; } = outputSize;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AdaptiveMaxPool2d(input, OutputSize);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"output_size=({OutputSize.H}, {OutputSize.W})";
}
