using System.Globalization;
using SkiaSharp;

namespace Ember.Cli.Commands.Detect;

/// <summary>Draws boxes with class names (and scores) on an image and saves it as PNG (SkiaSharp, which ScottPlot already brings).</summary>
public static class BoxDrawing
{
    static readonly SKColor[] Palette =
    [
        new(255, 56, 56), new(255, 157, 151), new(255, 112, 31), new(255, 178, 29), new(207, 210, 49), new(72, 249, 10), new(146, 204, 23),
        new(61, 219, 134), new(26, 147, 52), new(0, 212, 187), new(44, 153, 168), new(0, 194, 255), new(52, 69, 147), new(100, 115, 255),
        new(0, 24, 236), new(132, 56, 255), new(82, 0, 133), new(203, 56, 255), new(255, 149, 200), new(255, 55, 199),
    ];

    /// <summary>The colour of class <paramref name="k"/> (YOLOv5's palette).</summary>
    public static SKColor ColorOf(int k) => Palette[((k % Palette.Length) + Palette.Length) % Palette.Length];

    /// <summary>
    /// Saves <paramref name="image"/> ([3, H, W] in [0, 1]) to <paramref name="path"/> with <paramref name="detections"/>
    /// (rows x1, y1, x2, y2, score, class in the image's pixels) drawn in their class colour with "name score", and
    /// <paramref name="labels"/> (rows class, x1, y1, x2, y2), when given, as thin white boxes.
    /// </summary>
    public static void Save(Tensor image, Tensor detections, Tensor? labels, IReadOnlyList<string> names, string path)
    {
        int h = image.Size(1), w = image.Size(2);
        var pixels = image.To(DType.Float32).Contiguous().ToArray<float>();
        using var bitmap = new SKBitmap(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var bytes = new byte[w * h * 4];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int o = (y * w + x) * 4;
                for (int c = 0; c < 3; c++) bytes[o + c] = (byte)Math.Clamp((int)MathF.Round(pixels[c * h * w + y * w + x] * 255f), 0, 255);
                bytes[o + 3] = 255;
            }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        using (var canvas = new SKCanvas(bitmap))
        {
            float line = Math.Max(1f, Math.Min(w, h) / 200f);
            using var font = new SKFont(SKTypeface.Default, Math.Max(9f, Math.Min(w, h) / 30f));
            if (labels is not null)
            {
                var l = labels.To(DType.Float32).Contiguous().ToArray<float>();
                using var paint = new SKPaint { Color = SKColors.White, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1f, line / 2), IsAntialias = true };
                for (int i = 0; i < l.Length / 5; i++) canvas.DrawRect(SKRect.Create(l[5 * i + 1], l[5 * i + 2], l[5 * i + 3] - l[5 * i + 1], l[5 * i + 4] - l[5 * i + 2]), paint);
            }
            var d = detections.To(DType.Float32).Contiguous().ToArray<float>();
            for (int i = 0; i < d.Length / 6; i++)
            {
                int k = (int)d[6 * i + 5];
                using var stroke = new SKPaint { Color = ColorOf(k), Style = SKPaintStyle.Stroke, StrokeWidth = line, IsAntialias = true };
                var rect = SKRect.Create(d[6 * i], d[6 * i + 1], d[6 * i + 2] - d[6 * i], d[6 * i + 3] - d[6 * i + 1]);
                canvas.DrawRect(rect, stroke);
                var text = $"{DetectPlots.Name(names, k)} {d[6 * i + 4].ToString("0.00", CultureInfo.InvariantCulture)}";
                float tw = font.MeasureText(text), th = font.Size;
                float top = rect.Top - th - 2 >= 0 ? rect.Top - th - 2 : rect.Top;
                using var fill = new SKPaint { Color = ColorOf(k), Style = SKPaintStyle.Fill };
                canvas.DrawRect(SKRect.Create(rect.Left, top, tw + 4, th + 2), fill);
                using var ink = new SKPaint { Color = SKColors.White, IsAntialias = true };
                canvas.DrawText(text, rect.Left + 2, top + th - 1, SKTextAlign.Left, font, ink);
            }
        }
        using var encoded = SKImage.FromBitmap(bitmap).Encode(SKEncodedImageFormat.Png, 100);
        // whole or not at all, and no temporary left behind when the write fails (a full disk)
        Ember.Interop.AtomicFile.Write(path, encoded.SaveTo);
    }
}
