using System.Text;
using Ember.Bench.Epoch;
using Ember.Bench.Peers;

namespace Ember.Bench.Workloads;

/// <summary>
/// The side-by-side table of issue 12: every paired workload in Ember and in TorchSharp, same process, same thread
/// count, warm-up then the median of repeated timings; optionally rewrites the marked section of docs/benchmarks.md.
/// </summary>
public sealed class CompareWorkload : IWorkload
{
    public string Name => "compare";

    public string Description => "Ember vs TorchSharp side by side [--threads 2] [--reps 15] [--only TEXT|TEXT...] [--ember-only] [--row-stats] [--sequential] [--epochs 3] [--epoch-batches N] [--no-epoch] [--no-memory] [--ember-keeps-outputs] [--write-docs PATH]";

    /// <summary>The label of the epoch row, which `--only` matches like any other row's.</summary>
    const string EpochRow = "Fashion-MNIST epoch, default CNN";

    public int Run(string[] args)
    {
        int threads = int.Parse(Option(args, "--threads") ?? "2");
        int reps = Math.Max(10, int.Parse(Option(args, "--reps") ?? "15"));
        string? only = Option(args, "--only");
        string? docs = Option(args, "--write-docs");

        Torch.NumThreads = threads;
        OutputDisposal.Enabled = !args.Contains("--ember-keeps-outputs");
        bool peer = !args.Contains("--ember-only") && TorchPeer.TryInitialize(threads);
        string peerLine = peer ? TorchPeer.Description : args.Contains("--ember-only") ? "TorchSharp: skipped (--ember-only)" : TorchPeer.Problem!;
        string tunables = Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "(not set)";
        Console.WriteLine($"Ember vs TorchSharp, {threads} threads, median of {reps} after warm-up. CPU: {Machine.CpuModel()}, {Environment.ProcessorCount} cores");
        Console.WriteLine(peerLine);
        if (!OutputDisposal.Enabled) Console.WriteLine("Ember keeps its outputs (--ember-keeps-outputs): the elementwise rows leave them to the collector");
        Console.WriteLine($"GLIBC_TUNABLES={tunables}");
        string gc = Machine.GcSettings();
        Console.WriteLine(gc);
        // Measured before the rows so that every run states its own limits (best of 5 short runs each, about a second).
        string limits = MachineLimits.Describe(threads);
        Console.WriteLine(limits);

        string loadBefore = Machine.LoadAverage();
        var rows = new List<Row>();
        // Peak resident memory per row, each side in a fresh process (RowMemoryWorkload): issue 21 asks for it beside the peer's.
        bool memory = !args.Contains("--no-memory");
        Console.WriteLine($"{"workload",-44} {"Ember ms",10} {"Torch ms",10} {"ratio",7} {"Ember GF/s",10} {"Torch GF/s",10} {"Ember CPU",10} {"Torch CPU",10} {"CPU ratio",9}{(memory ? $" {"Ember peak MB",14} {"Torch peak MB",14}" : "")}");
        foreach (IPairedWorkload w in Registry.All())
        {
            if (only is not null && !Matches(w.Name, only)) continue;
            // Alternating Ember and TorchSharp samples: both sides see the same background load.
            Collect();
            Action emberAction = w.SetUpEmber();
            Action? torchAction = peer ? w.SetUpTorch() : null;
            if (torchAction is not null) w.CheckSameWork(); // throws (and so stops the run) if the two sides disagree
            RowState? state = args.Contains("--row-stats") ? new RowState() : null;
            if (state is not null) emberAction = state.Counting(emberAction);
            var (ember, torchSeconds) = Measure.MedianPair(emberAction, torchAction, reps, w.MinSampleSeconds, alternate: !args.Contains("--sequential"), timedStart: state is null ? null : state.Start);
            string? stateLine = state?.Describe();
            RowMemory? emberMemory = memory ? RowMemoryWorkload.Measure(w.Name, "ember", threads) : null;
            RowMemory? torchMemory = memory && peer ? RowMemoryWorkload.Measure(w.Name, "torch", threads) : null;
            var row = new Row(w.Name, ember.Wall, torchSeconds?.Wall, w.Flops, ember.Cpu, torchSeconds?.Cpu) { EmberMemory = emberMemory, TorchMemory = torchMemory };
            rows.Add(row);
            Console.WriteLine($"{row.Name,-44} {row.EmberMs,10:G4} {row.TorchMs,10} {row.Ratio,7} {row.EmberGflops,10} {row.TorchGflops,10} {row.EmberCpuMs,10} {row.TorchCpuMs,10} {row.CpuRatio,9}{(memory ? $" {row.EmberPeak,14} {row.TorchPeak,14}" : "")}");
            if (stateLine is not null) Console.WriteLine(stateLine);
            if (w is YoloV5ForwardPair yolo) // issue 23 states the detector's target in images/s
                Console.WriteLine($"  images/s: Ember {yolo.Batch / ember.Wall:F1}" + (torchSeconds is { } ts ? $", TorchSharp {yolo.Batch / ts.Wall:F1}" : ""));
        }
        // The epoch row: whole epochs in a fresh process per side (EpochWorkload), not a median of short samples.
        int epochs = Math.Max(1, int.Parse(Option(args, "--epochs") ?? "3"));
        int epochBatches = int.Parse(Option(args, "--epoch-batches") ?? "0");
        (EpochResult? Ember, EpochResult? Torch)? epoch = null;
        if (!args.Contains("--no-epoch") && (only is null || EpochRow.Contains(only, StringComparison.OrdinalIgnoreCase) || "peak memory".Contains(only, StringComparison.OrdinalIgnoreCase)))
        {
            epoch = EpochRunner.RunBoth(threads, epochs, epochBatches, withTorch: peer);
            if (epoch.Value.Ember is EpochResult e)
            {
                EpochResult? t = epoch.Value.Torch;
                string label = $"{EpochRow} ({(epochs == 1 ? "1 epoch" : $"median of {epochs} epochs")}{(epochBatches > 0 ? $" of {epochBatches} batches" : "")}, see below)";
                var row = new Row(label, e.MedianSeconds, t?.MedianSeconds, e.Images * CnnStepPair.StepFlopsPerImage, e.MedianCpuSeconds, t?.MedianCpuSeconds);
                rows.Add(row);
                Console.WriteLine($"{row.Name,-44} {row.EmberMs,10:G4} {row.TorchMs,10} {row.Ratio,7} {row.EmberGflops,10} {row.TorchGflops,10} {row.EmberCpuMs,10} {row.TorchCpuMs,10} {row.CpuRatio,9}");
                Console.Write(EpochReport.Markdown(e, t));
            }
        }
        foreach (var (name, waiting) in Registry.Pending) Console.WriteLine($"{name,-44} pending ({waiting})");

        string load = $"load average {loadBefore} before, {Machine.LoadAverage()} after";
        Console.WriteLine(load);
        if (docs is not null)
        {
            string key = MachineLimits.SimdPathKey();
            BenchmarksDoc.RewriteSideBySide(docs, Section(rows, threads, reps, peerLine, tunables, gc, load, limits, epoch, epochs), key,
                key == "AVX-512" ? "## Side by side with TorchSharp" : $"## Side by side with TorchSharp, {key} path");
            Console.WriteLine($"rewrote the side-by-side section of {docs}");
        }
        return 0;
    }

