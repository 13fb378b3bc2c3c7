using System.Diagnostics;

namespace Ember.Autograd;

/// <summary>
/// Per-node-name totals of a backward pass's time (a profiler's view of where backward goes, by op): while
/// <see cref="Engine.Timings"/> holds one on the thread that runs backward, each node's backward is timed into it —
/// wall ticks and process CPU (all threads, so a kernel's parallel part counts fully). Time outside the nodes
/// (gradient accumulation, the topological sort, returning buffers) is the pass's total minus their sum.
/// </summary>
internal sealed class NodeTimings
{
    /// <summary>Name → (wall ms, process CPU ms, calls).</summary>
    public Dictionary<string, (double WallMs, double CpuMs, int Calls)> ByName { get; } = new(StringComparer.Ordinal);

    internal (long Ticks, double CpuMs) Start() => (Stopwatch.GetTimestamp(), Environment.CpuUsage.TotalTime.TotalMilliseconds);

    internal void Stop(string name, (long Ticks, double CpuMs) start)
    {
        double cpu = Environment.CpuUsage.TotalTime.TotalMilliseconds - start.CpuMs;
        double wall = Stopwatch.GetElapsedTime(start.Ticks).TotalMilliseconds;
        var (w, c, n) = ByName.GetValueOrDefault(name);
        ByName[name] = (w + wall, c + cpu, n + 1);
    }
}
