namespace Ember.Data.Transforms;

/// <summary>
/// Bilinear resize (torchvision.transforms.Resize with antialias=False, i.e. F.interpolate(mode="bilinear",
/// align_corners=False)). With one size the smaller edge becomes that size and the aspect ratio is kept.
/// </summary>
public sealed class Resize : ITransform
{
    readonly int height, width, smallerEdge;

    /// <summary>Resizes to exactly (height, width).</summary>
    public Resize(int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentException($"Resize: size must be positive, got ({height}, {width})");
        (this.height, this.width) = (height, width);
    }

    /// <summary>Resizes so that the smaller edge is <paramref name="size"/>, keeping the aspect ratio.</summary>
    public Resize(int size)
    {
        if (size <= 0) throw new ArgumentException($"Resize: size must be positive, got {size}");
        smallerEdge = size;
    }

    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator)
    {
        var (_, h, w) = DataTensors.Chw(input, "Resize");
        int oh = height, ow = width;
        if (smallerEdge > 0)
        {
            // in 64 bits: a long thin image scaled up would wrap an int width to a negative or small one
            if (h <= w) { oh = smallerEdge; ow = DataTensors.Side(smallerEdge * (long)w / h, "Resize", $"width of {h}×{w} resized to a smaller edge of {smallerEdge}"); }
            else { ow = smallerEdge; oh = DataTensors.Side(smallerEdge * (long)h / w, "Resize", $"height of {h}×{w} resized to a smaller edge of {smallerEdge}"); }
        }
        return oh == h && ow == w ? input : ImageKernels.ResizeBilinear(input, oh, ow);
    }

    /// <summary>Resizes a CHW image to (height, width) bilinearly.</summary>
    public static Tensor Bilinear(Tensor image, int height, int width) => ImageKernels.ResizeBilinear(image, height, width);
}