    // Each workload starts from a collected heap, so one workload's garbage is not charged to the next.
    static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    // --only "a|b": a row runs if its label contains any of the alternatives (case-insensitive), in the table's order.
    static bool Matches(string name, string only) =>
        only.Split('|', StringSplitOptions.RemoveEmptyEntries).Any(part => name.Contains(part, StringComparison.OrdinalIgnoreCase));

    static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    sealed record Row(string Name, double EmberSeconds, double? TorchSeconds, double Flops, double EmberCpu, double? TorchCpu)
    {
        public RowMemory? EmberMemory { get; init; }
        public RowMemory? TorchMemory { get; init; }
        public string EmberPeak => EmberMemory?.Describe() ?? "—";
        public string TorchPeak => TorchMemory?.Describe() ?? "—";
        public string EmberCpuMs => Ms(EmberCpu);
        public string TorchCpuMs => TorchCpu is double t ? Ms(t) : "—";
        public string CpuRatio => TorchCpu is double t && EmberCpu > 0 ? (t / EmberCpu).ToString("F2") : "—";
        public string EmberMs => Ms(EmberSeconds);
        public string TorchMs => TorchSeconds is double t ? Ms(t) : "—";
        public string Ratio => TorchSeconds is double t ? (t / EmberSeconds).ToString("F2") : "—";
        public string EmberGflops => Flops > 0 ? (Flops / EmberSeconds / 1e9).ToString("F0") : "";
        public string TorchGflops => Flops > 0 && TorchSeconds is double t ? (Flops / t / 1e9).ToString("F0") : "";

        // Three significant digits, without exponent notation for the microsecond rows.
        static string Ms(double seconds)
        {
            double ms = seconds * 1e3;
            return ms >= 100 ? ms.ToString("F0") : ms >= 10 ? ms.ToString("F1") : ms >= 1 ? ms.ToString("F2") : ms >= 0.1 ? ms.ToString("F3") : ms >= 0.01 ? ms.ToString("F4") : ms.ToString("F5");
        }
    }

