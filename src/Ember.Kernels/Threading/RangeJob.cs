namespace Ember.Kernels.Threading;

/// <summary>
/// The state of the running <see cref="ParallelRange.For{TAction}"/> job, in static fields of a class generic over the
/// action so that the shared delegate is created once per action type and nothing is allocated per call.
/// Only the thread holding the <see cref="WorkerPool"/> writes it.
/// </summary>
internal static class RangeJob<TAction> where TAction : struct, IRangeAction
{
    static TAction action;
    static int count, grain, chunks, next;

    /// <summary>Claims chunks until none are left; run by the caller and every helper.</summary>
    public static readonly Action Body = RunChunks;

    public static void Set(TAction value, int length, int chunkSize, int chunkCount)
    {
        action = value;
        count = length;
        grain = chunkSize;
        chunks = chunkCount;
        next = 0;
    }

    /// <summary>Drops the action so the pool does not keep what it references alive.</summary>
    public static readonly Action Clear = () => action = default;

    static void RunChunks()
    {
        // Which thread takes a chunk varies; the chunk boundaries do not.
        int c;
        while ((c = Interlocked.Increment(ref next) - 1) < chunks)
        {
            int start = c * grain;
            action.Invoke(start, (int)Math.Min(count, (long)start + grain));
        }
    }
}
