using System.Diagnostics;

namespace Ember.Bench.Epoch;

/// <summary>Measures one epoch from inside the process: call <see cref="Start"/> before its first batch, <see cref="Stop"/> after its last.</summary>
public sealed class EpochMeter
{
    readonly Process self = Process.GetCurrentProcess();
    long start;
    double cpu0;
    TimeSpan pause0;
    int gen0, gen1, gen2;

    /// <summary>Notes the clocks and GC counters at the epoch's start.</summary>
    public void Start()
    {
        self.Refresh();
        cpu0 = self.TotalProcessorTime.TotalSeconds;
        pause0 = GC.GetTotalPauseDuration();
        (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        start = Stopwatch.GetTimestamp();
    }

    /// <summary>The epoch's measurements, with its mean loss and accuracy.</summary>
    public EpochSample Stop(int epoch, double loss, double accuracy)
    {
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        self.Refresh();
        double cpu = self.TotalProcessorTime.TotalSeconds - cpu0;
        var gc = GC.GetGCMemoryInfo();
        const double Mb = 1 << 20;
        return new EpochSample(epoch, seconds, cpu, loss, accuracy,
            ProcessMemory.ResidentBytes() / Mb, ProcessMemory.PeakBytes() / Mb, gc.HeapSizeBytes / Mb, gc.TotalCommittedBytes / Mb,
            (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds,
            GC.CollectionCount(0) - gen0, GC.CollectionCount(1) - gen1, GC.CollectionCount(2) - gen2);
    }

    /// <summary>Prints one epoch as a progress line.</summary>
    public static void Print(string side, EpochSample e) => Console.WriteLine(
        $"  {side} epoch {e.Epoch}: {e.Seconds:F1} s (CPU {e.CpuSeconds:F1} s), loss {e.Loss:F4}, accuracy {100 * e.Accuracy:F2}%, " +
        $"RSS {e.ResidentMb:F0} MB, peak {e.PeakMb:F0} MB, GC heap {e.GcHeapMb:F0} MB, GC pause {e.GcPauseMs:F0} ms (gen0/1/2 {e.Gen0}/{e.Gen1}/{e.Gen2})");
}
