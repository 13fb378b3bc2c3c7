namespace Ember.Data.Transforms;

/// <summary>
/// Cutout (DeVries &amp; Taylor, 2017): fills <c>holes</c> squares of side <c>size</c>, centred at uniformly random pixels
/// and clipped at the border, with <c>value</c>.
/// </summary>
public sealed class Cutout(int size, int holes = 1, double value = 0) : ITransform
{
    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator)
    {
        var (c, h, w) = DataTensors.Chw(input, "Cutout");
        for (int k = 0; k < holes; k++)
        {
            int cy = (int)generator.NextInt64(h), cx = (int)generator.NextInt64(w);
            int y0 = Math.Max(0, cy - size / 2), y1 = Math.Min(h, cy - size / 2 + size);
            int x0 = Math.Max(0, cx - size / 2), x1 = Math.Min(w, cx - size / 2 + size);
            input = Fill(input, c, h, w, y0, x0, y1 - y0, x1 - x0, (float)value);
        }
        return input;
    }

    internal static Tensor Fill(Tensor input, int c, int h, int w, int top, int left, int eh, int ew, float value)
    {
        var data = ImageKernels.CopyData(input);
        if (eh > 0 && ew > 0)
            for (int ch = 0; ch < c; ch++)
                for (int y = top; y < top + eh; y++)
                    data.AsSpan(ch * h * w + y * w + left, ew).Fill(value);
        return DataTensors.Wrap(data, c, h, w);
    }
}
