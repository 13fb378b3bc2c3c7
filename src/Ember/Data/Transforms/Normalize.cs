namespace Ember.Data.Transforms;

/// <summary>
/// (x − mean[c]) / std[c] per channel (torchvision.transforms.Normalize); one value applies to every channel.
/// <see cref="ComputeMeanStd"/> measures a data set's statistics.
/// </summary>
public sealed class Normalize : ITransform
{
    readonly float[] mean, invStd;

    /// <summary>A normalization with per-channel mean and std.</summary>
    public Normalize(IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        if (mean.Count == 0 || mean.Count != std.Count)
            throw new ArgumentException($"Normalize: mean and std must be non-empty and of the same length, got {mean.Count} and {std.Count}");
        for (int c = 0; c < std.Count; c++)
            if (!(std[c] > 0)) throw new ArgumentException($"Normalize: std evaluated to zero or less ({std[c]}) for channel {c}, leading to division by zero");
        this.mean = mean.Select(m => (float)m).ToArray();
        invStd = std.Select(s => (float)(1 / s)).ToArray();
    }

    /// <summary>The per-channel means.</summary>
    public IReadOnlyList<float> Mean => mean;

    /// <inheritdoc/>
    public Tensor Apply(Tensor input, Generator generator)
    {
        var (c, h, w) = DataTensors.Chw(input, "Normalize");
        if (mean.Length != 1 && mean.Length != c)
            throw new ArgumentException($"Normalize: {mean.Length} means and stds for an image with {c} channels (shape {input.Shape})");
        var data = ImageKernels.CopyData(input);
        int plane = h * w;
        for (int ch = 0; ch < c; ch++)
        {
            float m = mean[mean.Length == 1 ? 0 : ch], s = invStd[mean.Length == 1 ? 0 : ch];
            var span = data.AsSpan(ch * plane, plane);
            for (int i = 0; i < span.Length; i++) span[i] = (span[i] - m) * s;
        }
        return DataTensors.Wrap(data, c, h, w);
    }

    /// <summary>
    /// The per-channel mean and (population) standard deviation over every pixel of every image, accumulated in float64:
    /// the values to pass to <see cref="Normalize"/> (for Fashion-MNIST about 0.2860 and 0.3530).
    /// </summary>
    public static (double[] Mean, double[] Std) ComputeMeanStd(IEnumerable<Tensor> images)
    {
        double[]? sum = null, sumSq = null;
        long perChannel = 0;
        foreach (var image in images)
        {
            var (c, h, w) = DataTensors.Chw(image, "Normalize.ComputeMeanStd");
            sum ??= new double[c];
            sumSq ??= new double[c];
            if (sum.Length != c) throw new ArgumentException($"Normalize.ComputeMeanStd: images have {sum.Length} and {c} channels");
            var data = DataTensors.Floats(image);
            int plane = h * w;
            for (int ch = 0; ch < c; ch++)
            {
                double s = 0, s2 = 0;
                foreach (var v in data.Slice(ch * plane, plane)) { s += v; s2 += (double)v * v; }
                sum[ch] += s; sumSq[ch] += s2;
            }
            perChannel += plane;
        }
        if (sum == null || sumSq == null || perChannel == 0) throw new ArgumentException("Normalize.ComputeMeanStd: no images");
        var mean = sum.Select(s => s / perChannel).ToArray();
        var std = sumSq.Select((s2, c) => Math.Sqrt(Math.Max(0, s2 / perChannel - mean[c] * mean[c]))).ToArray();
        return (mean, std);
    }
}
