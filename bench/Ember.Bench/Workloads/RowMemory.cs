namespace Ember.Bench.Workloads;

/// <summary>
/// Resident memory of one side of one row, measured in a fresh process (<see cref="RowMemoryWorkload"/>): the peak
/// resident set of the whole process while the row's action ran (libraries, runtime, inputs and all), and how far that
/// peak rose above the resident set right after the set-up (what the calls themselves added: outputs, graphs, caches).
/// </summary>
/// <param name="PeakBytes">VmHWM over the calls, the process's peak resident set.</param>
/// <param name="GrowthBytes">That peak minus VmRSS after the set-up (the inputs built, before the first call).</param>
/// <param name="Calls">How many calls ran.</param>
public sealed record RowMemory(long PeakBytes, long GrowthBytes, int Calls)
{
    /// <summary>"peak MB (+growth)", e.g. "412 (+48)".</summary>
    public string Describe() => $"{PeakBytes / 1e6:F0} (+{GrowthBytes / 1e6:F0})";
}