    static string Section(List<Row> rows, int threads, int reps, string peerLine, string tunables, string gc, string load, string limits,
        (EpochResult? Ember, EpochResult? Torch)? epoch, int epochs)
    {
        var s = new StringBuilder();
        s.AppendLine("`bash bench/run.sh` (sets TorchSharp up on first use with `bench/setup-torchsharp.sh`, then runs");
        s.AppendLine("`dotnet run -c Release --project bench/Ember.Bench -- compare --write-docs docs/benchmarks.md`, which rewrites this section).");
        s.AppendLine();
        s.AppendLine($"Machine: {Machine.CpuModel()}, {Environment.ProcessorCount} cores, .NET {Environment.Version}. Date: {DateTime.Now:yyyy-MM-dd}.");
        s.AppendLine($"{limits}.");
        s.AppendLine($"Peer: {peerLine}. Both sides run in one process with {threads} threads (`Torch.NumThreads` / `torch.set_num_threads`);");
        s.AppendLine($"each figure is the median of {reps} timed samples after a warm-up (samples batch calls to last ≥ 2 ms, ≥ 20 ms for the memory-bound softmax, LayerNorm, activation, add/mul and sum/mean rows, whose first call after a pause re-reads inputs evicted from the shared cache; Ember and TorchSharp samples alternate, each after a 30 ms pause that lets the other side's idle threads stop spinning, so both see the same background load),");
        s.AppendLine("except the Fashion-MNIST epoch row (below the table). Before timing, each pair with a deterministic result runs both sides once on the");
        s.AppendLine("same input and stops the run if they differ (LayerNorm, GELU: 1e-4; the models, which start from a copy of Ember's weights: their outputs).");
        s.AppendLine($"Fair conditions: `GLIBC_TUNABLES={tunables}` — glibc otherwise returns libtorch's large freed blocks to the kernel");
        s.AppendLine("and re-faults them on every call (the spirit of the jemalloc/tcmalloc that PyTorch's CPU tuning guide recommends).");
        s.AppendLine($"Ember's side: {gc} (the bench's runtimeconfig caps gen0's budget as docs/performance.md advises apps to).");
        s.AppendLine("Ratio = TorchSharp time / Ember time: above 1 means Ember is faster. TorchSharp disposes its tensors in a dispose scope;");
        s.AppendLine("Ember leaves them to the GC, whose cost is inside the timings. Conv channel counts are multiples of 16 (libtorch's");
        s.AppendLine("oneDNN backward is wrong here otherwise). GFLOP/s only for the compute-bound rows.");
        s.AppendLine($"Background during this run ({load}, 1/5/15 min): on 2 cores anything above 2 means other processes");
        s.AppendLine("took turns with the benchmark, inflating both sides — libtorch's OpenMP pool most (its threads wait at barriers for a");
        s.AppendLine("descheduled partner), so small-op ratios are then unreliable.");
        s.AppendLine();
        s.AppendLine("CPU columns: median process CPU time per call (all threads, both cores together). Descheduling does not inflate it,");
        s.AppendLine("but busy neighbours on shared physical cores still do; the CPU ratio compares work done, not latency (spin-waiting counts).");
        s.AppendLine();
        bool memory = rows.Any(r => r.EmberMemory is not null);
        if (memory)
        {
            s.AppendLine("Peak MB columns: each side of each row run again in its own fresh process (`Ember.Bench rowmem`), as many calls as the timing's");
            s.AppendLine("warm-up (≥ 20, or 3 s); the peak resident set of that process (VmHWM: runtime, libraries, inputs and all), and in brackets how far it");
            s.AppendLine("rose above the resident set right after the set-up, i.e. what the calls added (outputs, graphs, allocator caches).");
            s.AppendLine();
        }
        s.AppendLine($"| workload | Ember ms | TorchSharp ms | ratio | Ember GFLOP/s | TorchSharp GFLOP/s | Ember CPU ms | TorchSharp CPU ms | CPU ratio |{(memory ? " Ember peak MB (+growth) | TorchSharp peak MB (+growth) |" : "")}");
        s.AppendLine($"|---|---:|---:|---:|---:|---:|---:|---:|---:|{(memory ? "---:|---:|" : "")}");
        foreach (Row r in rows) s.AppendLine($"| {r.Name} | {r.EmberMs} | {r.TorchMs} | {r.Ratio} | {r.EmberGflops} | {r.TorchGflops} | {r.EmberCpuMs} | {r.TorchCpuMs} | {r.CpuRatio} |{(memory ? $" {r.EmberPeak} | {r.TorchPeak} |" : "")}");
        foreach (var (name, waiting) in Registry.Pending) s.AppendLine($"| {name} | pending | | | | | | | |");
        if (Registry.Pending.Length > 0)
        {
            s.AppendLine();
            s.AppendLine("Pending rows wait for: " + string.Join("; ", Registry.Pending.Select(p => $"{p.Name} — {p.Waiting}")) + ".");
        }
        if (epoch is { Ember: not null } run)
        {
            s.AppendLine();
            s.AppendLine($"The epoch row is not a median of {reps} samples: each side trains {epochs} epoch{(epochs == 1 ? "" : "s")} of {run.Ember.Images:N0} images in its own fresh process");
            s.AppendLine("(Ember first; `dotnet run -c Release --project bench/Ember.Bench -- epoch` runs it alone, `--epochs 10` for the issue's 10-epoch");
            s.AppendLine("steadiness check), and the row gives the median epoch, the first (JIT and allocator warm-up) counted. Both sides: the training");
            s.AppendLine("images of data/fashion-mnist, batch 128, shuffled, normalized with mean 0.2860 / std 0.3530, no augmentation, the default CNN from the same");
            s.AppendLine("initial weights, Adam lr 1e-3, the loss and correct count read every batch. Ember: FashionMnist + Normalize + DataLoader (no workers,");
            s.AppendLine("as `ember train`) + Trainer. TorchSharp: the same uint8 IDX bytes (Ember's reader) in a uint8 tensor, index_select per batch from a");
            s.AppendLine("randperm, converted and normalized in torch, then zero_grad / forward / cross_entropy / backward / step in a dispose scope.");
            s.AppendLine("Memory is each process's own (/proc/self/status); the peak during the epochs is VmHWM after resetting it once the data is loaded.");
            s.AppendLine();
            s.Append(EpochReport.Markdown(run.Ember, run.Torch));
        }
        return s.ToString();
    }
}
