using System.Diagnostics;
using System.Text.Json;
using Ember.Bench.Epoch;
using Ember.Bench.Peers;

namespace Ember.Bench.Workloads;

/// <summary>
/// Peak resident memory per side-by-side row (issue 21). Both sides share one process in `compare`, where neither
/// allocator's footprint can be told apart (each keeps what it freed: Ember's storage pool, glibc's heap under the
/// bench's GLIBC_TUNABLES), so each side of a row runs here in a fresh process: `rowmem --row NAME --side ember|torch`
/// sets the row up, resets the peak (VmHWM), makes the same number of calls a timing warm-up makes (≥ 20, or 3 s), and
/// prints one result line that <see cref="Measure(string, string, int)"/> reads.
/// </summary>
public sealed class RowMemoryWorkload : IWorkload
{
    const string ResultPrefix = "ROWMEM-RESULT ";

    public string Name => "rowmem";

    public string Description => "peak resident memory of one side-by-side row, one side per process [--row NAME] [--side ember|torch] [--threads 2]";

    public int Run(string[] args)
    {
        string? row = Option(args, "--row"), side = Option(args, "--side");
        int threads = int.Parse(Option(args, "--threads") ?? "2");
        IPairedWorkload? workload = Array.Find(Registry.All(), w => w.Name == row);
        if (workload is null || side is not ("ember" or "torch"))
        {
            Console.Error.WriteLine($"rowmem: expected --row with a row name of `compare` and --side ember|torch, got row '{row}', side '{side}'");
            return 1;
        }
        Torch.NumThreads = threads;
        if (side == "torch" && !TorchPeer.TryInitialize(threads))
        {
            Console.Error.WriteLine($"rowmem: {TorchPeer.Problem}");
            return 1;
        }
        Action action = side == "ember" ? workload.SetUpEmber() : workload.SetUpTorch();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (!ProcessMemory.ResetPeak())
        {
            Console.Error.WriteLine("rowmem: cannot reset the peak resident set (/proc/self/clear_refs)");
            return 1;
        }
        long setUp = ProcessMemory.ResidentBytes();
        // The timing's warm-up rule (Measure.WarmUp): the peak then covers the state the timed samples run in.
        var clock = Stopwatch.StartNew();
        int calls = 0;
        do { action(); calls++; } while (calls < 3 || (calls < 20 && clock.Elapsed.TotalSeconds < 3));
        long peak = ProcessMemory.PeakBytes();
        Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(new RowMemory(peak, peak - setUp, calls)));
        return 0;
    }

    /// <summary>Runs one side of a row in a child process; null (with the reason on stderr) when it fails.</summary>
    public static RowMemory? Measure(string row, string side, int threads)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("rowmem: cannot find this program's path to start a child process");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        // Started as `dotnet Ember.Bench.dll`: the child needs the assembly too.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(RowMemoryWorkload).Assembly.Location);
        foreach (string a in new[] { "rowmem", "--row", row, "--side", side, "--threads", $"{threads}" }) start.ArgumentList.Add(a);
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"rowmem: could not start {self}");
        RowMemory? result = null;
        while (child.StandardOutput.ReadLine() is string line)
            if (line.StartsWith(ResultPrefix, StringComparison.Ordinal)) result = JsonSerializer.Deserialize<RowMemory>(line[ResultPrefix.Length..]);
        child.WaitForExit();
        if (child.ExitCode != 0 || result is null)
            Console.Error.WriteLine($"rowmem: the {side} process for '{row}' exited with code {child.ExitCode}{(result is null ? " and no result" : "")}");
        return child.ExitCode == 0 ? result : null;
    }

    static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
