namespace Ember.Detection.Data;

/// <summary>
/// Options of <see cref="FashionMnistDetectionSet"/>: how many images, their size range, how many items per image and at
/// which scales, how much they may overlap, and how much clutter and noise the background gets. The defaults generate
/// 500 training and 100 validation images of 160–320 px in a few seconds.
/// </summary>
public sealed record SyntheticDetectionOptions
{
    /// <summary>Training images (items drawn from Fashion-MNIST's training split).</summary>
    public int TrainImages { get; init; } = 500;
    /// <summary>Validation images (items drawn from Fashion-MNIST's test split).</summary>
    public int ValImages { get; init; } = 100;
    /// <summary>Smallest canvas side in pixels; width and height are drawn independently, so aspect ratios vary.</summary>
    public int MinSide { get; init; } = 160;
    /// <summary>Largest canvas side in pixels.</summary>
    public int MaxSide { get; init; } = 320;
    /// <summary>Fewest items per image.</summary>
    public int MinObjects { get; init; } = 1;
    /// <summary>Most items per image (fewer when no free place is found).</summary>
    public int MaxObjects { get; init; } = 6;
    /// <summary>Smallest item scale relative to Fashion-MNIST's 28 px.</summary>
    public double MinScale { get; init; } = 1.25;
    /// <summary>Largest item scale relative to 28 px.</summary>
    public double MaxScale { get; init; } = 4.0;
    /// <summary>Largest IoU between two items' boxes (items drawn later occlude earlier ones).</summary>
    public double MaxOverlap { get; init; } = 0.3;
    /// <summary>Most clutter shapes (low-contrast rectangles and lines, unlabelled) per image.</summary>
    public int Clutter { get; init; } = 8;
    /// <summary>Standard deviation of the Gaussian pixel noise added last.</summary>
    public double Noise { get; init; } = 0.02;
    /// <summary>Largest brightness change of the background gradient across the image.</summary>
    public double Gradient { get; init; } = 0.15;
    /// <summary>The seed: the same seed and options give the same files, byte for byte.</summary>
    public long Seed { get; init; }

    /// <summary>Checks the options; errors name the option, what was expected and what came.</summary>
    public void Validate()
    {
        static void Require(bool ok, string option, string expected, object got)
        {
            if (!ok) throw new ArgumentException($"make-data: {option} must be {expected}, got {got}");
        }
        Require(TrainImages >= 0, "train-images", "at least 0", TrainImages);
        Require(ValImages >= 0, "val-images", "at least 0", ValImages);
        Require(MinSide >= 64, "min-side", "at least 64 px", MinSide);
        Require(MaxSide >= MinSide && MaxSide <= 4096, $"max-side", $"between min-side ({MinSide}) and 4096", MaxSide);
        Require(MinObjects >= 0, "min-objects", "at least 0", MinObjects);
        Require(MaxObjects >= MinObjects && MaxObjects <= 100, "max-objects", $"between min-objects ({MinObjects}) and 100", MaxObjects);
        Require(MinScale >= 0.5, "min-scale", "at least 0.5", MinScale);
        Require(MaxScale >= MinScale, "max-scale", $"at least min-scale ({MinScale})", MaxScale);
        Require(MaxScale * 28 <= MinSide, "max-scale", $"at most min-side / 28 = {MinSide / 28.0:G3} (an item must fit the smallest canvas)", MaxScale);
        Require(MaxOverlap is >= 0 and <= 1, "max-overlap", "in [0, 1]", MaxOverlap);
        Require(Clutter >= 0, "clutter", "at least 0", Clutter);
        Require(Noise is >= 0 and <= 0.5, "noise", "in [0, 0.5]", Noise);
        Require(Gradient is >= 0 and <= 0.5, "gradient", "in [0, 0.5]", Gradient);
    }
}
