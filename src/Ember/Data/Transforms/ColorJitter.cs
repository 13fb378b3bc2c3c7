namespace Ember.Data.Transforms;

/// <summary>
/// Randomly changes brightness, contrast, saturation and hue, in a random order (torchvision.transforms.ColorJitter).
/// Factors are uniform in [max(0, 1 − b), 1 + b] for brightness, contrast and saturation, and in [−hue, hue] (hue ≤ 0.5)
/// for the hue shift. Saturation and hue act only on 3-channel (RGB) images; values stay in [0, 1].
/// </summary>
public sealed class ColorJitter : ITransform
{
    readonly double brightness, contrast, saturation, hue;

    /// <summary>A jitter; 0 disables a component.</summary>
    public ColorJitter(double brightness = 0, double contrast = 0, double saturation = 0, double hue = 0)
    {
        if (brightness < 0 || contrast < 0 || saturation < 0)
            throw new ArgumentException($"ColorJitter: brightness, contrast and saturation must be non-negative, got {brightness}, {contrast}, {saturation}");
        if (hue < 0 || hue > 0.5) throw new ArgumentException($"ColorJitter: hue must be in [0, 0.5], got {hue}");
        (this.brightness, this.contrast, this.saturation, this.hue) = (brightness, contrast, saturation, hue);
    }

    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator)
    {
        var (c, h, w) = DataTensors.Chw(input, "ColorJitter");
        if (c != 1 && c != 3) throw new ArgumentException($"ColorJitter: expected 1 or 3 channels, got shape {input.Shape}");
        var order = new int[4];
        RandomSampler.Permute(order, generator);
        double bf = Factor(brightness, generator), cf = Factor(contrast, generator), sf = Factor(saturation, generator);
        double hf = hue > 0 ? -hue + 2 * hue * generator.NextDouble() : 0;
        var data = ImageKernels.CopyData(input);
        int plane = h * w;
        foreach (var op in order)
        {
            switch (op)
            {
                case 0 when brightness > 0: Blend(data, (float)bf, 0f); break;
                case 1 when contrast > 0:
                {
                    double mean = 0;
                    for (int p = 0; p < plane; p++) mean += Gray(data, p, plane, c);
                    Blend(data, (float)cf, (float)(mean / plane));
                    break;
                }
                case 2 when saturation > 0 && c == 3:
                    for (int p = 0; p < plane; p++)
                    {
                        float g = Gray(data, p, plane, c);
                        for (int ch = 0; ch < 3; ch++) data[ch * plane + p] = Math.Clamp((float)(sf * data[ch * plane + p] + (1 - sf) * g), 0f, 1f);
                    }
                    break;
                case 3 when hue > 0 && c == 3: ShiftHue(data, plane, hf); break;
            }
        }
        return DataTensors.Wrap(data, c, h, w);
    }

    static double Factor(double amount, Generator g) => amount > 0 ? Math.Max(0, 1 - amount) + (1 + amount - Math.Max(0, 1 - amount)) * g.NextDouble() : 1;

    // ITU-R 601-2 luma, as torchvision's rgb_to_grayscale.
    static float Gray(float[] d, int p, int plane, int c) => c == 1 ? d[p] : 0.299f * d[p] + 0.587f * d[plane + p] + 0.114f * d[2 * plane + p];

    // factor · x + (1 − factor) · other, clamped to [0, 1] (torchvision's _blend).
    static void Blend(float[] d, float factor, float other)
    {
        for (int i = 0; i < d.Length; i++) d[i] = Math.Clamp(factor * d[i] + (1 - factor) * other, 0f, 1f);
    }

    static void ShiftHue(float[] d, int plane, double shift)
    {
        for (int p = 0; p < plane; p++)
        {
            float r = d[p], g = d[plane + p], b = d[2 * plane + p];
            float max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), delta = max - min;
            if (delta <= 0) continue;   // gray pixels have no hue
            double hh = max == r ? (g - b) / delta : max == g ? 2 + (b - r) / delta : 4 + (r - g) / delta;
            hh = hh / 6 + shift;
            hh -= Math.Floor(hh);
            double s = delta / max, v = max;
            double h6 = hh * 6;
            int i = (int)Math.Floor(h6) % 6;
            double f = h6 - Math.Floor(h6);
            double pp = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
            (double nr, double ng, double nb) = i switch
            {
                0 => (v, t, pp), 1 => (q, v, pp), 2 => (pp, v, t), 3 => (pp, q, v), 4 => (t, pp, v), _ => (v, pp, q),
            };
            d[p] = (float)nr; d[plane + p] = (float)ng; d[2 * plane + p] = (float)nb;
        }
    }
}
