using Ember.Data;

namespace Ember.Detection.Data;

/// <summary>
/// Conversions between YOLO labels [n, 5] <c>[class, cx, cy, w, h]</c> (normalized) and the pixel boxes [n, 5]
/// <c>[x1, y1, x2, y2, class]</c> the box-carrying transforms work on (the layout of <see cref="Ember.Data.Transforms.Mosaic"/>:
/// corners first, extra columns after). Pixel (i, j) covers [i, i + 1) × [j, j + 1), so a box's edges are pixel edges.
/// </summary>
public static class DetectionBoxes
{
    /// <summary>Labels of an image of <paramref name="height"/> × <paramref name="width"/> as pixel boxes [x1, y1, x2, y2, class].</summary>
    public static Tensor ToPixels(Tensor labels, int height, int width)
    {
        var l = Rows(labels, "ToPixels", "labels [n, 5] (class, cx, cy, w, h)");
        var b = new float[l.Length];
        for (int r = 0; r < l.Length; r += 5)
        {
            b[r] = (l[r + 1] - l[r + 3] / 2) * width;
            b[r + 1] = (l[r + 2] - l[r + 4] / 2) * height;
            b[r + 2] = (l[r + 1] + l[r + 3] / 2) * width;
            b[r + 3] = (l[r + 2] + l[r + 4] / 2) * height;
            b[r + 4] = l[r];
        }
        return DataTensors.Wrap(b, l.Length / 5, 5);
    }

    /// <summary>
    /// Pixel boxes [x1, y1, x2, y2, class] as normalized labels, clipped to the image (YOLOv5 clips with a 1e-3 margin
    /// before normalizing; here the corners are clipped to [0, size] so labels stay valid).
    /// </summary>
    public static Tensor FromPixels(Tensor boxes, int height, int width)
    {
        var b = Rows(boxes, "FromPixels", "pixel boxes [n, 5] (x1, y1, x2, y2, class)");
        var l = new float[b.Length];
        for (int r = 0; r < b.Length; r += 5)
        {
            float x1 = Math.Clamp(b[r], 0, width), y1 = Math.Clamp(b[r + 1], 0, height);
            float x2 = Math.Clamp(b[r + 2], 0, width), y2 = Math.Clamp(b[r + 3], 0, height);
            l[r] = b[r + 4];
            l[r + 1] = (x1 + x2) / 2 / width;
            l[r + 2] = (y1 + y2) / 2 / height;
            l[r + 3] = (x2 - x1) / width;
            l[r + 4] = (y2 - y1) / height;
        }
        return DataTensors.Wrap(l, b.Length / 5, 5);
    }

    internal static float[] Rows(Tensor t, string op, string expected)
    {
        if (t.NumEl == 0) return [];
        if (t.Rank != 2 || t.Size(1) != 5) throw new ArgumentException($"DetectionBoxes.{op}: expected {expected}, got shape {t.Shape}");
        return t.To(DType.Float32).Contiguous().ToArray<float>();
    }
}
