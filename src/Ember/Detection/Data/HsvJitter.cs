using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
        var jittered = DataTensors.NewPooledImage(3, h, w, "HsvJitter", out var dst); // every pixel is written below
        Jitter(src, dst, h * w, rh, rs, rv);
        return jittered;
    }

    /// <summary>
    /// Jitters the planar RGB pixels of <paramref name="src"/> (three planes of <paramref name="plane"/> values) into
    /// <paramref name="dst"/> with the gains drawn: eight pixels at a time where Vector256 is accelerated, with the same
    /// operations in the same order as <see cref="JitterPixel"/> (which does the rest, and is the vector path's test
    /// oracle), so the result is bit for bit the same on every instruction set.
    /// </summary>
    internal static void Jitter(ReadOnlySpan<float> src, Span<float> dst, int plane, double rh, double rs, double rv)
    {
        if (src.Length < 3 * plane || dst.Length < 3 * plane)
            throw new ArgumentException($"HsvJitter: expected 3 planes of {plane} values, got {src.Length} in and {dst.Length} out");
        int p = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float s0 = ref MemoryMarshal.GetReference(src);
            ref float d0 = ref MemoryMarshal.GetReference(dst);
            for (; p <= plane - Vector256<float>.Count; p += Vector256<float>.Count)
            {
                var r = Vector256.LoadUnsafe(ref s0, (nuint)p);
                var g = Vector256.LoadUnsafe(ref s0, (nuint)(plane + p));
                var b = Vector256.LoadUnsafe(ref s0, (nuint)(2 * plane + p));
                var (nr, ng, nb) = JitterVector(r, g, b, rh, rs, rv);
                nr.StoreUnsafe(ref d0, (nuint)p);
                ng.StoreUnsafe(ref d0, (nuint)(plane + p));
                nb.StoreUnsafe(ref d0, (nuint)(2 * plane + p));
            }
        }
        for (; p < plane; p++)
            (dst[p], dst[plane + p], dst[2 * plane + p]) = JitterPixel(src[p], src[plane + p], src[2 * plane + p], rh, rs, rv);
    }

    /// <summary>One pixel: RGB → HSV (hue in [0, 1)), the gains (hue wrapping, saturation and value clipped to [0, 1]), → RGB.</summary>
    internal static (float R, float G, float B) JitterPixel(float r, float g, float b, double rh, double rs, double rv)
    {
        float max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), delta = max - min;
        float hue = delta == 0 ? 0 : max == r ? (g - b) / delta / 6 : max == g ? ((b - r) / delta + 2) / 6 : ((r - g) / delta + 4) / 6;
        if (hue < 0) hue += 1;
        float sat = max == 0 ? 0 : delta / max, val = max;
        double turned = hue * rh;
        hue = (float)(turned - Math.Truncate(turned)); // = turned % 1.0 exactly (both exact for a finite double), without fmod's call
        sat = Math.Clamp((float)(sat * rs), 0f, 1f);
        val = Math.Clamp((float)(val * rv), 0f, 1f);
        float hh = hue * 6, f = hh - MathF.Floor(hh);
        float pv = val * (1 - sat), qv = val * (1 - sat * f), tv = val * (1 - sat * (1 - f));
        return ((int)MathF.Floor(hh) % 6) switch
        {
            0 => (val, tv, pv), 1 => (qv, val, pv), 2 => (pv, val, tv),
            3 => (pv, qv, val), 4 => (tv, pv, val), _ => (val, pv, qv),
        };
    }

    // JitterPixel on eight pixels: every branch computed and selected by masks; the double products as two halves of four.
    static (Vector256<float> R, Vector256<float> G, Vector256<float> B) JitterVector(Vector256<float> r, Vector256<float> g, Vector256<float> b, double rh, double rs, double rv)
    {
        var zero = Vector256<float>.Zero;
        var one = Vector256.Create(1f);
        var six = Vector256.Create(6f);
        var max = Vector256.Max(r, Vector256.Max(g, b));
        var min = Vector256.Min(r, Vector256.Min(g, b));
        var delta = max - min;
        var hueB = ((r - g) / delta + Vector256.Create(4f)) / six;
        var hueG = ((b - r) / delta + Vector256.Create(2f)) / six;
        var hueR = (g - b) / delta / six;
        var hue = Vector256.ConditionalSelect(Vector256.Equals(max, r), hueR, Vector256.ConditionalSelect(Vector256.Equals(max, g), hueG, hueB));
        hue = Vector256.ConditionalSelect(Vector256.Equals(delta, zero), zero, hue);
        hue = Vector256.ConditionalSelect(Vector256.LessThan(hue, zero), hue + one, hue);
        var sat = Vector256.ConditionalSelect(Vector256.Equals(max, zero), zero, delta / max);
        hue = TimesGain(hue, rh, wrap: true);
        sat = Clamp01(TimesGain(sat, rs, wrap: false));
        var val = Clamp01(TimesGain(max, rv, wrap: false));
        var hh = hue * six;
        var sector = Vector256.Floor(hh);
        var f = hh - sector;
        var pv = val * (one - sat);
        var qv = val * (one - sat * f);
        var tv = val * (one - sat * (one - f));
        // (int)floor(hh) % 6 for hh in [−6, 6]: 0 at 0 and ±6 (and NaN, which the int conversion makes 0), 1…4, else 5
        var s0 = Vector256.Equals(sector, zero) | Vector256.Equals(sector, six) | Vector256.Equals(sector, -six) | ~Vector256.Equals(sector, sector);
        var s1 = Vector256.Equals(sector, one);
        var s2 = Vector256.Equals(sector, Vector256.Create(2f));
        var s3 = Vector256.Equals(sector, Vector256.Create(3f));
        var s4 = Vector256.Equals(sector, Vector256.Create(4f));
        var nr = Vector256.ConditionalSelect(s0, val, Vector256.ConditionalSelect(s1, qv, Vector256.ConditionalSelect(s2 | s3, pv, Vector256.ConditionalSelect(s4, tv, val))));
        var ng = Vector256.ConditionalSelect(s0, tv, Vector256.ConditionalSelect(s1 | s2, val, Vector256.ConditionalSelect(s3, qv, pv)));
        var nb = Vector256.ConditionalSelect(s0 | s1, pv, Vector256.ConditionalSelect(s2, tv, Vector256.ConditionalSelect(s3 | s4, val, qv)));
        return (nr, ng, nb);
    }

    // (float)(x·gain) with the product in double, as the scalar form's float × double; wrap: minus its truncation first
    static Vector256<float> TimesGain(Vector256<float> x, double gain, bool wrap)
    {
        var (lo, hi) = Vector256.Widen(x);
        var k = Vector256.Create(gain);
        lo *= k;
        hi *= k;
        if (wrap)
        {
            lo -= Vector256.Truncate(lo);
            hi -= Vector256.Truncate(hi);
        }
        return Vector256.Narrow(lo, hi);
    }

    // Math.Clamp(x, 0, 1): below 0 → 0, above 1 → 1, else x (NaN stays NaN)
    static Vector256<float> Clamp01(Vector256<float> x)
    {
        x = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), Vector256<float>.Zero, x);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(1f)), Vector256.Create(1f), x);
    }
}
