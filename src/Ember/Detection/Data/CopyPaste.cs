using Ember.Data;

namespace Ember.Detection.Data;

/// <summary>
/// Copy-paste augmentation (Ghiasi et al. 2021, as YOLOv5's <c>copy_paste</c>): for a random p-fraction of the objects,
/// the object is mirrored left-right onto the other side of the image and added as a new label, unless the mirrored
/// box would cover more than 30 % of an existing box (YOLOv5's intersection-over-area test). YOLOv5 pastes the object's
/// segmentation mask; with boxes only, the box's pixels are pasted (the object with a little of its background).
/// </summary>
public sealed class CopyPaste(double p = 0.5)
{
    /// <summary>Applies copy-paste to a CHW image and its pixel boxes [n, 5] (x1, y1, x2, y2, class).</summary>
    public (Tensor Image, Tensor Boxes) Apply(Tensor image, Tensor boxes, Generator generator)
    {
        var (c, h, w) = DataTensors.Chw(image, "CopyPaste");
        var b = DetectionBoxes.Rows(boxes, "CopyPaste", "pixel boxes [n, 5] (x1, y1, x2, y2, class)");
        int n = b.Length / 5;
        if (p <= 0 || n == 0) return (image, boxes);
        var src = DataTensors.Floats(image);
        var dst = src.ToArray();
        var result = new List<float>(b);
        // a random sample of round(p·n) objects, in random order (random.sample)
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) { int j = (int)generator.NextInt64(i + 1); (order[i], order[j]) = (order[j], order[i]); }
        int take = (int)Math.Round(p * n);
        for (int k = 0; k < take; k++)
        {
            int r = order[k] * 5;
            float x1 = w - b[r + 2], x2 = w - b[r], y1 = b[r + 1], y2 = b[r + 3];
            bool free = true;
            for (int e = 0; e < result.Count && free; e += 5)
            {
                double iw = Math.Min(x2, result[e + 2]) - Math.Max(x1, result[e]), ih = Math.Min(y2, result[e + 3]) - Math.Max(y1, result[e + 1]);
                double area = (result[e + 2] - result[e]) * (result[e + 3] - result[e + 1]);
                if (iw > 0 && ih > 0 && iw * ih / (area + 1e-7) >= 0.30) free = false;
            }
            if (!free) continue;
            // whole pixels of the source box, mirrored: destination column x takes source column w − 1 − x
            int px1 = (int)Math.Floor(x1), px2 = (int)Math.Ceiling(x2), py1 = (int)Math.Floor(y1), py2 = (int)Math.Ceiling(y2);
            px1 = Math.Max(px1, 0); py1 = Math.Max(py1, 0); px2 = Math.Min(px2, w); py2 = Math.Min(py2, h);
            for (int ch = 0; ch < c; ch++)
                for (int y = py1; y < py2; y++)
                    for (int x = px1; x < px2; x++)
                        dst[(ch * h + y) * w + x] = src[(ch * h + y) * w + w - 1 - x];
            result.AddRange([x1, y1, x2, y2, b[r + 4]]);
        }
        return (DataTensors.Wrap(dst, c, h, w), DataTensors.Wrap([.. result], result.Count / 5, 5));
    }
}
