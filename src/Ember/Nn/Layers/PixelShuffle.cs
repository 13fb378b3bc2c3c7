using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Sub-pixel rearrangement [N, C·r², H, W] → [N, C, H·r, W·r] (torch.nn.PixelShuffle).</summary>
public sealed class PixelShuffle(int upscaleFactor) : Module
{
    /// <summary>The factor r by which height and width grow.</summary>
    public int UpscaleFactor { get; } = upscaleFactor;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.PixelShuffle(input, UpscaleFactor);
    /// <inheritdoc/>
    protected override string ExtraRepr() => $"upscale_factor={UpscaleFactor}";
}
