using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Ember.Autograd;
using Ember.Backends.Cpu;
using Ember.Data;
using Ember.Detection.Data;
using Ember.Detection.Loss;
using Ember.Detection.Model;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Training;

namespace Ember.Bench.Workloads;

/// <summary>
/// One steady `detect train` step of a YOLOv5 in process, built as the CLI builds it (cached YOLO data set, mosaic
/// augmentation, YOLOv5 loss with train.py's gains, Adam over YOLOv5's three parameter groups, weights' EMA, the pool
/// limit raised as DetectJob raises it), timed by stage: loader, forward, loss (target building included), backward,
/// optimizer step + zero_grad, EMA update. Per stage: wall, this thread's CPU and the process's CPU (all threads: with
/// --workers 1 the loader thread's work lands in whichever stage it overlaps), pool misses and induced collections.
/// With --ops the forward is split by layer kind (hooks on the leaf blocks; the rest is the glue between them: cat,
/// shortcut adds, the head's layout) and the backward by node name (Engine.Timings), each with the step thread's own CPU
/// beside the process's (what the second thread did alongside). --misses lists the pooled sizes the measured steps
/// allocated afresh. Without --data a small generated
/// set (make-data's generator, seed 0) is written to a temporary folder once. Usage: <c>yolo-train-step [--data
/// data.yaml] [--limit 320] [--size n|s | --model FILE.yaml] [--img 320] [--batch 16] [--steps 12] [--warmup 6] [--threads 2]
/// [--workers 0] [--ops] [--misses]</c>.
/// </summary>
public sealed class YoloTrainStepWorkload : IWorkload
{
    public string Name => "yolo-train-step";

    public string Description => "A `detect train` step in process, by stage (loader, forward, loss, backward, optimizer, EMA) and with --ops by op type";

    [StructLayout(LayoutKind.Sequential)] struct TimeSpec { public long Sec, Nsec; }
    [DllImport("libc", EntryPoint = "clock_gettime")] static extern int ClockGetTime(int clock, out TimeSpec time);
    static double ThreadCpuMs() => OperatingSystem.IsLinux() && ClockGetTime(3, out var t) == 0 ? t.Sec * 1e3 + t.Nsec / 1e6 : double.NaN;
    static double ProcessCpuMs() => Environment.CpuUsage.TotalTime.TotalMilliseconds;

    sealed class Stage
    {
        public double Wall, Thread, Process, GcPause;
        public long Misses, Induced, Gen2, Collections;
        // --misses: this stage's missed sizes (the pool counts into it while the stage runs)
        public readonly Dictionary<(DType, int), int> MissesBySize = [];
    }

    readonly List<(string Name, Stage Stage)> stages = [];
    bool measuring, missesBySize;

