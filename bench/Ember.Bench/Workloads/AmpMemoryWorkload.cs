using System.Diagnostics;
using System.Text.Json;
using Ember.Autograd;
using Ember.Bench.Epoch;
using Ember.Bench.Peers;
using Ember.Models;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;
using Ember.Training.Amp;

namespace Ember.Bench.Workloads;

/// <summary>
/// Memory and time of a training step with and without autocast (issue 22): the default CNN (FashionCnn, batch 128,
/// Adam) and a transformer encoder layer ([32, 64, 128], 4 heads, feed-forward 512, Adam, MSE), each in float32, bf16
/// and fp16 autocast. Every (model, precision) runs in a fresh process, so the peak resident set (VmHWM, reset after
/// the warm-up steps) is its own; the bytes of the tensors the graph saved for backward are counted exactly
/// (<see cref="Engine.SavedTensorBytes"/>), and the step time is the median over the timed steps.
/// </summary>
/// <remarks>
/// Warm-up runs until the JIT has compiled no method for <see cref="QuietJitMs"/> and <see cref="QuietJitSteps"/> steps
/// (at most <see cref="MaxWarmupSteps"/> steps), or a fixed <c>--warmup N</c> steps; the "jit" column counts the
/// methods still compiled during the timed steps (0 when they timed steady-state code). Three fixed steps were not enough: tiered
/// compilation was still compiling hundreds of methods (tier 0, instrumented, tier 1) during the timed steps of every
/// row, and on a quiet machine, where a transformer step takes ~25 ms, the timed steps measured when the tier-1 code
/// arrived rather than the step (2026-12-04: the bf16 row at 2× the fp16 row in one quiet run, equal in steady state).
/// </remarks>
public sealed class AmpMemoryWorkload : IWorkload
{
    const string ResultPrefix = "AMP-RESULT ";
    static readonly string[] Models = ["cnn", "transformer"];
    static readonly string[] Modes = ["float32", "bf16", "fp16"];
    const int QuietJitMs = 1000;
    const int QuietJitSteps = 10;
    const int MaxWarmupSteps = 300;

    public string Name => "amp";

    public string Description => "peak memory, saved-activation bytes and step time of a CNN and a transformer training step, float32 vs bf16/fp16 autocast [--steps 10] [--threads 2] [--warmup N (default: until the JIT is idle)]";

    sealed record Result(string Model, string Mode, long SavedBytes, long PeakBytes, long GrowthBytes, double MedianStepMs, double FirstLoss, double LastLoss, double MedianStepCpuMs = 0, int WarmupSteps = 3, long TimedJitCompiles = 0, string Simd = "");

    public int Run(string[] args)
    {
        int steps = int.Parse(Option(args, "--steps") ?? "10");
        int threads = int.Parse(Option(args, "--threads") ?? "2");
        int? warmup = Option(args, "--warmup") is string w ? int.Parse(w) : null;
        if (warmup < 1) throw new ArgumentException($"amp: --warmup must be at least 1, got {warmup}");
        listSaved = args.Contains("--list-saved");
        if (Option(args, "--model") is string model) return RunChild(model, Option(args, "--mode") ?? "float32", steps, threads, warmup);
        string warming = warmup is int fixedCount ? $"{fixedCount} warm-up" : $"warm-up until the JIT is idle for {QuietJitMs} ms and {QuietJitSteps} steps";
        Console.WriteLine($"amp: training steps, {steps} timed after {warming}, {threads} threads, one fresh process per row ({Environment.MachineName}, load {Load()})");
        Console.WriteLine($"SIMD path: {MachineLimits.SimdPath()}");
        Console.WriteLine($"{"model",-12} {"precision",-9} {"saved MB",9} {"peak MB",8} {"(+growth)",10} {"step ms",8} {"cpu ms",7} {"warm",5} {"jit",4} {"loss first→last",18}");
        foreach (var m in Models)
            foreach (var mode in Modes)
            {
                var r = Spawn(m, mode, steps, threads, warmup);
                if (r is null) { Console.WriteLine($"{m,-12} {mode,-9} failed"); continue; }
                Console.WriteLine($"{r.Model,-12} {r.Mode,-9} {r.SavedBytes / 1e6,9:F1} {r.PeakBytes / 1e6,8:F0} {$"(+{r.GrowthBytes / 1e6:F0})",10} {r.MedianStepMs,8:F1} {r.MedianStepCpuMs,7:F1} {r.WarmupSteps,5} {r.TimedJitCompiles,4} {$"{r.FirstLoss:F4}→{r.LastLoss:F4}",18}");
            }
        return 0;
    }

