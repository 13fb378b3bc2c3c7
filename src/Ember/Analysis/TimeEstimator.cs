using System.Globalization;

namespace Ember.Analysis;

/// <summary>
/// Lower bounds on run time from operation counts (notes 001: FLOPs / FLOPS, e.g. 1000 FLOPs on a 10 FLOPS device
/// take at least 100 s). Real layers rarely reach peak: convolutions with few channels, normalization and
/// elementwise layers are bound by memory bandwidth, not arithmetic, so measured times are often several times longer.
/// </summary>
public static class TimeEstimator
{
    /// <summary>The caveat every estimate carries.</summary>
    public const string Caveat = "lower bound at peak FP32 throughput; memory bandwidth, kernel launches and data loading often bound real time";

    /// <summary>Seconds for <paramref name="flops"/> operations at <paramref name="flopsPerSecond"/>.</summary>
    public static double MinimumSeconds(double flops, double flopsPerSecond)
    {
        if (!(flopsPerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(flopsPerSecond), flopsPerSecond, "TimeEstimator.MinimumSeconds: throughput must be positive");
        return flops / flopsPerSecond;
    }

    /// <summary>
    /// Minimum seconds per batch on <paramref name="device"/>: FLOPs (2 × MACs) per sample × batch, times 3 in training
    /// (the backward pass costs about twice the forward: gradients for inputs and for weights).
    /// </summary>
    public static double MinimumBatchSeconds(ProfileReport report, int batchSize, DeviceSpec device, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(device);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"TimeEstimator.MinimumBatchSeconds: batch size must be positive, got {batchSize}");
        long profiledBatch = report.InputShape.Rank > 0 && report.InputShape[0] > 0 ? report.InputShape[0] : 1;
        double flops = (double)report.TotalFlops / profiledBatch * batchSize * (training ? 3 : 1);
        return MinimumSeconds(flops, device.FlopsPerSecond);
    }

    /// <summary>A table of minimum batch times on the given devices (default: the notes' table), with the caveat.</summary>
    public static string FormatTable(ProfileReport report, int batchSize, bool training = false, IEnumerable<DeviceSpec>? devices = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var list = (devices ?? DeviceTable.Known).ToList();
        int w = Math.Max(6, list.Max(d => d.Name.Length));
        var lines = new List<string>
        {
            $"{(training ? "Training" : "Inference")} step, batch {batchSize}, {report.ModelType}: {Units.Format((double)report.TotalFlops / Math.Max(1, report.InputShape[0]) * batchSize * (training ? 3 : 1))} FLOPs",
            $"{"Device".PadRight(w)}  {"FP32 TFLOPS",11}  {"min time",12}",
        };
        foreach (var d in list)
        {
            double s = MinimumBatchSeconds(report, batchSize, d, training);
            lines.Add($"{d.Name.PadRight(w)}  {d.Fp32Tflops.ToString("0.###", CultureInfo.InvariantCulture),11}  {FormatSeconds(s),12}");
        }
        lines.Add($"({Caveat})");
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>Seconds in s/ms/µs.</summary>
    public static string FormatSeconds(double s) => s >= 1 ? s.ToString("0.###", CultureInfo.InvariantCulture) + " s"
        : s >= 1e-3 ? (s * 1e3).ToString("0.###", CultureInfo.InvariantCulture) + " ms"
        : (s * 1e6).ToString("0.###", CultureInfo.InvariantCulture) + " µs";
}
