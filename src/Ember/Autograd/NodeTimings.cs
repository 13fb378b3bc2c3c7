using System.Diagnostics;

namespace Ember.Autograd;

/// <summary>
/// Per-node-name totals of a backward pass's time (a profiler's view of where backward goes, by op): while
/// <see cref="Engine.Timings"/> holds one on the thread that runs backward, each node's backward is timed into it —
/// wall ticks and process CPU (all threads, so a kernel's parallel part counts fully). Time outside the nodes
/// (gradient accumulation, the topological sort, returning buffers) is the pass's total minus their sum. With
/// <see cref="ThreadClock"/> set, the CPU of the thread that runs backward is kept too: process CPU against it shows how
/// much of a node's work the other threads took (on 2 cores, about as much as this thread when the node is parallel).
/// </summary>
internal sealed class NodeTimings
{
    /// <summary>Name → (wall ms, process CPU ms, calls).</summary>
    public Dictionary<string, (double WallMs, double CpuMs, int Calls)> ByName { get; } = new(StringComparer.Ordinal);

    /// <summary>Name → CPU ms of the backward thread alone (filled when <see cref="ThreadClock"/> is set).</summary>
    public Dictionary<string, double> ThreadCpuByName { get; } = new(StringComparer.Ordinal);

    /// <summary>The calling thread's CPU time in ms (a profiler supplies it: the clock is platform-specific), or null.</summary>
    public Func<double>? ThreadClock { get; init; }

    internal (long Ticks, double CpuMs, double ThreadMs) Start() =>
        (Stopwatch.GetTimestamp(), Environment.CpuUsage.TotalTime.TotalMilliseconds, ThreadClock?.Invoke() ?? 0);

    internal void Stop(string name, (long Ticks, double CpuMs, double ThreadMs) start)
    {
        double cpu = Environment.CpuUsage.TotalTime.TotalMilliseconds - start.CpuMs;
        double wall = Stopwatch.GetElapsedTime(start.Ticks).TotalMilliseconds;
        var (w, c, n) = ByName.GetValueOrDefault(name);
        ByName[name] = (w + wall, c + cpu, n + 1);
        if (ThreadClock is { } clock) ThreadCpuByName[name] = ThreadCpuByName.GetValueOrDefault(name) + clock() - start.ThreadMs;
    }
}
