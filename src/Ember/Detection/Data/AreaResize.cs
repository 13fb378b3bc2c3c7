using Ember.Data;

namespace Ember.Detection.Data;

/// <summary>
/// Shrinks an image by area averaging (OpenCV's INTER_AREA when shrinking, which YOLOv5 uses for validation images):
/// each output pixel is the mean of the source pixels its footprint covers, fractional ones weighted by the covered
/// share. Unlike bilinear sampling it uses every source pixel, so thin strokes do not alias away.
/// </summary>
internal static class AreaResize
{
    /// <summary>Resizes a CHW image to (outH, outW), each no larger than the source side.</summary>
    public static Tensor Shrink(Tensor image, int outH, int outW)
    {
        var (c, h, w) = DataTensors.Chw(image, "AreaResize");
        if (outH < 1 || outW < 1 || outH > h || outW > w)
            throw new ArgumentException($"AreaResize: can only shrink, got {h}×{w} → {outH}×{outW}");
        var (xi, xw, xs) = Weights(w, outW);
        var (yi, yw, ys) = Weights(h, outH);
        var src = DataTensors.Floats(image);
        var rows = new float[h * outW];
        var dst = DataTensors.NewImage(c, outH, outW, "AreaResize");
        for (int ch = 0; ch < c; ch++)
        {
            // horizontal pass into rows, then vertical pass into the output
            for (int y = 0; y < h; y++)
            {
                var s = src.Slice((ch * h + y) * w, w);
                for (int o = 0; o < outW; o++)
                {
                    float sum = 0;
                    for (int k = xs[o]; k < xs[o + 1]; k++) sum += xw[k] * s[xi[k]];
                    rows[y * outW + o] = sum;
                }
            }
            for (int o = 0; o < outH; o++)
            {
                var d = dst.AsSpan((ch * outH + o) * outW, outW);
                for (int k = ys[o]; k < ys[o + 1]; k++)
                {
                    float wk = yw[k];
                    var r = rows.AsSpan(yi[k] * outW, outW);
                    for (int x = 0; x < outW; x++) d[x] += wk * r[x];
                }
            }
        }
        return DataTensors.Wrap(dst, c, outH, outW);
    }

    // For each output index o, the source indices and weights (summing to 1) of its footprint [o·scale, (o + 1)·scale),
    // flattened: entries starts[o] .. starts[o + 1].
    static (int[] Index, float[] Weight, int[] Starts) Weights(int size, int outSize)
    {
        double scale = (double)size / outSize;
        var index = new List<int>();
        var weight = new List<float>();
        var starts = new int[outSize + 1];
        for (int o = 0; o < outSize; o++)
        {
            starts[o] = index.Count;
            double a = o * scale, b = Math.Min(size, (o + 1) * scale);
            for (int i = (int)Math.Floor(a); i < Math.Min(size, (int)Math.Ceiling(b)); i++)
            {
                double cover = Math.Min(b, i + 1) - Math.Max(a, i);
                if (cover <= 1e-12) continue;
                index.Add(i);
                weight.Add((float)(cover / scale));
            }
        }
        starts[outSize] = index.Count;
        return ([.. index], [.. weight], starts);
    }
}
