namespace Ember.Kernels.Threading;

/// <summary>
/// Fork-join over an index range. The range is cut into chunks whose boundaries depend only on the count and the
/// grain, never on the number of threads, so any per-chunk arithmetic gives bit-identical results on 1 or N threads.
/// Chunks run on persistent workers (<see cref="WorkerPool"/>); a nested or concurrent call runs its chunks serially.
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
        int threads = Math.Min(maxThreads, chunks);
        if (threads == 1 || !WorkerPool.TryEnter())
        {
            for (int c = 0; c < chunks; c++)
                action.Invoke(c * grain, (int)Math.Min(count, (long)c * grain + grain));
            return;
        }
        RangeJob<TAction>.Set(action, count, grain, chunks);
        WorkerPool.RunAndExit(RangeJob<TAction>.Body, RangeJob<TAction>.Clear, threads - 1);
    }
}
