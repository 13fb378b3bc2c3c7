using System.Diagnostics;
using System.Globalization;
using Ember.Distributed;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Optim;
using Dist = Ember.Distributed.Distributed;

namespace Ember.Bench.Workloads;

/// <summary>
/// Data-parallel training steps on one machine (issue 20): the `ember train` models (cnn, mlp) at a global batch of
/// 128 split over 1, 2 and 4 ranks under mpirun, each rank a process with its share of the cores, as `ember train
/// --nproc` runs them; plus one process without DistributedDataParallel as the baseline. Per row: the step time, images
/// per second, and from <see cref="DistributedDataParallel.LastStepStats"/> the forward and backward computation, the
/// gradient all-reduce span, how much of it ran while backward was computing, and how long the step waited for it.
/// `--scaling-model` prints the modelled multi-machine table instead (<see cref="ScalingModel"/>).
/// </summary>
public sealed class DistributedWorkload : IWorkload
{
    const string RowTag = "DISTRIBUTED-ROW";

    public string Name => "distributed";

    public string Description => "DDP step rows for 1/2/4 ranks under mpirun [--models cnn,mlp] [--ranks 1,2,4] [--batch 128] [--steps 20] [--warmup 5] [--warmup-seconds 3]; --scaling-model [--compute-ms MODEL=MS,...]";

    public int Run(string[] args)
    {
        if (args.Contains("--scaling-model")) return ScalingModel.Print(args);
        string models = Option(args, "--models") ?? "cnn,mlp";
        int batch = int.Parse(Option(args, "--batch") ?? "128", CultureInfo.InvariantCulture);
        int steps = int.Parse(Option(args, "--steps") ?? "20", CultureInfo.InvariantCulture);
        int warmup = int.Parse(Option(args, "--warmup") ?? "5", CultureInfo.InvariantCulture);
        double warmupSeconds = double.Parse(Option(args, "--warmup-seconds") ?? "3", CultureInfo.InvariantCulture);
        if (args.Contains("--worker")) return Worker(Option(args, "--model") ?? "cnn", batch, warmup, warmupSeconds, steps, plain: args.Contains("--plain"));

        var ranks = (Option(args, "--ranks") ?? "1,2,4").Split(',').Select(r => int.Parse(r, CultureInfo.InvariantCulture)).ToArray();
        string? mpirun = FindOnPath("mpirun");
        if (mpirun is null)
        {
            Console.Error.WriteLine("distributed: mpirun is not on PATH; install Open MPI (apt-get update && apt-get install -y openmpi-bin libopenmpi-dev)");
            return 1;
        }
        int cores = Environment.ProcessorCount;
        Console.WriteLine($"DistributedDataParallel steps on one machine: global batch {batch} split over the ranks, AdamW, synthetic 28×28 inputs; " +
            $"median of {steps} steps after a warm-up of at least {warmup} steps and {warmupSeconds} s (each rank's median, the slowest rank's step). CPU: {Machine.CpuModel()}, {cores} cores. " +
            $"Load average before: {Machine.LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine("| model | processes × threads | batch per rank | step ms | CPU ms per step | images/s | vs 1 process | forward ms | backward ms | all-reduce ms | of it during backward ms | waited after backward ms | hidden | MB per step | buckets |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var model in models.Split(','))
        {
            double? baseline = null;
            var plain = RunWorker(null, model, batch, warmup, warmupSeconds, steps, 1, cores);
            if (plain is not null) { baseline = plain.StepMs; Console.WriteLine(plain.Format(baseline)); }
            foreach (int n in ranks)
            {
                var row = RunWorker(mpirun, model, batch, warmup, warmupSeconds, steps, n, cores);
                if (row is not null) Console.WriteLine(row.Format(baseline));
            }
        }
        Console.WriteLine();
        Console.WriteLine($"Load average after: {Machine.LoadAverage()}. Threads per rank: cores / ranks (at least 1), with --bind-to none, as `ember train --nproc` sets them; " +
            "more ranks than cores are oversubscribed. CPU ms per step: rank 0's process CPU time over the timed steps / steps (all its threads).");
        return 0;
    }

