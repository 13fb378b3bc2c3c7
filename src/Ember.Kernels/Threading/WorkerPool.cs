using System.Runtime.ExceptionServices;

namespace Ember.Kernels.Threading;

/// <summary>
/// Persistent worker threads for <see cref="ParallelRange"/>. Waking a parked thread through an event that spins
/// briefly costs a few microseconds, against tens for Parallel.For, which matters for the many small kernels of a
/// training step. One job runs at a time: a caller that finds the pool busy, or calls from inside a job, runs serially.
/// </summary>
internal static class WorkerPool
{
    // Spin iterations before a waiting thread blocks: back-to-back kernels find the workers still awake.
    const int SpinCount = 1000;

    static readonly object gate = new();
    static readonly ManualResetEventSlim done = new(false, SpinCount);
    static ManualResetEventSlim[] wakes = [];
    static Action? current;
    static int pending;
    static Exception? failure;

    [ThreadStatic]
    static bool insideJob;

    /// <summary>Takes the pool for one job; false when it is busy or the caller is already inside a job.</summary>
    public static bool TryEnter() => !insideJob && Monitor.TryEnter(gate);

    /// <summary>
    /// Runs <paramref name="body"/> on the calling thread and on <paramref name="helpers"/> workers at once, waits for
    /// all of them, runs <paramref name="cleanup"/> (still holding the pool, so it cannot race the next job), rethrows
    /// the first exception, and releases the pool taken by <see cref="TryEnter"/>.
    /// </summary>
    public static void RunAndExit(Action body, Action cleanup, int helpers)
    {
        try
        {
            EnsureWorkers(helpers);
            current = body;
            failure = null;
            pending = helpers;
            done.Reset();
            // Set is a full fence, so each worker sees current and pending.
            for (int i = 0; i < helpers; i++) wakes[i].Set();
            Invoke(body);
            if (helpers > 0) done.Wait();
            current = null;
            cleanup();
            if (failure is { } error)
            {
                failure = null;
                ExceptionDispatchInfo.Throw(error);
            }
        }
        finally
        {
            Monitor.Exit(gate);
        }
    }

    static void Invoke(Action body)
    {
        insideJob = true;
        try { body(); }
        catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
        finally { insideJob = false; }
    }

    static void EnsureWorkers(int count)
    {
        if (wakes.Length >= count) return;
        var grown = new ManualResetEventSlim[count];
        wakes.CopyTo(grown, 0);
        for (int i = wakes.Length; i < count; i++)
        {
            grown[i] = new ManualResetEventSlim(false, SpinCount);
            new Thread(WorkerLoop) { IsBackground = true, Name = $"Ember worker {i + 1}" }.Start(grown[i]);
        }
        wakes = grown;
    }

    static void WorkerLoop(object? state)
    {
        var wake = (ManualResetEventSlim)state!;
        while (true)
        {
            wake.Wait();
            // Reset before signalling completion: the next Set can only come after done, so no wake-up is lost.
            wake.Reset();
            Invoke(current!);
            if (Interlocked.Decrement(ref pending) == 0) done.Set();
        }
    }
}