    static int RunChild(string model, string mode, int steps, int threads, int? warmup)
    {
        Torch.NumThreads = threads;
        AutocastDType? dtype = mode switch
        {
            "float32" => null,
            "bf16" => AutocastDType.BFloat16,
            "fp16" => AutocastDType.Float16,
            _ => throw new ArgumentException($"amp: --mode must be float32, bf16 or fp16, got '{mode}'"),
        };
        Func<Tensor> forward;
        Optimizer optimizer;
        Torch.ManualSeed(13);
        if (model == "cnn")
        {
            var net = new FashionCnn();
            var x = Inputs.Randn(1, 128, 1, 28, 28);
            var y = Torch.FromArray(Enumerable.Range(0, 128).Select(i => (long)(i * 7 % 10)).ToArray(), [128]);
            optimizer = new Adam(net.Parameters(), new AdamOptions { LearningRate = 1e-3 });
            forward = () => F.CrossEntropy(net.Call(x), y);
        }
        else if (model == "transformer")
        {
            var layer = new TransformerEncoderLayer(128, 4, 512, dropout: 0, batchFirst: true);
            var x = Inputs.Randn(1, 32, 64, 128);
            var target = Inputs.Randn(2, 32, 64, 128);
            optimizer = new Adam(layer.Parameters(), new AdamOptions { LearningRate = 1e-3 });
            forward = () => F.MseLoss(layer.Call(x), target);
        }
        else throw new ArgumentException($"amp: --model must be cnn or transformer, got '{model}'");

        long savedBytes = 0;
        double Step(bool countSaved)
        {
            optimizer.ZeroGrad();
            Tensor loss;
            using (Autocast.Enable(dtype ?? AutocastDType.BFloat16, enabled: dtype is not null)) loss = forward();
            if (countSaved) savedBytes = Engine.SavedTensorBytes(loss);
            if (countSaved && listSaved) ListSaved(loss);
            loss.Backward();
            optimizer.Step();
            return loss.Item();
        }

        double first = Step(countSaved: true);
        int warmupSteps = 1;
        if (warmup is int count)
            for (; warmupSteps < count; warmupSteps++) Step(false);
        else
        {
            // JitInfo counts every compilation, tier-ups included (background ones too)
            long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            var sinceCompile = Stopwatch.StartNew();
            int quietSteps = 0;
            while (warmupSteps < MaxWarmupSteps && (quietSteps < QuietJitSteps || sinceCompile.ElapsedMilliseconds < QuietJitMs))
            {
                Step(false);
                warmupSteps++;
                quietSteps++;
                long now = System.Runtime.JitInfo.GetCompiledMethodCount();
                if (now != compiled) { compiled = now; sinceCompile.Restart(); quietSteps = 0; }
            }
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (!ProcessMemory.ResetPeak()) throw new InvalidOperationException("amp: cannot reset the peak resident set (/proc/self/clear_refs)");
        long setUp = ProcessMemory.ResidentBytes();
        var times = new double[steps];
        // process CPU time (all threads) per step: on a loaded machine it moves less than the wall time
        var cpu = new double[steps];
        double last = first;
        long compiledBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        for (int i = 0; i < steps; i++)
        {
            double cpuStart = ProcessCpuMs();
            var clock = Stopwatch.StartNew();
            last = Step(false);
            times[i] = clock.Elapsed.TotalMilliseconds;
            cpu[i] = ProcessCpuMs() - cpuStart;
        }
        long timedCompiles = System.Runtime.JitInfo.GetCompiledMethodCount() - compiledBefore;
        long peak = ProcessMemory.PeakBytes();
        Array.Sort(times);
        Array.Sort(cpu);
        Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(new Result(model, mode, savedBytes, peak, peak - setUp, times[steps / 2], first, last, cpu[steps / 2], warmupSteps, timedCompiles, MachineLimits.SimdPathKey())));
        return 0;
    }

