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

    /// <summary>The output size, when the layer was built with one (else <see cref="ScaleFactor"/> is set).</summary>
    public (int H, int W)? Size => size;

    /// <summary>The scale factor, when the layer was built with one (else <see cref="Size"/> is set).</summary>
    public (double H, double W)? ScaleFactor => scale;

    /// <summary>The interpolation mode.</summary>
    public InterpolationMode Mode => mode;

    /// <summary>Bilinear only: whether the corner pixels of input and output are aligned.</summary>
    public bool AlignCorners => alignCorners;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Interpolate(input, size, scale, mode, alignCorners);

    /// <inheritdoc/>
    protected override string ExtraRepr() => (scale is var (h, _) ? $"scale_factor={h:0.0#}" : $"size=({size!.Value.H}, {size.Value.W})") + $", mode='{mode.ToString().ToLowerInvariant()}'";
}
