namespace Ember.Kernels.Conv;

/// <summary>
/// Per-thread scratch for the im2col matrix. Thread-static so that the pool threads of <see cref="Threading.ParallelRange"/>
/// each keep one buffer across calls: steady-state convolutions allocate nothing. The buffer only grows, to the largest
/// layer the thread has seen.
/// </summary>
internal static class ConvScratch<T> where T : unmanaged
{
    [ThreadStatic] static T[]? columns;

    /// <summary>A thread-local buffer of at least <paramref name="length"/> elements with unspecified contents.</summary>
    public static Span<T> Columns(int length)
    {
        T[]? buffer = columns;
        if (buffer is null || buffer.Length < length)
            columns = buffer = GC.AllocateUninitializedArray<T>(length);
        return buffer.AsSpan(0, length);
    }
}
