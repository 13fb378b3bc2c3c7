using System.Diagnostics;
using System.Globalization;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Optim;

namespace Ember.Bench.Workloads;

/// <summary>
/// The multi-machine scaling model of docs/distributed.md, computed rather than typed: the bytes DistributedDataParallel
/// all-reduces per step for each zoo model (every trainable parameter's float32 gradient once), the time a ring
/// all-reduce of them takes, 2(N−1)/N · bytes / bandwidth + 2(N−1) · latency per bucket, and the scaling efficiency
/// that implies for a given compute time per step. Modelled, not measured, except the compute times it measures here.
/// </summary>
public static class ScalingModel
{
    static readonly int[] Machines = [2, 4, 8, 16, 32, 64];
    static readonly double[] GigabitsPerSecond = [10, 25, 100];

    /// <summary>PyTorch's published ResNet-50 step without DDP: 0.097 s at batch 32 on one V100 (benchmarks/distributed/ddp/README.md).</summary>
    public const double PyTorchResNet50V100Seconds = 0.097;

    /// <summary>Ring all-reduce time of <paramref name="bytes"/> over <paramref name="ranks"/> machines in <paramref name="buckets"/> buckets.</summary>
    public static double RingSeconds(double bytes, int ranks, double bytesPerSecond, double latencySeconds, int buckets)
        => ranks <= 1 ? 0 : 2.0 * (ranks - 1) / ranks * bytes / bytesPerSecond + 2.0 * (ranks - 1) * latencySeconds * buckets;

    /// <summary>
    /// Efficiency (one machine's step time / the distributed step time) when communication overlaps backward, taken as
    /// <paramref name="backwardShare"/> of the compute time, except the last bucket, which can only start when backward
    /// ends: compute / (compute + max(last bucket, all buckets − backward)).
    /// </summary>
    public static double Efficiency(double computeSeconds, double commSeconds, double lastBucketSeconds, double backwardShare)
        => computeSeconds / (computeSeconds + Math.Max(lastBucketSeconds, commSeconds - backwardShare * computeSeconds));

    /// <summary>DDP's buckets' byte sizes for gradients of these sizes in launch order: the first closes at 1 MiB, the rest at the cap.</summary>
    public static List<long> Buckets(IReadOnlyList<long> bytesInLaunchOrder, long capBytes)
    {
        var buckets = new List<long>();
        long open = 0, cap = Math.Min(capBytes, 1L << 20);
        foreach (var b in bytesInLaunchOrder)
        {
            open += b;
            if (open >= cap) { buckets.Add(open); open = 0; cap = capBytes; }
        }
        if (open > 0) buckets.Add(open);
        return buckets;
    }

