using System.Diagnostics;

namespace Ember.Bench;

/// <summary>A Stopwatch harness: warm-up, then the median of repeated timings (robust to the other agents on the machine).</summary>
public static class Measure
{
    /// <summary>Median seconds per call of <paramref name="action"/>, batching calls so each timed sample lasts ≥ ~2 ms.</summary>
    public static double MedianSeconds(Action action, int reps = 15, double minSampleSeconds = 0.002)
    {
        // Warm-up: tiered JIT promotion and packing-buffer allocation happen here, not in a sample.
        var warm = Stopwatch.StartNew();
        int calls = 0;
        do { action(); calls++; } while (warm.Elapsed.TotalSeconds < 0.2 || calls < 3);

        double perCall = warm.Elapsed.TotalSeconds / calls;
        int batch = Math.Max(1, (int)Math.Ceiling(minSampleSeconds / perCall));
        var samples = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < batch; i++) action();
            samples[r] = Stopwatch.GetElapsedTime(start).TotalSeconds / batch;
        }
        Array.Sort(samples);
        return samples[reps / 2];
    }
}