    /// <summary>One row's numbers, as rank 0 of a worker prints them.</summary>
    sealed record Row(string Model, int Ranks, int Threads, bool Ddp, int PerRank, double StepMs, double CpuMs, double ForwardMs, double BackwardMs,
        double CommMs, double OverlapMs, double WaitMs, long Bytes, int Buckets)
    {
        public string Format(double? baseline)
        {
            static string F(double v) => v.ToString(v >= 100 ? "F0" : v >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture);
            string who = Ddp ? $"{Ranks} × {Threads} (DDP)" : $"1 × {Threads} (no DDP)";
            double imagesPerSecond = PerRank * Ranks / (StepMs / 1e3);
            string speedup = baseline is double b ? (b / StepMs).ToString("F2", CultureInfo.InvariantCulture) : "";
            string hidden = !Ddp ? "" : CommMs > 0 ? (100 * Math.Clamp(1 - WaitMs / CommMs, 0, 1)).ToString("F0", CultureInfo.InvariantCulture) + "%" : "–";
            return Ddp
                ? $"| {Model} | {who} | {PerRank} | {F(StepMs)} | {F(CpuMs)} | {imagesPerSecond:F0} | {speedup} | {F(ForwardMs)} | {F(BackwardMs)} | {F(CommMs)} | {F(OverlapMs)} | {F(WaitMs)} | {hidden} | {Bytes / 1e6:F2} | {Buckets} |"
                : $"| {Model} | {who} | {PerRank} | {F(StepMs)} | {F(CpuMs)} | {imagesPerSecond:F0} | 1.00 | | | | | | | | |";
        }

        public string Serialize() => string.Join('\t', RowTag, Model, Ranks, Threads, Ddp, PerRank, R(StepMs), R(CpuMs), R(ForwardMs), R(BackwardMs), R(CommMs), R(OverlapMs), R(WaitMs), Bytes, Buckets);

        static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

        public static Row Parse(string line)
        {
            var f = line.Split('\t');
            double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
            return new Row(f[1], int.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture), bool.Parse(f[4]),
                int.Parse(f[5], CultureInfo.InvariantCulture), D(6), D(7), D(8), D(9), D(10), D(11), D(12), long.Parse(f[13], CultureInfo.InvariantCulture),
                int.Parse(f[14], CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Starts this program as a worker (under mpirun with <paramref name="ranks"/> processes, or alone when mpirun is null) and reads rank 0's row.</summary>
    static Row? RunWorker(string? mpirun, string model, int batch, int warmup, double warmupSeconds, int steps, int ranks, int cores)
    {
        var self = Environment.ProcessPath ?? "dotnet";
        var command = new List<string>();
        if (mpirun is not null)
        {
            command.AddRange([mpirun, "--quiet", "-n", ranks.ToString(CultureInfo.InvariantCulture), "--bind-to", "none"]);
            if (ranks > cores) command.Add("--oversubscribe");
            if (Environment.UserName == "root") command.Add("--allow-run-as-root");
        }
        command.Add(self);
        // Run through `dotnet Ember.Bench.dll` the program is the dotnet host; through the apphost it is the program itself.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") command.Add(typeof(DistributedWorkload).Assembly.Location);
        command.AddRange(["distributed", "--worker", "--model", model, "--batch", batch.ToString(CultureInfo.InvariantCulture),
            "--warmup", warmup.ToString(CultureInfo.InvariantCulture), "--warmup-seconds", warmupSeconds.ToString(CultureInfo.InvariantCulture), "--steps", steps.ToString(CultureInfo.InvariantCulture)]);
        if (mpirun is null) command.Add("--plain");
        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command.Skip(1)) info.ArgumentList.Add(a);
        info.Environment["DOTNET_PROCESSOR_COUNT"] = Math.Max(1, cores / ranks).ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        // mpirun may put terminal control codes before the first line
        var line = stdout.Split('\n').FirstOrDefault(l => l.Contains(RowTag, StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
        {
            Console.WriteLine($"| {model} | {ranks} ranks | failed (exit code {process.ExitCode}) | {(stdout + stderr.Result).ReplaceLineEndings(" ").Trim()} |");
            return null;
        }
        return Row.Parse(line[line.IndexOf(RowTag, StringComparison.Ordinal)..].TrimEnd('\r'));
    }

    /// <summary>
    /// One rank of a row: warms up, trains <paramref name="steps"/> timed steps on a fixed synthetic batch and rank 0
    /// prints the medians. The warm-up runs at least <paramref name="warmup"/> steps and <paramref name="warmupSeconds"/>,
    /// and until rank 0's CPU time per step stops falling (at most 120 s): .NET compiles hot methods again, optimised,
    /// only after ~30 calls and a quiet 100 ms, in the background, so a few fast steps (the MLP's take ~5 ms) time the
    /// first-tier code and the compiler thread taking a core; 5 warm-up steps gave 25–30 ms of CPU per MLP step where
    /// a warm one takes ~5.5.
    /// </summary>
    static int Worker(string modelName, int globalBatch, int warmup, double warmupSeconds, int steps, bool plain)
    {
        if (!plain) Dist.InitProcessGroup();
        int world = plain ? 1 : Dist.WorldSize, rank = plain ? 0 : Dist.Rank;
        if (globalBatch % world != 0) throw new ArgumentException($"distributed: --batch {globalBatch} is not divisible by {world} ranks");
        int perRank = globalBatch / world;
        Torch.ManualSeed(1);
        var net = ModelZoo.Create(modelName, 10, inChannels: 1);
        var ddp = plain ? null : new DistributedDataParallel(net);
        Module model = ddp ?? net;
        var optimizer = new AdamW(model.Parameters(), new AdamWOptions { LearningRate = 2e-3 });
        var g = new Generator(100 + rank);
        var x = Torch.Randn([perRank, .. ModelZoo.InputShape(modelName)], DType.Float32, g);
        var labels = new long[perRank];
        for (int i = 0; i < perRank; i++) labels[i] = (i * 7 + rank) % 10;
        var y = Torch.FromArray(labels, [perRank]);
        var step = new double[steps];
        var forward = new double[steps];
        var backward = new double[steps];
        var comm = new double[steps];
        var overlap = new double[steps];
        var wait = new double[steps];
        long bytes = 0;
        int buckets = 0;
        long warmupStart = Stopwatch.GetTimestamp();
        var more = Torch.Zeros([1], DType.Int64);
        var self = Process.GetCurrentProcess();
        var blockStart = self.TotalProcessorTime;
        double previousBlock = double.MaxValue;
        int flatBlocks = 0;
        for (int i = 0; ; i++)
        {
            optimizer.ZeroGrad();
            F.CrossEntropy(model.Call(x), y).Backward();
            optimizer.Step();
            // Warm while the process's CPU time per step still falls (the compiler's background thread counts too):
            // blocks of 10 steps, until two blocks in a row are within 5% of the one before; wall time alone is no
            // guide on a loaded machine, where 3 s may be 30 first-tier steps.
            if ((i + 1) % WarmupBlock == 0)
            {
                self.Refresh();
                var now = self.TotalProcessorTime;
                double block = (now - blockStart).TotalMilliseconds;
                flatBlocks = block >= 0.95 * previousBlock ? flatBlocks + 1 : 0;
                previousBlock = Math.Min(previousBlock, block);
                blockStart = now;
            }
            // Rank 0 decides for every rank: all of them must run the same number of steps (collectives).
            double warmed = Stopwatch.GetElapsedTime(warmupStart).TotalSeconds;
            bool settled = flatBlocks >= 2 || warmed >= WarmupLimitSeconds;
            long go = i + 1 < warmup || warmed < warmupSeconds || !settled ? 1 : 0;
            if (!plain)
            {
                more.FillInPlace(rank == 0 ? go : 0);
                Dist.AllReduce(more, ReduceOp.Max);
                go = (long)more.Item();
            }
            if (go == 0) break;
        }
        // CPU time of this process over the timed steps: on a loaded machine it counts the work done (and any spinning),
        // where wall time also counts waiting for a core.
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        for (int i = 0; i < steps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            optimizer.ZeroGrad();
            F.CrossEntropy(model.Call(x), y).Backward();
            optimizer.Step();
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            step[i] = seconds;
            if (ddp?.LastStepStats is { } s)
            {
                forward[i] = s.ForwardSeconds;
                backward[i] = s.BackwardComputeSeconds;
                comm[i] = s.CommunicationSeconds;
                overlap[i] = s.OverlapSeconds;
                wait[i] = s.WaitSeconds;
                bytes = s.Bytes;
                buckets = s.Buckets;
            }
        }
        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds / steps;
        double stepMedian = Median(step);
        if (!plain)
        {
            // The ranks move in lockstep, but report the slowest rank's median.
            var slowest = Torch.FromArray(new[] { stepMedian }, [1]);
            Dist.AllReduce(slowest, ReduceOp.Max);
            stepMedian = slowest.ToDoubleArray()[0];
        }
        if (rank == 0)
            Console.WriteLine(new Row(modelName, world, Torch.NumThreads, !plain, perRank, stepMedian * 1e3, cpuMs, Median(forward) * 1e3, Median(backward) * 1e3,
                Median(comm) * 1e3, Median(overlap) * 1e3, Median(wait) * 1e3, bytes, buckets).Serialize());
        if (!plain) Dist.DestroyProcessGroup();
        return 0;
    }

    const int WarmupBlock = 10;
    const double WarmupLimitSeconds = 120;

    static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    static string? FindOnPath(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
