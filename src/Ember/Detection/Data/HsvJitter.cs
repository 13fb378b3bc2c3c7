using Ember.Data;

namespace Ember.Detection.Data;

/// <summary>
/// YOLOv5's <c>augment_hsv</c>: draws gains r = 1 + U(−1, 1)·(hGain, sGain, vGain) and multiplies each pixel's hue
/// (wrapping around the colour circle), saturation and value by them (saturation and value clipped to [0, 1]). Boxes do
/// not move. Defaults are YOLOv5's hyp.scratch-low: 0.015, 0.7, 0.4.
/// </summary>
public sealed class HsvJitter(double hGain = 0.015, double sGain = 0.7, double vGain = 0.4)
{
    /// <summary>Jitters an RGB [3, H, W] image in [0, 1].</summary>
    public Tensor Apply(Tensor image, Generator generator)
    {
        var (c, h, w) = DataTensors.Chw(image, "HsvJitter");
        if (c != 3) throw new ArgumentException($"HsvJitter: expected an RGB image [3, H, W], got {c} channels");
        double rh = 1 + (2 * generator.NextDouble() - 1) * hGain, rs = 1 + (2 * generator.NextDouble() - 1) * sGain, rv = 1 + (2 * generator.NextDouble() - 1) * vGain;
        var src = DataTensors.Floats(image);
        int plane = h * w;
        var jittered = DataTensors.NewPooledImage(3, h, w, "HsvJitter", out var dst); // every pixel is written below
        for (int p = 0; p < plane; p++)
        {
            float r = src[p], g = src[plane + p], b = src[2 * plane + p];
            float max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), delta = max - min;
            // RGB → HSV with hue in [0, 1)
            float hue = delta == 0 ? 0 : max == r ? (g - b) / delta / 6 : max == g ? ((b - r) / delta + 2) / 6 : ((r - g) / delta + 4) / 6;
            if (hue < 0) hue += 1;
            float sat = max == 0 ? 0 : delta / max, val = max;
            double turned = hue * rh;
            hue = (float)(turned - Math.Truncate(turned)); // = turned % 1.0 exactly (both exact for a finite double), without fmod's call
            sat = Math.Clamp((float)(sat * rs), 0f, 1f);
            val = Math.Clamp((float)(val * rv), 0f, 1f);
            // HSV → RGB
            float hh = hue * 6, f = hh - MathF.Floor(hh);
            float pv = val * (1 - sat), qv = val * (1 - sat * f), tv = val * (1 - sat * (1 - f));
            (r, g, b) = ((int)MathF.Floor(hh) % 6) switch
            {
                0 => (val, tv, pv), 1 => (qv, val, pv), 2 => (pv, val, tv),
                3 => (pv, qv, val), 4 => (tv, pv, val), _ => (val, pv, qv),
            };
            dst[p] = r; dst[plane + p] = g; dst[2 * plane + p] = b;
        }
        return jittered;
    }
}
