using Ember.Data;
using Ember.Data.Transforms;

namespace Ember.Detection.Data;

/// <summary>
/// YOLOv5's flips: up-down with probability <c>vertical</c> (flipud, default 0) and left-right with probability
/// <c>horizontal</c> (fliplr, default 0.5); boxes are mirrored with the image (x ↦ W − x, y ↦ H − y).
/// </summary>
public sealed class DetectionFlip(double horizontal = 0.5, double vertical = 0)
{
    /// <summary>Flips a CHW image and its pixel boxes [n, 5] (x1, y1, x2, y2, class); the up-down draw comes first, as in YOLOv5.</summary>
    public (Tensor Image, Tensor Boxes) Apply(Tensor image, Tensor boxes, Generator generator)
    {
        var (_, h, w) = DataTensors.Chw(image, "DetectionFlip");
        var b = DetectionBoxes.Rows(boxes, "DetectionFlip", "pixel boxes [n, 5] (x1, y1, x2, y2, class)");
        if (generator.NextDouble() < vertical)
        {
            image = ImageKernels.FlipVertical(image, pooled: true);
            for (int r = 0; r < b.Length; r += 5) (b[r + 1], b[r + 3]) = (h - b[r + 3], h - b[r + 1]);
        }
        if (generator.NextDouble() < horizontal)
        {
            image = ImageKernels.FlipHorizontal(image, pooled: true);
            for (int r = 0; r < b.Length; r += 5) (b[r], b[r + 2]) = (w - b[r + 2], w - b[r]);
        }
        return (image, DataTensors.Wrap(b, b.Length / 5, 5));
    }
}
