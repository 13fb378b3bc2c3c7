using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>The inverse of <see cref="PixelShuffle"/> (torch.nn.PixelUnshuffle).</summary>
public sealed class PixelUnshuffle(int downscaleFactor) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.PixelUnshuffle(input, downscaleFactor);
    /// <inheritdoc/>
    protected override string ExtraRepr() => $"downscale_factor={downscaleFactor}";
}
