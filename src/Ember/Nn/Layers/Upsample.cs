using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Upsampling layer (torch.nn.Upsample) by a scale factor or to a size, nearest or bilinear.</summary>
public sealed class Upsample : Module
{
    readonly (int H, int W)? size;
    readonly (double H, double W)? scale;
    readonly InterpolationMode mode;
    readonly bool alignCorners;

    /// <summary>Upsamples by <paramref name="scaleFactor"/>.</summary>
    public Upsample(double scaleFactor, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
        => (scale, this.mode, this.alignCorners) = ((scaleFactor, scaleFactor), mode, alignCorners);

    /// <summary>Resizes to <paramref name="size"/>.</summary>
    public Upsample((int H, int W) size, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
        => (this.size, this.mode, this.alignCorners) = (size, mode, alignCorners);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Interpolate(input, size, scale, mode, alignCorners);

    /// <inheritdoc/>
    protected override string ExtraRepr() => (scale is var (h, _) ? $"scale_factor={h:0.0#}" : $"size=({size!.Value.H}, {size.Value.W})") + $", mode='{mode.ToString().ToLowerInvariant()}'";
}
