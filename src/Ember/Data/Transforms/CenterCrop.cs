namespace Ember.Data.Transforms;

/// <summary>Crops the central (height, width) window, padding with zeros when the image is smaller (torchvision.transforms.CenterCrop).</summary>
public sealed class CenterCrop(int height, int width) : ITransform
{
    /// <summary>A square center crop.</summary>
    public CenterCrop(int size) : this(size, size) { }

    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator)
    {
        var (_, h, w) = DataTensors.Chw(input, "CenterCrop");
        int top = (int)Math.Round((h - height) / 2.0), left = (int)Math.Round((w - width) / 2.0);
        return ImageKernels.CropWithFill(input, top, left, height, width, 0);
    }
}
