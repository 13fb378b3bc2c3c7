namespace Ember.Data.Transforms;

/// <summary>
/// Mosaic (YOLOv4/v5): four images into one square of side <c>size</c>. A centre (xc, yc) is drawn uniformly in the
/// middle half; image 0 fills the top-left quadrant with its bottom-right corner at the centre, image 1 the top-right
/// with its bottom-left corner there, image 2 the bottom-left, image 3 the bottom-right; parts outside a quadrant are
/// cut off and uncovered pixels take <c>fill</c>. Boxes [n, 4 + k] (x1, y1, x2, y2 in pixels, then k extra columns such as
/// the class) are shifted, clipped to their quadrant, and dropped when less than <c>minSide</c> pixels wide or high.
/// </summary>
public sealed class Mosaic(int size, double fill = 114.0 / 255, double minSide = 2)
{
    /// <summary>Combines four (image [C, H, W], boxes [n, 4 + k]) pairs.</summary>
    public (Tensor Image, Tensor Boxes) Apply(IReadOnlyList<(Tensor Image, Tensor Boxes)> items, Generator generator)
    {
        if (items.Count != 4) throw new ArgumentException($"Mosaic: expects 4 images, got {items.Count}");
        int c = DataTensors.Chw(items[0].Image, "Mosaic").C;
        int xc = size / 4 + (int)generator.NextInt64(size / 2 + 1), yc = size / 4 + (int)generator.NextInt64(size / 2 + 1);
        // the canvas is the same size for every item: a pooled buffer, filled here in full
        var result = DataTensors.NewPooledImage(c, size, size, "Mosaic", out var canvas);
        canvas.AsSpan().Fill((float)fill);
        var boxes = new List<float[]>();
        int cols = -1;
        for (int k = 0; k < 4; k++)
        {
            var (img, bx) = items[k];
            var (ci, h, w) = DataTensors.Chw(img, "Mosaic");
            if (ci != c) throw new ArgumentException($"Mosaic: image {k} has {ci} channels but image 0 has {c}");
            // Quadrant on the canvas and the image's top-left corner in canvas coordinates.
            var (qx0, qy0, qx1, qy1) = k switch { 0 => (0, 0, xc, yc), 1 => (xc, 0, size, yc), 2 => (0, yc, xc, size), _ => (xc, yc, size, size) };
            int ox = k is 0 or 2 ? xc - w : xc, oy = k is 0 or 1 ? yc - h : yc;
            int x0 = Math.Max(qx0, ox), x1 = Math.Min(qx1, ox + w), y0 = Math.Max(qy0, oy), y1 = Math.Min(qy1, oy + h);
            var src = DataTensors.Floats(img);
            if (x1 > x0)
                for (int ch = 0; ch < c; ch++)
                    for (int y = y0; y < y1; y++)
                        src.Slice(ch * h * w + (y - oy) * w + (x0 - ox), x1 - x0).CopyTo(canvas.AsSpan(ch * size * size + y * size + x0));
            if (bx.NumEl == 0) continue;
            if (bx.Rank != 2 || bx.Size(1) < 4) throw new ArgumentException($"Mosaic: boxes of image {k} must have shape [n, 4 + k] (x1, y1, x2, y2, ...), got {bx.Shape}");
            if (cols < 0) cols = bx.Size(1);
            else if (cols != bx.Size(1)) throw new ArgumentException($"Mosaic: boxes of image {k} have {bx.Size(1)} columns but earlier ones have {cols}");
            var b = bx.To(DType.Float32).Contiguous().ToArray<float>();
            for (int r = 0; r < bx.Size(0); r++)
            {
                var row = b.AsSpan(r * cols, cols).ToArray();
                row[0] = Math.Clamp(row[0] + ox, qx0, qx1); row[2] = Math.Clamp(row[2] + ox, qx0, qx1);
                row[1] = Math.Clamp(row[1] + oy, qy0, qy1); row[3] = Math.Clamp(row[3] + oy, qy0, qy1);
                if (row[2] - row[0] >= minSide && row[3] - row[1] >= minSide) boxes.Add(row);
            }
        }
        if (cols < 0) cols = 4;
        var flat = boxes.SelectMany(r => r).ToArray();
        return (result, DataTensors.Wrap(flat, boxes.Count, cols));
    }
}
