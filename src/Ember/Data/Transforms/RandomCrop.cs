namespace Ember.Data.Transforms;

/// <summary>
/// Pads the image by <c>padding</c> on every side with <c>fill</c>, then crops a random (height, width) window
/// (torchvision.transforms.RandomCrop). RandomCrop(28, padding: 4) is the classic small-image augmentation.
/// </summary>
public sealed class RandomCrop(int size, int padding = 0, double fill = 0) : ITransform
{
    readonly int height = size, width = size;

    /// <summary>A (height, width) crop.</summary>
    public RandomCrop((int Height, int Width) size, int padding = 0, double fill = 0) : this(size.Height, padding, fill)
        => width = size.Width;

    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator)
    {
        var (_, h, w) = DataTensors.Chw(input, "RandomCrop");
        if (padding < 0) throw new ArgumentException($"RandomCrop: padding must be non-negative, got {padding}");
        // in 64 bits: h + 2·padding wraps an int for a padding near 2³⁰
        int ph = DataTensors.Side(h + 2L * padding, "RandomCrop", "padded height"), pw = DataTensors.Side(w + 2L * padding, "RandomCrop", "padded width");
        if (ph < height || pw < width)
            throw new ArgumentException($"RandomCrop: required crop size ({height}, {width}) is larger than the padded input image size ({ph}, {pw}) (input shape {input.Shape}, padding {padding})");
        int top = (int)generator.NextInt64(ph - height + 1), left = (int)generator.NextInt64(pw - width + 1);
        return ImageKernels.CropWithFill(input, top - padding, left - padding, height, width, (float)fill);
    }
}
