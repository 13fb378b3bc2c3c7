using Ember.Data;
using Ember.Detection.Data;

namespace Ember.Tests.Detection.Data;

/// <summary>
/// Test images with filled rectangles of distinct colours (class k has colour k) on YOLOv5's grey, and the check that a
/// transform kept boxes and pixels together: the pixels of a class's colour inside a label's box have a tight box that
/// overlaps the label's box with a high IoU.
/// </summary>
static class BoxPainting
{
    public static readonly float[][] Colours = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]];
    public const float Grey = 114f / 255;

    /// <summary>An h×w image with rectangles (x1, y1, x2, y2 in pixels, class) painted on grey, and its YOLO labels.</summary>
    public static DetectionSample Paint(int h, int w, params (int X1, int Y1, int X2, int Y2, int Class)[] boxes)
    {
        var px = new float[3 * h * w];
        Array.Fill(px, Grey);
        var labels = new List<float>();
        foreach (var (x1, y1, x2, y2, cls) in boxes)
        {
            for (int c = 0; c < 3; c++)
                for (int y = y1; y < y2; y++)
                    for (int x = x1; x < x2; x++) px[(c * h + y) * w + x] = Colours[cls][c];
            labels.AddRange([cls, (x1 + x2) / 2f / w, (y1 + y2) / 2f / h, (float)(x2 - x1) / w, (float)(y2 - y1) / h]);
        }
        return new DetectionSample(Torch.FromArray(px, [3, h, w]), Torch.FromArray(labels.ToArray(), [boxes.Length, 5]), $"painted{h}x{w}");
    }

    static bool Is(float[] px, int h, int w, int x, int y, int cls)
    {
        for (int c = 0; c < 3; c++) if (Math.Abs(px[(c * h + y) * w + x] - Colours[cls][c]) > 0.3f) return false;
        return true;
    }

    /// <summary>
    /// Checks the labels are valid (class in range, coordinates in [0, 1], positive size) and each label's box matches
    /// the pixels of its colour: IoU(label box, tight box of those pixels within the label box grown by 3 px) ≥ minIoU.
    /// With <paramref name="everyPixelLabelled"/>, every pixel of a class's colour also lies in a box of that class.
    /// </summary>
    public static void AssertBoxesMatchPixels(DetectionSample s, double minIoU = 0.9, bool everyPixelLabelled = true)
    {
        int h = s.Height, w = s.Width;
        var px = s.Image.ToArray<float>();
        var l = s.Labels.ToArray<float>();
        var boxes = new List<(double X1, double Y1, double X2, double Y2, int Class)>();
        for (int r = 0; r < l.Length; r += 5)
        {
            Assert.InRange(l[r], 0, Colours.Length - 1);
            Assert.Equal(Math.Floor(l[r]), l[r]);
            for (int k = 1; k < 5; k++) Assert.InRange(l[r + k], 0f, 1f);
            Assert.True(l[r + 3] > 0 && l[r + 4] > 0, $"label {r / 5} has no size");
            Assert.InRange(l[r + 1] - l[r + 3] / 2, -1e-5, 1);
            Assert.InRange(l[r + 2] + l[r + 4] / 2, 0, 1 + 1e-5);
            boxes.Add(((l[r + 1] - l[r + 3] / 2) * w, (l[r + 2] - l[r + 4] / 2) * h, (l[r + 1] + l[r + 3] / 2) * w, (l[r + 2] + l[r + 4] / 2) * h, (int)l[r]));
        }
        foreach (var b in boxes)
        {
            int x0 = Math.Max(0, (int)b.X1 - 3), x1 = Math.Min(w, (int)Math.Ceiling(b.X2) + 3), y0 = Math.Max(0, (int)b.Y1 - 3), y1 = Math.Min(h, (int)Math.Ceiling(b.Y2) + 3);
            int mx0 = int.MaxValue, my0 = int.MaxValue, mx1 = -1, my1 = -1;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                    if (Is(px, h, w, x, y, b.Class)) { mx0 = Math.Min(mx0, x); my0 = Math.Min(my0, y); mx1 = Math.Max(mx1, x + 1); my1 = Math.Max(my1, y + 1); }
            Assert.True(mx1 > 0, $"no pixel of class {b.Class}'s colour near its box {b}");
            double iw = Math.Min(b.X2, mx1) - Math.Max(b.X1, mx0), ih = Math.Min(b.Y2, my1) - Math.Max(b.Y1, my0);
            double inter = Math.Max(0, iw) * Math.Max(0, ih);
            double iou = inter / ((b.X2 - b.X1) * (b.Y2 - b.Y1) + (double)(mx1 - mx0) * (my1 - my0) - inter);
            Assert.True(iou >= minIoU, $"class {b.Class}: label box {b} vs its pixels' box ({mx0}, {my0}, {mx1}, {my1}): IoU {iou:F3} < {minIoU}");
        }
        if (!everyPixelLabelled) return;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < Colours.Length; c++)
                    if (Is(px, h, w, x, y, c))
                        Assert.True(boxes.Any(b => b.Class == c && x + 0.5 >= b.X1 - 2 && x + 0.5 <= b.X2 + 2 && y + 0.5 >= b.Y1 - 2 && y + 0.5 <= b.Y2 + 2),
                            $"pixel ({x}, {y}) has class {c}'s colour but lies in no box of that class");
    }

    /// <summary>Pixel boxes [x1, y1, x2, y2, class] of a sample.</summary>
    public static Tensor Pixels(DetectionSample s) => DetectionBoxes.ToPixels(s.Labels, s.Height, s.Width);

    /// <summary>A sample from an image and pixel boxes.</summary>
    public static DetectionSample FromPixels(Tensor image, Tensor boxes) => new(image, DetectionBoxes.FromPixels(boxes, image.Size(1), image.Size(2)));
}

/// <summary>An in-memory list of detection samples.</summary>
sealed class SampleList(params DetectionSample[] samples) : IDataset<DetectionSample>
{
    public int Count => samples.Length;
    public DetectionSample this[int index] => samples[index];
}
