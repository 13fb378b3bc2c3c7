namespace Ember.Data.Transforms;

/// <summary>
/// With probability p, fills a random rectangle whose area fraction is in <c>scale</c> and aspect ratio log-uniform in
/// <c>ratio</c> with <c>value</c> (torchvision.transforms.RandomErasing; ten tries, else the image is unchanged).
/// Apply it after ToTensor/Normalize.
/// </summary>
public sealed class RandomErasing(double p = 0.5, double minScale = 0.02, double maxScale = 0.33, double minRatio = 0.3,
    double maxRatio = 3.3, double value = 0) : ITransform
{
    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator)
    {
        var (c, h, w) = DataTensors.Chw(input, "RandomErasing");
        if (generator.NextDouble() >= p) return input;
        double area = (double)h * w, logLo = Math.Log(minRatio), logHi = Math.Log(maxRatio);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (minScale + (maxScale - minScale) * generator.NextDouble());
            double aspect = Math.Exp(logLo + (logHi - logLo) * generator.NextDouble());
            int eh = (int)Math.Round(Math.Sqrt(target * aspect)), ew = (int)Math.Round(Math.Sqrt(target / aspect));
            if (eh >= h || ew >= w || eh <= 0 || ew <= 0) continue;
            int top = (int)generator.NextInt64(h - eh + 1), left = (int)generator.NextInt64(w - ew + 1);
            return Cutout.Fill(input, c, h, w, top, left, eh, ew, (float)value);
        }
        return input;
    }
}
