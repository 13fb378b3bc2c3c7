namespace Ember.Detection.Data;

/// <summary>
/// The augmentation hyper-parameters of training, named and defaulted as YOLOv5's hyp.scratch-low.yaml: HSV gains,
/// affine ranges (degrees, translate, scale, shear), flip probabilities, and the probabilities of mosaic and copy-paste.
/// </summary>
public sealed record DetectionAugmentation
{
    /// <summary>Hue gain (hsv_h).</summary>
    public double HsvH { get; init; } = 0.015;
    /// <summary>Saturation gain (hsv_s).</summary>
    public double HsvS { get; init; } = 0.7;
    /// <summary>Value gain (hsv_v).</summary>
    public double HsvV { get; init; } = 0.4;
    /// <summary>Rotation range in degrees (degrees).</summary>
    public double Degrees { get; init; }
    /// <summary>Translation range as a fraction of the size (translate).</summary>
    public double Translate { get; init; } = 0.1;
    /// <summary>Scale range: the scale is U(1 − scale, 1 + scale) (scale).</summary>
    public double Scale { get; init; } = 0.5;
    /// <summary>Shear range in degrees (shear).</summary>
    public double Shear { get; init; }
    /// <summary>Up-down flip probability (flipud).</summary>
    public double FlipUd { get; init; }
    /// <summary>Left-right flip probability (fliplr).</summary>
    public double FlipLr { get; init; } = 0.5;
    /// <summary>Mosaic probability (mosaic).</summary>
    public double Mosaic { get; init; } = 1.0;
    /// <summary>Copy-paste probability per object (copy_paste).</summary>
    public double CopyPaste { get; init; }

    /// <summary>No augmentation at all (every probability and range 0): letterboxed images only.</summary>
    public static DetectionAugmentation None => new() { HsvH = 0, HsvS = 0, HsvV = 0, Translate = 0, Scale = 0, FlipLr = 0, Mosaic = 0 };
}
