namespace Ember.Data.Transforms;

/// <summary>
/// Letterbox resize (YOLOv5's adaptive image scaling): scales the image by r = min(height / H, width / W) (not above 1
/// unless scaleUp) keeping its aspect ratio, then pads it evenly with <c>fill</c>: to exactly (height, width), or, with
/// <c>auto</c>, only up to the next multiple of <c>stride</c> (32) in each dim, the minimal rectangle a stride-32
/// network accepts. The result carries the scale and padding so boxes map back.
/// </summary>
public sealed class Letterbox(int height, int width, int stride = 32, bool auto = false, bool scaleUp = true, double fill = 114.0 / 255)
{
    /// <summary>A square target.</summary>
    public Letterbox(int size, int stride = 32, bool auto = false) : this(size, size, stride, auto) { }

    /// <summary>Letterboxes a CHW image.</summary>
    public LetterboxResult Apply(Tensor image)
    {
        var (c, h, w) = DataTensors.Chw(image, "Letterbox");
        double r = Math.Min((double)height / h, (double)width / w);
        if (!scaleUp) r = Math.Min(r, 1.0);
        int nh = Math.Max(1, (int)Math.Round(h * r)), nw = Math.Max(1, (int)Math.Round(w * r));
        int outH = auto ? DataTensors.Side((nh + stride - 1L) / stride * stride, "Letterbox", "padded height") : height;
        int outW = auto ? DataTensors.Side((nw + stride - 1L) / stride * stride, "Letterbox", "padded width") : width;
        var resized = nh == h && nw == w ? image : ImageKernels.ResizeBilinear(image, nh, nw);
        int top = (outH - nh) / 2, left = (outW - nw) / 2;
        var boxed = ImageKernels.CropWithFill(resized, -top, -left, outH, outW, (float)fill);
        return new LetterboxResult(boxed, r, left, top);
    }
}
