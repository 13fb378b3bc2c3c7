namespace Ember.Bench.Epoch;

/// <summary>
/// A run of training epochs on one side (Ember or TorchSharp) in its own process: the set-up's memory, then each epoch.
/// <see cref="PeakReset"/> says whether VmHWM was reset after set-up (so the epochs' peak excludes data loading).
/// </summary>
public sealed record EpochResult(string Side, string Description, int Threads, int Images, int BatchSize,
    double SetupResidentMb, double SetupPeakMb, bool PeakReset, IReadOnlyList<EpochSample> Epochs)
{
    /// <summary>The median epoch wall time in seconds (every epoch counted, the first included).</summary>
    public double MedianSeconds => Median(Epochs.Select(e => e.Seconds));

    /// <summary>The median epoch CPU time in seconds (all threads).</summary>
    public double MedianCpuSeconds => Median(Epochs.Select(e => e.CpuSeconds));

    /// <summary>The peak resident set over the epochs, in MB (VmHWM after the last epoch).</summary>
    public double PeakMb => Epochs.Count == 0 ? double.NaN : Epochs.Max(e => e.PeakMb);

    static double Median(IEnumerable<double> values)
    {
        double[] v = values.Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