    public static int Print(string[] args)
    {
        double latencyUs = double.Parse(Option(args, "--latency-us") ?? "20", CultureInfo.InvariantCulture);
        double backwardShare = 2.0 / 3;
        const long cap = 25L << 20;
        var compute = new Dictionary<string, (double Seconds, string Source)>();
        foreach (var entry in (Option(args, "--compute-ms") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split('=');
            compute[parts[0]] = (double.Parse(parts[1], CultureInfo.InvariantCulture) / 1e3, "given (--compute-ms)");
        }

        Console.WriteLine("Gradient bytes all-reduced per step (float32, every trainable parameter once), DDP buckets at bucket_cap_mb 25 (first 1 MiB),");
        Console.WriteLine($"and the ring all-reduce time 2(N−1)/N · bytes / bandwidth + 2(N−1) · {latencyUs.ToString(CultureInfo.InvariantCulture)} µs per bucket at N = 64 machines:");
        Console.WriteLine();
        Console.WriteLine("| model | parameters | MB per step | buckets | " + string.Join(" | ", GigabitsPerSecond.Select(g => $"ring at {g} Gb/s, N = 64")) + " |");
        Console.WriteLine("|---|---:|---:|---:|" + string.Concat(GigabitsPerSecond.Select(_ => "---:|")));
        var sizes = new Dictionary<string, (double Bytes, int Buckets, double LastBucket)>();
        var rows = ModelZoo.Names.Select(n => (Label: n, Name: n, Classes: 10)).Append((Label: "resnet50 (ImageNet, 1000 classes)", Name: "resnet50", Classes: 1000));
        foreach (var (label, name, classes) in rows)
        {
            var model = ModelZoo.Create(name, classes, inChannels: ModelZoo.InputShape(name)[0] == 3 ? 3 : 1);
            var bytes = new List<long>();
            foreach (var p in model.Parameters())
                if (p.RequiresGrad) bytes.Add(p.NumEl * 4L);
            bytes.Reverse(); // DDP launches in reverse registration order
            long total = bytes.Sum();
            var plan = Buckets(bytes, cap);
            int buckets = plan.Count;
            sizes[label] = (total, buckets, plan[^1]);
            var times = GigabitsPerSecond.Select(g => Ms(RingSeconds(total, 64, g * 1e9 / 8, latencyUs * 1e-6, buckets)));
            Console.WriteLine($"| {label} | {total / 4:N0} | {total / 1e6:F2} | {buckets} | {string.Join(" | ", times)} |");
        }

        foreach (var name in new[] { "cnn", "mlp" })
            if (!compute.ContainsKey(name)) compute[name] = (MeasureStep(name, 128), "measured here: one process, batch 128, AdamW");
        if (!compute.ContainsKey("resnet50 (ImageNet, 1000 classes)"))
            compute["resnet50 (ImageNet, 1000 classes)"] = (PyTorchResNet50V100Seconds, "PyTorch, batch 32 on a V100, published");

        Console.WriteLine();
        Console.WriteLine($"Scaling efficiency = step on 1 machine / step on N machines (each machine its own batch). Overlapped: communication hides behind backward " +
            $"(taken as {backwardShare:F2} of the step) except the last bucket, which starts when backward ends: compute / (compute + max(last bucket, all-reduce − backward)). " +
            "None: compute / (compute + all-reduce). Cells: overlapped (none; all-reduce time).");
        foreach (var (label, (seconds, source)) in compute)
        {
            if (!sizes.TryGetValue(label, out var size)) continue;
            Console.WriteLine();
            Console.WriteLine($"{label}: {size.Bytes / 1e6:F2} MB per step, compute {Ms(seconds)} per step ({source})");
            Console.WriteLine();
            Console.WriteLine("| bandwidth | " + string.Join(" | ", Machines.Select(n => $"N = {n}")) + " |");
            Console.WriteLine("|---|" + string.Concat(Machines.Select(_ => "---:|")));
            foreach (var g in GigabitsPerSecond)
            {
                var cells = Machines.Select(n =>
                {
                    double comm = RingSeconds(size.Bytes, n, g * 1e9 / 8, latencyUs * 1e-6, size.Buckets);
                    double last = RingSeconds(size.LastBucket, n, g * 1e9 / 8, latencyUs * 1e-6, 1);
                    return $"{100 * Efficiency(seconds, comm, last, backwardShare):F0}% ({100 * seconds / (seconds + comm):F0}%; {Ms(comm)})";
                });
                Console.WriteLine($"| {g} Gb/s | {string.Join(" | ", cells)} |");
            }
        }
        return 0;
    }

    static string Ms(double seconds) => seconds * 1e3 >= 100 ? $"{seconds * 1e3:F0} ms" : seconds * 1e3 >= 10 ? $"{seconds * 1e3:F1} ms" : $"{seconds * 1e3:F2} ms";

    /// <summary>The median time of one training step (zero grads, forward, cross-entropy, backward, AdamW) in this process.</summary>
    static double MeasureStep(string name, int batch)
    {
        Torch.ManualSeed(1);
        Module model = ModelZoo.Create(name, 10, inChannels: 1);
        var optimizer = new AdamW(model.Parameters(), new AdamWOptions { LearningRate = 2e-3 });
        var x = Torch.Randn([batch, .. ModelZoo.InputShape(name)]);
        var labels = new long[batch];
        for (int i = 0; i < batch; i++) labels[i] = i * 7 % 10;
        var y = Torch.FromArray(labels, [batch]);
        var times = new double[15];
        for (int i = -3; i < times.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            optimizer.ZeroGrad();
            F.CrossEntropy(model.Call(x), y).Backward();
            optimizer.Step();
            if (i >= 0) times[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
