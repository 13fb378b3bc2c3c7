using System.Diagnostics;
using Ember.Backends.Cpu;
using Ember.Bench.Peers;
using Ember.Kernels.Loops;
using Ember.Kernels.Operators;

namespace Ember.Bench.Workloads;

/// <summary>
/// The cost of a small op with a fresh output (issue 21's memory point), broken down: the whole op (<c>x + y</c>,
/// <c>x * c</c>), the same op in place (dispatch and kernel, no allocation), the kernel alone on preallocated spans, and
/// the allocation alone (<c>Torch.Empty</c>, and a bare array). Per size: per-call wall time (median, p10, p90 of calls
/// timed one by one), process CPU per call, collections per 1000 calls by generation, GC pause per call, minor page
/// faults per call, the pool's induced collections, and bytes allocated per call. Ember only, one process.
/// </summary>
public sealed class SmallOpsWorkload : IWorkload
{
    public string Name => "small-ops";

    public string Description => "Breakdown of small elementwise ops with fresh outputs (dispatch, allocation, kernel, GC) [--threads 2] [--calls 4000] [--sizes 4096,16384,...] [--match TEXT|TEXT] [--pool-from BYTES,BYTES]";

    public int Run(string[] args)
    {
        int threads = int.Parse(Option(args, "--threads") ?? "2");
        int calls = int.Parse(Option(args, "--calls") ?? "4000");
        int[] sizes = (Option(args, "--sizes") ?? "4096,16384,65536,262144,1048576").Split(',').Select(int.Parse).ToArray();
        match = Option(args, "--match");
        poolFrom = Option(args, "--pool-from")?.Split(',').Select(int.Parse).ToArray();
        Torch.NumThreads = threads;
        Console.WriteLine($"small ops with fresh outputs, {threads} threads, {calls} calls per row in {Rounds} rounds of all rows after 0.5 s of warm-up per row. CPU: {Machine.CpuModel()}, {Environment.ProcessorCount} cores; load {Machine.LoadAverage()}");
        Console.WriteLine(Machine.GcSettings());
        Console.WriteLine($"pool: pooled from {StoragePool.MinBytes / 1024} KiB; limit {StoragePool.LimitBytes >> 20} MiB");
        Console.WriteLine($"  {"row",-62} {"med µs",8} {"p10",7} {"p90",7} {"CPU µs",7} {"gen0/k",7} {"gen1/k",7} {"gen2/k",7} {"pause µs",8} {"minflt",7} {"induced/k",9} {"alloc B",9}");
        foreach (int n in sizes)
        {
            Console.WriteLine($"n = {n} float32 ({n * 4 / 1024} KiB){(n >= Elementwise.ParallelThreshold ? ", parallel" : ", one thread")}");
            Tensor x = Inputs.Randn(1, n), y = Inputs.Randn(2, n), acc = Inputs.Randn(3, n);
            float[] xs = x.ToArray<float>(), ys = y.ToArray<float>(), ds = new float[n];
            Row[] rows =
            [
                new("x + y", () => _ = x + y),
                new("x * 0.125", () => _ = x * 0.125),
                new("acc.AddInPlace(y) (no allocation)", () => acc.AddInPlace(y)),
                new("kernel only (Contiguous.Binary on arrays)", () => Contiguous.Binary<float>(BinaryOp.Add, xs, ys, ds)),
                new("Torch.Empty(n) (allocation only)", () => Torch.Empty([n])),
                new("GC.AllocateUninitializedArray<float>(n)", () => GC.KeepAlive(GC.AllocateUninitializedArray<float>(n))),
            ];
            rows = [.. rows.Where(r => match is null || match.Split('|').Any(m => r.Label.Contains(m, StringComparison.OrdinalIgnoreCase)))];
            // --pool-from A,B: every row twice, with the pool's threshold at A and at B bytes, in alternating rounds.
            if (poolFrom is [int a, int b])
                rows = [.. rows.SelectMany(r => new[] { r.With($"[pool from {a / 1024} KiB]", () => StoragePool.MinBytes = a), r.With($"[pool from {b / 1024} KiB]", () => StoragePool.MinBytes = b) })];
            // Rounds of every row in turn, so that a change in the machine's load falls on all rows alike, after a
            // warm-up of each row for half a second: tiered compilation promotes the kernels only after a quiet spell
            // of no new methods (a 4096-float add measured 2.7 µs per call after 300 warm-up calls, 0.3-0.4 µs once
            // optimized), and the pool reaches its steady state.
            foreach (var row in rows)
            {
                var warm = Stopwatch.StartNew();
                while (warm.Elapsed.TotalSeconds < 0.5) row.Sample(Math.Max(1, calls / Rounds), counted: false);
            }
            for (int round = 1; round <= Rounds; round++)
                for (int i = 0; i < rows.Length; i++)
                {
                    // ABBA: odd rounds run the rows in reverse order
                    var row = rows[round % 2 == 0 ? i : rows.Length - 1 - i];
                    row.Sample(Math.Max(1, calls / Rounds), counted: true);
                }
            foreach (var row in rows) Console.WriteLine(row.Describe());
        }
        Console.WriteLine($"load average after: {Machine.LoadAverage()}; pool hits {StoragePool.Hits}, misses {StoragePool.Misses}, induced {StoragePool.InducedCollections}, early returns {StoragePool.EarlyReturns}");
        return 0;
    }