    static bool listSaved;

    /// <summary>
    /// Every storage the graph saved for backward, once, with the node that saved it first, then every storage it holds
    /// through its nodes' inputs too (the graph keeps its input tensors), with totals (--list-saved).
    /// </summary>
    static void ListSaved(Tensor root)
    {
        var seen = new HashSet<Storage>(ReferenceEqualityComparer.Instance);
        var held = new HashSet<Storage>(ReferenceEqualityComparer.Instance);
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Tensor>();
        long savedBytes = 0, heldBytes = 0;
        stack.Push(root);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (t.Node is not { } node) continue;
            foreach (var s in node.SavedTensors)
                if (seen.Add(s.storage))
                {
                    long bytes = (long)s.storage.Length * s.DType.ElementSize();
                    savedBytes += bytes;
                    Console.WriteLine($"saved {node.Name,-28} {s.DType.TorchName(),-10} {s.Shape,-18} {bytes / 1e6,8:F3} MB");
                }
            foreach (var input in node.Inputs)
            {
                if (!input.RequiresGrad) continue;
                if (input.Node is not null && !seen.Contains(input.storage) && held.Add(input.storage))
                {
                    long bytes = (long)input.storage.Length * input.DType.ElementSize();
                    heldBytes += bytes;
                    Console.WriteLine($"input {node.Name,-28} {input.DType.TorchName(),-10} {input.Shape,-18} {bytes / 1e6,8:F3} MB  (from {input.Node.Name})");
                }
                if (visited.Add(input)) stack.Push(input);
            }
        }
        foreach (var storage in held)
            if (seen.Contains(storage)) heldBytes -= (long)storage.Length * storage.DType.ElementSize();
        Console.WriteLine($"saved total {savedBytes / 1e6:F2} MB; non-leaf inputs the graph also holds {heldBytes / 1e6:F2} MB (storages counted once)");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    struct TimeSpec { public long Seconds, Nanoseconds; }

    /// <summary>CPU time of all the process's threads (CLOCK_PROCESS_CPUTIME_ID, ns resolution; /proc's is 10 ms), or 0 where unavailable.</summary>
    static double ProcessCpuMs()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        return ClockGetTime(2, out var t) == 0 ? t.Seconds * 1e3 + t.Nanoseconds / 1e6 : 0;
    }

    static Result? Spawn(string model, string mode, int steps, int threads, int? warmup)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("amp: cannot find this program's path to start a child process");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(AmpMemoryWorkload).Assembly.Location);
        foreach (string a in new[] { "amp", "--model", model, "--mode", mode, "--steps", $"{steps}", "--threads", $"{threads}" }) start.ArgumentList.Add(a);
        if (warmup is int count) { start.ArgumentList.Add("--warmup"); start.ArgumentList.Add($"{count}"); }
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"amp: could not start {self}");
        Result? result = null;
        while (child.StandardOutput.ReadLine() is string line)
            if (line.StartsWith(ResultPrefix, StringComparison.Ordinal)) result = JsonSerializer.Deserialize<Result>(line[ResultPrefix.Length..]);
        child.WaitForExit();
        if (child.ExitCode != 0) Console.Error.WriteLine($"amp: the {model}/{mode} process exited with code {child.ExitCode}");
        return child.ExitCode == 0 ? result : null;
    }

    static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
