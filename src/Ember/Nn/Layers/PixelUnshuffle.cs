using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>The inverse of <see cref="PixelShuffle"/> (torch.nn.PixelUnshuffle).</summary>
public sealed class PixelUnshuffle(int downscaleFactor) : Module
{
    /// <summary>The factor r by which height and width shrink.</summary>
    public int DownscaleFactor { get; } = downscaleFactor;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.PixelUnshuffle(input, DownscaleFactor);
    /// <inheritdoc/>
    protected override string ExtraRepr() => $"downscale_factor={DownscaleFactor}";
}