    const int Rounds = 10;
    static string? match;
    static int[]? poolFrom;

    /// <summary>One row's calls, timed one by one, and the process counters over them.</summary>
    sealed class Row(string label, Action action, Action? before = null)
    {
        public readonly string Label = label;

        /// <summary>The same row under another setting, applied before each of its samples.</summary>
        public Row With(string suffix, Action setting) => new($"{Label} {suffix}", action, setting);
        readonly List<double> times = [];
        double cpu, pause;
        long faults, induced, allocated, gen0, gen1, gen2;

        public void Sample(int calls, bool counted)
        {
            before?.Invoke();
            int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
            TimeSpan pause0 = GC.GetTotalPauseDuration();
            long faults0 = Machine.MinorFaults(), induced0 = StoragePool.InducedCollections, alloc0 = GC.GetTotalAllocatedBytes(precise: false);
            double cpu0 = Measure.PreciseProcessCpuSeconds();
            var sample = new double[calls];
            for (int i = 0; i < calls; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                action();
                sample[i] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency;
            }
            if (!counted) return;
            cpu += Measure.PreciseProcessCpuSeconds() - cpu0;
            pause += (GC.GetTotalPauseDuration() - pause0).TotalMicroseconds;
            (faults, induced, allocated) = (faults + Machine.MinorFaults() - faults0, induced + StoragePool.InducedCollections - induced0, allocated + GC.GetTotalAllocatedBytes(precise: false) - alloc0);
            (gen0, gen1, gen2) = (gen0 + GC.CollectionCount(0) - g0, gen1 + GC.CollectionCount(1) - g1, gen2 + GC.CollectionCount(2) - g2);
            times.AddRange(sample);
        }

        public string Describe()
        {
            var sorted = times.Order().ToArray();
            int n = sorted.Length;
            double perCall(double total) => total / n;
            double perK(long total) => total * 1000.0 / n;
            return $"  {Label,-62} {sorted[n / 2],8:F1} {sorted[n / 10],7:F1} {sorted[n * 9 / 10],7:F1} {perCall(cpu) * 1e6,7:F1} " +
                $"{perK(gen0),7:F1} {perK(gen1),7:F1} {perK(gen2),7:F1} {perCall(pause),8:F2} {perCall(faults),7:F1} {perK(induced),9:F1} {perCall(allocated),9:F0}";
        }
    }

    static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