    public int Run(string[] args)
    {
        string Arg(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        int Int(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        int limit = Int("--limit", 320), img = Int("--img", 320), batchSize = Int("--batch", 16), steps = Int("--steps", 12), warmup = Int("--warmup", 6);
        int threads = Int("--threads", 2), workers = Int("--workers", 0);
        var size = YoloSize.Parse(Arg("--size", "n"));
        // --model: a YOLOv5-style definition (e.g. a width between n and s), built as `detect train --model FILE.yaml` builds it
        string? modelYaml = Arg("--model", "") is { Length: > 0 } path ? path : null;
        bool ops = args.Contains("--ops"), misses = args.Contains("--misses");
        Torch.NumThreads = threads;
        string yaml = Arg("--data", "") is { Length: > 0 } given ? given : GeneratedData(limit);

        Torch.ManualSeed(0);
        // as DetectJob.Train: the run's buffers outgrow the default pool limit
        Torch.PoolLimitBytes = Math.Max(Torch.PoolLimitBytes, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4);
        var data = YoloDataConfig.Load(yaml);
        var trainSet = YoloDataset.FromConfig(data, train: true, cacheImages: true);
        IDataset<DetectionSample> source = limit > 0 && limit < trainSet.Count ? new Subset<DetectionSample>(trainSet, [.. Enumerable.Range(0, limit)]) : trainSet;
        var trainData = new DetectionDataset(source, img, augment: true, hyp: new DetectionAugmentation(), batchSize: batchSize);
        var loader = trainData.CreateLoader(shuffle: true, numWorkers: workers, seed: 0);
        YoloDetector model = modelYaml is null ? new YoloV5(data.ClassCount, size) : YoloModel.FromYaml(modelYaml, data.ClassCount);
        var ema = new ModelEma(model, 0.9999, 2000);
        var optimizer = Ember.Detection.Optim.YoloParameterGroups.Of(model).Adam(0.001, 0.0005);
        var lossOptions = new YoloLossOptions { Box = 0.05, Objectness = 1, Class = 1 }.ScaledFor(model.Detect.NumLevels, data.ClassCount, img);
        var yoloLoss = new YoloLoss(model.Detect, lossOptions);
        model.Train();

        var forwardKinds = new Dictionary<string, Stage>(StringComparer.Ordinal);
        var hooks = ops ? HookLeaves(model, forwardKinds) : [];
        var nodeTimes = new NodeTimings { ThreadClock = ThreadCpuMs };
        Console.WriteLine($"SIMD path: {MachineLimits.SimdPath()}");
        Console.WriteLine($"{(modelYaml is null ? $"YOLOv5{size.Name}" : model.ModelName)} detect-train step: batch {batchSize}, --img {img}, {threads} threads, --workers {workers}, " +
            $"{source.Count} training images of {yaml}; {warmup} warm-up steps, then {steps} measured; ms per step (means)");
        int done = 0;
        for (int epoch = 0; done < warmup + steps; epoch++)
        {
            using var batches = loader.Iterate(epoch).GetEnumerator();
            while (done < warmup + steps)
            {
                measuring = done >= warmup;
                missesBySize = measuring && misses;
                if (!Time("loader", () => batches.MoveNext())) break;
                var batch = batches.Current;
                var output = Time("forward", () => model.Call(batch.Images));
                var loss = Time("loss (targets, CIoU, BCE)", () => yoloLoss.Compute(model.Detect.Split(output, model.Detect.LastShapes), batch.Targets).Total);
                Time("loss.Item", () => loss.Item());
                Engine.Timings = measuring && ops ? nodeTimes : null;
                Time("backward", () => { loss.Backward(); return 0; });
                Engine.Timings = null;
                Time("optimizer (Adam, zero_grad)", () => { optimizer.Step(); optimizer.ZeroGrad(); return 0; });
                Time("EMA update", () => { ema.Update(); return 0; });
                done++;
            }
        }
        foreach (var h in hooks) h.Dispose();

        Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"{"stage",-30} {"wall",8} {"thread",8} {"process",8} {"misses",7} {"induced",7} {"gen2",6} {"GC ms",7}");
        var total = new Stage();
        foreach (var (name, s) in stages)
        {
            Row(name, s);
            total.Wall += s.Wall; total.Thread += s.Thread; total.Process += s.Process; total.Misses += s.Misses; total.Induced += s.Induced;
            total.Gen2 += s.Gen2; total.GcPause += s.GcPause;
        }
        Row("step", total);
        if (misses)
        {
            // --misses: the pooled sizes (size classes under 256 KiB) the measured steps allocated afresh, by stage (each
            // miss may induce a collection); then all collections per step (gen 0 counts every collection, induced or not)
            Console.WriteLine("pool misses by stage and (dtype, buffer length) over the measured steps:");
            foreach (var (name, s) in stages)
                foreach (var ((dtype, length), count) in s.MissesBySize.OrderByDescending(k => k.Value).Take(12))
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-30} {dtype,-8} {length,10} ({(long)length * dtype.ElementSize() / 1024.0,7:F0} KiB) {count,5}"));
            Console.WriteLine("collections per step (all generations) by stage: " + string.Join(", ", stages.Select(s =>
                string.Create(CultureInfo.InvariantCulture, $"{s.Name} {s.Stage.Collections / (double)steps:F2}"))));
        }
        if (!ops) return 0;

        var forward = stages.First(s => s.Name == "forward").Stage;
        // thread = the CPU of the thread that runs the step; process − thread is what the other threads did alongside it
        // (on 2 threads about as much as this thread where the kind is parallel, nothing where it runs serially)
        Console.WriteLine($"forward by layer kind (hooks on leaf blocks; process CPU / wall / step thread's CPU per step):");
        double leafWall = 0, leafCpu = 0;
        foreach (var (kind, s) in forwardKinds.OrderByDescending(k => k.Value.Process))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {kind,-34} {s.Process / steps,8:F2} {s.Wall / steps,8:F2} {s.Thread / steps,8:F2}  ({s.Misses / steps} calls)"));
            leafWall += s.Wall; leafCpu += s.Process;
        }
        double leafThread = forwardKinds.Values.Sum(k => k.Thread);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"glue (cat, adds, head layout)",-34} {(forward.Process - leafCpu) / steps,8:F2} {(forward.Wall - leafWall) / steps,8:F2} {(forward.Thread - leafThread) / steps,8:F2}"));
        var backward = stages.First(s => s.Name == "backward").Stage;
        Console.WriteLine("backward by node (process CPU / wall / step thread's CPU per step, calls per step):");
        double nodeWall = 0, nodeCpu = 0, nodeThread = 0;
        foreach (var (name, (wall, cpu, calls)) in nodeTimes.ByName.OrderByDescending(k => k.Value.CpuMs))
        {
            double thread = nodeTimes.ThreadCpuByName.GetValueOrDefault(name);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-34} {cpu / steps,8:F2} {wall / steps,8:F2} {thread / steps,8:F2}  ({calls / steps})"));
            nodeWall += wall; nodeCpu += cpu; nodeThread += thread;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"engine (accumulate, release, sort)",-34} {(backward.Process - nodeCpu) / steps,8:F2} {(backward.Wall - nodeWall) / steps,8:F2} {(backward.Thread - nodeThread) / steps,8:F2}"));
        return 0;

        void Row(string name, Stage s) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-30} {s.Wall / steps,8:F2} {s.Thread / steps,8:F2} {s.Process / steps,8:F2} {(double)s.Misses / steps,7:F1} {(double)s.Induced / steps,7:F2} {(double)s.Gen2 / steps,6:F2} {s.GcPause / steps,7:F2}"));
    }

    T Time<T>(string name, Func<T> action)
    {
        long m0 = StoragePool.Misses, i0 = StoragePool.InducedCollections, c0 = GC.CollectionCount(2), all0 = GC.CollectionCount(0);
        int at = stages.FindIndex(s => s.Name == name);
        if (at < 0 && measuring) { stages.Add((name, new Stage())); at = stages.Count - 1; }
        StoragePool.MissesBySize = missesBySize ? stages[at].Stage.MissesBySize : null;
        var gc0 = GC.GetTotalPauseDuration();
        double t0 = ThreadCpuMs(), p0 = ProcessCpuMs();
        long w0 = Stopwatch.GetTimestamp();
        var result = action();
        double wall = Stopwatch.GetElapsedTime(w0).TotalMilliseconds;
        StoragePool.MissesBySize = null;
        if (!measuring) return result;
        var stage = stages[at].Stage;
        stage.Wall += wall;
        stage.Thread += ThreadCpuMs() - t0;
        stage.Process += ProcessCpuMs() - p0;
        stage.Misses += StoragePool.Misses - m0;
        stage.Induced += StoragePool.InducedCollections - i0;
        stage.Gen2 += GC.CollectionCount(2) - c0;
        stage.Collections += GC.CollectionCount(0) - all0;
        stage.GcPause += (GC.GetTotalPauseDuration() - gc0).TotalMilliseconds;
        return result;
    }

    // Times each leaf block's forward into its kind (the Misses field counts calls); blocks do not nest, so one start suffices.
    List<IDisposable> HookLeaves(Module model, Dictionary<string, Stage> kinds)
    {
        var handles = new List<IDisposable>();
        (long Wall, double Cpu, double Thread) start = default;
        foreach (var (name, module) in model.NamedModules())
        {
            string? kind = module switch
            {
                ConvBnSiLU c => $"conv {c.Conv.KernelSize.H}x{c.Conv.KernelSize.W} s{c.Conv.Stride.H} + BN + SiLU",
                Conv2d c when name.StartsWith("model.24.", StringComparison.Ordinal) => $"detect conv {c.KernelSize.H}x{c.KernelSize.W}",
                MaxPool2d => "max pool (SPPF)",
                Upsample => "upsample nearest x2",
                _ => null,
            };
            if (kind is null) continue;
            handles.Add(module.RegisterForwardPreHook((_, _) => { start = (Stopwatch.GetTimestamp(), ProcessCpuMs(), ThreadCpuMs()); return null; }));
            handles.Add(module.RegisterForwardHook((_, _, _) =>
            {
                if (!measuring) return null;
                var s = kinds.TryGetValue(kind, out var k) ? k : kinds[kind] = new Stage();
                s.Wall += Stopwatch.GetElapsedTime(start.Wall).TotalMilliseconds;
                s.Process += ProcessCpuMs() - start.Cpu;
                s.Thread += ThreadCpuMs() - start.Thread;
                s.Misses++;
                return null;
            }));
        }
        return handles;
    }

    // make-data's generator into a temporary folder, once per machine (the images are a pure function of the seed).
    static string GeneratedData(int trainImages)
    {
        int count = Math.Max(trainImages, 64);
        var folder = Path.Combine(Path.GetTempPath(), $"ember-bench-detect-{count}");
        var yaml = Path.Combine(folder, "data.yaml");
        if (File.Exists(yaml)) return yaml;
        var staging = folder + $".{Environment.ProcessId}";
        FashionMnistDetectionSet.Write(staging, new SyntheticDetectionOptions { TrainImages = count, ValImages = 16, Seed = 0 });
        try { Directory.Move(staging, folder); }
        catch (IOException) when (File.Exists(yaml)) { Directory.Delete(staging, recursive: true); } // another run made it first
        return yaml;
    }
}
