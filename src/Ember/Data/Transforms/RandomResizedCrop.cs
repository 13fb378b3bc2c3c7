namespace Ember.Data.Transforms;

/// <summary>
/// Crops a random window whose area is a fraction in <c>scale</c> of the image and whose aspect ratio is log-uniform in
/// <c>ratio</c>, then resizes it bilinearly to (height, width) (torchvision.transforms.RandomResizedCrop: ten tries,
/// then a central crop of the nearest allowed ratio).
/// </summary>
public sealed class RandomResizedCrop(int height, int width, double minScale = 0.08, double maxScale = 1.0,
    double minRatio = 3.0 / 4, double maxRatio = 4.0 / 3) : ITransform
{
    /// <summary>A square output.</summary>
    public RandomResizedCrop(int size) : this(size, size) { }

    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator)
    {
        var (_, h, w) = DataTensors.Chw(input, "RandomResizedCrop");
        var (top, left, ch, cw) = Window(h, w, generator);
        return ImageKernels.ResizeBilinear(input, height, width, top, left, ch, cw);
    }

    /// <summary>The crop window (top, left, height, width) for an image of h × w (torchvision's get_params).</summary>
    public (int Top, int Left, int Height, int Width) Window(int h, int w, Generator generator)
    {
        double area = (double)h * w;
        double logLo = Math.Log(minRatio), logHi = Math.Log(maxRatio);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (minScale + (maxScale - minScale) * generator.NextDouble());
            double aspect = Math.Exp(logLo + (logHi - logLo) * generator.NextDouble());
            int cw = (int)Math.Round(Math.Sqrt(target * aspect));
            int ch = (int)Math.Round(Math.Sqrt(target / aspect));
            if (cw > 0 && cw <= w && ch > 0 && ch <= h)
                return ((int)generator.NextInt64(h - ch + 1), (int)generator.NextInt64(w - cw + 1), ch, cw);
        }
        double inRatio = (double)w / h;
        int fw, fh;
        if (inRatio < minRatio) { fw = w; fh = (int)Math.Round(fw / minRatio); }
        else if (inRatio > maxRatio) { fh = h; fw = (int)Math.Round(fh * maxRatio); }
        else { fw = w; fh = h; }
        return ((h - fh) / 2, (w - fw) / 2, fh, fw);
    }
}
