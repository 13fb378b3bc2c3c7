using System.Diagnostics;

namespace Ember.Bench;

/// <summary>A Stopwatch harness: warm-up, then the median of repeated timings (robust to the other agents on the machine).</summary>
public static class Measure
{
    /// <summary>Median seconds per call of <paramref name="action"/>, batching calls so each timed sample lasts ≥ ~2 ms.</summary>
    public static double MedianSeconds(Action action, int reps = 15, double minSampleSeconds = 0.002)
    {
        // Warm-up: tiered JIT promotion and packing-buffer allocation happen here, not in a sample.
        int batch = WarmUp(action, minSampleSeconds);
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

    /// <summary>The fastest sample's seconds per call: for tuning on a shared machine, where the best sample is the least disturbed.</summary>
    public static double BestSeconds(Action action, int reps = 15, double minSampleSeconds = 0.002)
    {
        int batch = WarmUp(action, minSampleSeconds);
        double best = double.MaxValue;
        for (int r = 0; r < reps; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < batch; i++) action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds / batch);
        }
        return best;
    }

    /// <summary>
    /// Process CPU seconds per call divided by <paramref name="threads"/> (the best or the median of
    /// <paramref name="reps"/> samples): on a machine loaded by other work the wall clock measures the neighbours, while
    /// the CPU time a call takes changes less (it still counts spin-waits for a descheduled partner thread, and caches
    /// that neighbours flushed).
    /// </summary>
    public static double CpuSecondsPerThread(Action action, int threads, bool best, int reps = 15, double minSampleSeconds = 0.002)
    {
        int batch = WarmUp(action, minSampleSeconds);
        var samples = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            double cpu0 = PreciseProcessCpuSeconds();
            for (int i = 0; i < batch; i++) action();
            samples[r] = (PreciseProcessCpuSeconds() - cpu0) / batch / threads;
        }
        Array.Sort(samples);
        return best ? samples[0] : samples[reps / 2];
    }

    /// <summary>
    /// Median seconds per call of two actions timed in alternation (a sample of one, then a sample of the other), so that
    /// both see the same background load on a shared machine; <paramref name="second"/> may be null (first only).
    /// <paramref name="timedStart"/>, if given, runs once after the warm-up, where the timed samples begin.
    /// </summary>
    public static (Timing First, Timing? Second) MedianPair(Action first, Action? second, int reps = 15, double minSampleSeconds = 0.002, bool alternate = true, Action? timedStart = null)
    {
        var a = new Timing[reps];
        var b = new Timing[reps];
        if (!alternate)
        {
            int batch = WarmUp(first, minSampleSeconds);
            timedStart?.Invoke();
            for (int r = 0; r < reps; r++) a[r] = Sample(first, batch);
            if (second is not null)
            {
                batch = WarmUp(second, minSampleSeconds);
                for (int r = 0; r < reps; r++) b[r] = Sample(second, batch);
            }
        }
        else
        {
            int batchFirst = WarmUp(first, minSampleSeconds);
            int batchSecond = second is null ? 0 : WarmUp(second, minSampleSeconds);
            timedStart?.Invoke();
            for (int r = 0; r < reps; r++)
            {
                a[r] = Sample(first, batchFirst);
                if (second is not null) b[r] = Sample(second, batchSecond);
            }
        }
        return (Median(a), second is null ? null : Median(b));
    }

    /// <summary>Seconds per call: wall clock, and process CPU time (all threads), which descheduling does not inflate.</summary>
    public readonly record struct Timing(double Wall, double Cpu);

    static Timing Median(Timing[] samples) =>
        new(samples.Select(t => t.Wall).Order().ElementAt(samples.Length / 2), samples.Select(t => t.Cpu).Order().ElementAt(samples.Length / 2));

    // Runs the action for ≥ 1 s and ≥ 20 calls (fewer when 20 would take over 3 s, at least 3); returns how many calls
    // make one sample of ≥ minSampleSeconds. The second gives .NET's tiered JIT time to replace the quick first
    // compilation of every method on the path with optimized code (a 2 ms MLP step measured 2.4 ms after 0.2 s of
    // warm-up, 1.1 ms with everything optimized); both sides get the same warm-up. Twenty calls reach the steady state of
    // Ember's storage pool in a loop over one op: its per-thread ring keeps the last ~15 outputs reachable, so those
    // first calls miss the pool and fault in fresh pages (a training step releases the ring between modules).
    static int WarmUp(Action action, double minSampleSeconds)
    {
        var warm = Stopwatch.StartNew();
        int calls = 0;
        do { action(); calls++; } while (warm.Elapsed.TotalSeconds < 1.0 || calls < 3 || (calls < 20 && warm.Elapsed.TotalSeconds < 3));
        var last = Stopwatch.StartNew();
        action();
        double perCall = last.Elapsed.TotalSeconds;
        return Math.Max(1, (int)Math.Ceiling(minSampleSeconds / perCall));
    }

    static Timing Sample(Action action, int batch)
    {
        // The other library's worker threads spin for a while after their last parallel region (libgomp's
        // GOMP_SPINCOUNT, ~300k pause loops: several ms on this CPU); let them park so they do not steal a core from this
        // sample (with 3 ms, Ember's 128² matmul samples still paid for a spinning libgomp thread: CPU 2.3× wall).
        Thread.Sleep(30);
        double cpu0 = ProcessCpuSeconds();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < batch; i++) action();
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds / batch;
        return new(wall, (ProcessCpuSeconds() - cpu0) / batch);
    }

    static readonly Process Self = Process.GetCurrentProcess();

    // clock_gettime(CLOCK_PROCESS_CPUTIME_ID): nanoseconds, where Process.TotalProcessorTime counts clock ticks (10 ms on Linux).
    internal static double PreciseProcessCpuSeconds()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(2, out TimeSpec t) == 0) return t.Seconds + t.Nanoseconds * 1e-9;
        return ProcessCpuSeconds();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    static double ProcessCpuSeconds()
    {
        Self.Refresh();
        return Self.TotalProcessorTime.TotalSeconds;
    }
}
