namespace Ember.Kernels.Threading;

/// <summary>
/// Fork-join over an index range. The range is cut into chunks whose boundaries depend only on the count and the
/// grain, never on the number of threads, so any per-chunk arithmetic gives bit-identical results on 1 or N threads.
/// </summary>
public static class ParallelRange
{
    static int maxThreads = Environment.ProcessorCount;

    /// <summary>The number of threads kernels may use (torch.set_num_threads). At least 1.</summary>
    public static int MaxThreads
    {
        get => maxThreads;
        set => maxThreads = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "MaxThreads must be at least 1");
    }

    /// <summary>Runs <paramref name="action"/> over [0, count) in chunks of <paramref name="grain"/> indices.</summary>
    public static void For<TAction>(int count, int grain, TAction action) where TAction : struct, IRangeAction
    {
        if (count <= 0) return;
        grain = Math.Max(1, grain);
        int chunks = (int)(((long)count + grain - 1) / grain);
        if (chunks == 1 || maxThreads == 1)
        {
            for (int c = 0; c < chunks; c++)
                action.Invoke(c * grain, Math.Min(count, (c + 1) * grain));
            return;
        }
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxThreads };
        Parallel.For(0, chunks, options, c => action.Invoke(c * grain, Math.Min(count, (c + 1) * grain)));
    }
}
