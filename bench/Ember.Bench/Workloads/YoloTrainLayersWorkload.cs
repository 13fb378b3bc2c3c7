using System.Diagnostics;
using Ember.Bench.Peers;
using Ember.Detection.Model;
using Ember.Kernels.Conv;
using Ember.Kernels.Loops;
using Ember.Kernels.Norm;
using Ember.Kernels.Operators;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// Per-layer profile of one YOLOv5 TRAINING step (train mode: BatchNorm on batch statistics, gradients of inputs and
/// weights): every Conv block, max pool, upsample, Detect conv and top-level block is timed alone on the input it gets in
/// the model, forward and forward + backward, in Ember and in the TorchSharp twin with the same weights. For each Conv
/// block the kernels behind it are also timed one by one on preallocated spans (conv forward, BN forward, SiLU forward,
/// SiLU backward, BN backward, conv input gradient, conv weight gradient), so the autograd/allocation overhead is the
/// module time minus their sum; a table then gives each conv shape's GFLOP per CPU-second of the three conv kernels. With
/// --model FILE.yaml the model is a YOLOv5-style definition (no TorchSharp twin). Usage: <c>yolo-train-layers [--size n|s |
/// --model FILE.yaml] [--width 0.375] [--image 320] [--batch 16] [--threads 2]
/// [--match text | --layers name,name] [--reps 5] [--no-peer] [--no-kernels] [--whole-only]</c>. Times are medians per call: wall and process
/// CPU (getrusage, all threads), so CPU/wall shows how busy the second core is.
/// </summary>
public sealed class YoloTrainLayersWorkload : IWorkload
{
    public string Name => "yolo-train-layers";

    public string Description => "Per-layer, per-direction times of a YOLOv5 training step, Ember vs TorchSharp [--size n --image 320 --batch 16]";

    int reps = 5;

    // The kinds of conv block (kernel and stride) whose kernels KernelTimes has warmed up (see there).
    readonly HashSet<(int Kernel, int Stride)> warmKinds = [];

    public int Run(string[] args)
    {
        string Arg(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        var size = Arg("--size", "n") == "s" ? YoloSize.S : YoloSize.N;
        // --width 0.375: the size's depth at another width multiplier (the TorchSharp twin takes any), e.g. the width-0.375 model
        if (Arg("--width", "") is { Length: > 0 } width)
            size = new YoloSize($"{size.Name} at width {width}", size.Depth, double.Parse(width, System.Globalization.CultureInfo.InvariantCulture));
        int image = int.Parse(Arg("--image", "320")), batch = int.Parse(Arg("--batch", "16")), threads = int.Parse(Arg("--threads", "2"));
        reps = int.Parse(Arg("--reps", "5"));
        string? match = Arg("--match", "") is { Length: > 0 } m ? m : null;
        // --layers a,b,c: exactly these layers, and no whole-step timing (a short A/B of a few layers)
        string[]? layers = Arg("--layers", "") is { Length: > 0 } list ? list.Split(',') : null;
        string? modelYaml = Arg("--model", "") is { Length: > 0 } path ? path : null;
        bool withPeer = !args.Contains("--no-peer") && modelYaml is null, kernels = !args.Contains("--no-kernels"), wholeOnly = args.Contains("--whole-only");
        Torch.NumThreads = threads;
        if (withPeer && !TorchPeer.TryInitialize(threads)) { Console.Error.WriteLine(TorchPeer.Problem); return 1; }
        if (withPeer) Console.WriteLine(TorchPeer.Description);

        var (model, peer, torchModules) = modelYaml is null ? YoloLayersWorkload.Twins(size, 10, train: true, withPeer) : FromYaml(modelYaml);
        Tensor x = Inputs.Randn(1, batch, 3, image, image);

        // One training forward with pre-hooks records each layer's input.
        var inputs = new List<(string Name, Module Module, Tensor Input)>();
        var removals = new List<IDisposable>();
        foreach (var (name, module) in model.NamedModules())
        {
            bool topLevel = name.StartsWith("model.", StringComparison.Ordinal) && name.Count(c => c == '.') == 1;
            bool detectConv = name.StartsWith("model.24.m.", StringComparison.Ordinal);
            if (module is ConvBnSiLU or MaxPool2d or Upsample || detectConv || topLevel && module is not DetectHead)
                removals.Add(module.RegisterForwardPreHook((mod, input) => { inputs.Add((name, mod, input.Detach().Contiguous())); return null; }));
        }
        var flat = model.Call(x);
        foreach (var r in removals) r.Dispose();
        var gradFlat = Inputs.Randn(2, flat.Shape.ToArray()) * 0.01;
        flat = null;

        Console.WriteLine($"SIMD path: {MachineLimits.SimdPath()}");
        Console.WriteLine($"{(modelYaml is null ? $"YOLOv5{size.Name}" : model.ModelName)} train step {batch}×3×{image}², {threads} threads; ms per call, medians of {reps}; 'cpu' = process CPU ms (all threads)");
        if (layers is null)
        {
            var fwd = Time(() => model.Call(x));
            var step = Time(() => { model.Call(x).Backward(gradFlat); model.ZeroGrad(); });
            Console.WriteLine($"whole Ember: forward {fwd.Wall:F1} (cpu {fwd.Cpu:F1}), backward {step.Wall - fwd.Wall:F1} (cpu {step.Cpu - fwd.Cpu:F1}), step {step.Wall:F1} (cpu {step.Cpu:F1})");
            if (peer is not null)
            {
                var tx = Inputs.ToTorch(x);
                var levels = peer.ForwardRaw(tx);
                var tg = levels.Select((l, i) => Inputs.TorchRandn(3 + i, l.shape.Select(d => (int)d).ToArray()) * 0.01).ToArray();
                foreach (var l in levels) l.Dispose();
                var tf = Time(() => { using var scope = torch.NewDisposeScope(); peer.ForwardRaw(tx); });
                var ts = Time(() =>
                {
                    using var scope = torch.NewDisposeScope();
                    var outs = peer.ForwardRaw(tx);
                    TT loss = outs[0].mul(tg[0]).sum();
                    for (int i = 1; i < outs.Length; i++) loss = loss + outs[i].mul(tg[i]).sum();
                    loss.backward();
                    peer.zero_grad();
                });
                Console.WriteLine($"whole Torch: forward {tf.Wall:F1} (cpu {tf.Cpu:F1}), backward {ts.Wall - tf.Wall:F1} (cpu {ts.Cpu - tf.Cpu:F1}), step {ts.Wall:F1} (cpu {ts.Cpu:F1})");
            }
        }
        if (wholeOnly) return 0;

        Console.WriteLine("kernels (process CPU ms): conv forward, BN forward, SiLU forward, SiLU backward, BN backward, conv dX, conv dW; Σk wall and cpu");
        Console.WriteLine($"{"layer",-14} {"kind",-9} {"input",-20} {"convF",6} {"bnF",6} {"siluF",6} {"siluB",6} {"bnB",6} {"dX",6} {"dW",6} {"Σk",6} {"Σk cpu",6} | {"fwd",6} {"bwd",6} {"f+b cpu",7} | {"T fwd",6} {"T bwd",6} {"T cpu",6} {"ratio",5}");
        double[] kernelTotals = new double[7];
        var shapes = new List<string>();
        double leafEmber = 0, leafTorch = 0, leafEmberCpu = 0;
        foreach (var (name, module, input) in inputs)
        {
            if (match is not null && !name.Contains(match, StringComparison.Ordinal) || layers is not null && !layers.Contains(name)) continue;
            bool leaf = module is ConvBnSiLU or MaxPool2d or Upsample or Conv2d;
            // The stem's input is the image: no input gradient, as in training.
            var xin = name == "model.0" ? input : input.Detach().RequiresGradInPlace();
            var y0 = module.Call(xin);
            var gOut = Inputs.Randn(4, y0.Shape.ToArray()) * 0.01;
            y0 = null;
            var ef = Time(() => module.Call(xin));
            var es = Time(() => { module.Call(xin).Backward(gOut); xin.Grad = null; module.ZeroGrad(); });
            string k = "";
            if (kernels && module is ConvBnSiLU block)
            {
                var times = KernelTimes(block, input, gOut, name == "model.0");
                for (int i = 0; i < 7; i++) kernelTotals[i] += times[i].Cpu;
                shapes.Add(ShapeRate(name, block.Conv, input, times));
                k = string.Join(" ", times.Take(7).Select(t => $"{t.Cpu,6:F2}")) + $" {times.Take(7).Sum(t => t.Wall),6:F2} {times.Take(7).Sum(t => t.Cpu),6:F2}";
            }
            else k = new string(' ', 7 * 7 + 13);
            string torchPart = "";
            if (peer is not null && torchModules.TryGetValue(name, out var tm) && tm is torch.nn.Module<TT, TT> tmod)
            {
                var tx = Inputs.ToTorch(input);
                if (name != "model.0") tx.requires_grad_(true);
                var tgo = Inputs.ToTorch(gOut);
                var tf = Time(() => { using var scope = torch.NewDisposeScope(); tmod.forward(tx); });
                var ts = Time(() =>
                {
                    using var scope = torch.NewDisposeScope();
                    tmod.forward(tx).backward([tgo]);
                    if (tx.grad is not null) tx.grad = null;
                    tmod.zero_grad();
                });
                torchPart = $"{tf.Wall,6:F2} {ts.Wall - tf.Wall,6:F2} {ts.Cpu,6:F2} {ts.Wall / es.Wall,5:F2}";
                if (leaf) leafTorch += ts.Wall;
            }
            if (leaf) { leafEmber += es.Wall; leafEmberCpu += es.Cpu; }
            Console.WriteLine($"{name,-14} {Kind(module),-9} {input.Shape,-20} {k} | {ef.Wall,6:F2} {es.Wall - ef.Wall,6:F2} {es.Cpu,7:F2} | {torchPart}{(leaf ? "" : "  (block)")}");
        }
        Console.WriteLine($"leaf layers: Ember forward+backward {leafEmber:F1} ms (cpu {leafEmberCpu:F1}), Torch {leafTorch:F1} ms");
        if (kernels)
        {
            Console.WriteLine($"kernel totals over conv blocks (CPU ms): convF {kernelTotals[0]:F1}, bnF {kernelTotals[1]:F1}, siluF {kernelTotals[2]:F1}, siluB {kernelTotals[3]:F1}, bnB {kernelTotals[4]:F1}, dX {kernelTotals[5]:F1}, dW {kernelTotals[6]:F1}");
            // GFLOP per CPU-second (process CPU, all threads), to set against one core's FMA peak in the bench header.
            Console.WriteLine("conv shapes (batch as above): GFLOP per CPU-second of the forward, input gradient and weight gradient kernels");
            Console.WriteLine($"{"layer",-16} {"Cin",4} {"Cout",4} {"k",2} {"s",2} {"H×W in",9} {"GFLOP",6} | {"F cpu",6} {"F GF/s",6} | {"dX cpu",6} {"dX GF/s",7} | {"dW cpu",6} {"dW GF/s",7}");
            foreach (var line in shapes) Console.WriteLine(line);
        }
        return 0;
    }

    /// <summary>A model from a YOLOv5-style definition (seed 23, as the twins), in train mode, without a TorchSharp twin.</summary>
    static (YoloDetector Model, TorchYoloV5? Peer, Dictionary<string, torch.nn.Module> PeerModules) FromYaml(string path)
    {
        Torch.ManualSeed(23);
        var model = YoloModel.FromYaml(path, 10);
        model.Train();
        return (model, null, []);
    }

    /// <summary>One conv block's shape and its three conv kernels' CPU ms and GFLOP per CPU-second (2·N·C_out·C_in·kH·kW·H_out·W_out each).</summary>
    static string ShapeRate(string name, Conv2d conv, Tensor input, (double Wall, double Cpu)[] times)
    {
        int n = input.Size(0), cIn = input.Size(1), h = input.Size(2), w = input.Size(3);
        int outH = (h + 2 * conv.Padding.H - conv.KernelSize.H) / conv.Stride.H + 1, outW = (w + 2 * conv.Padding.W - conv.KernelSize.W) / conv.Stride.W + 1;
        double gflop = 2.0 * n * conv.OutChannels * cIn * conv.KernelSize.H * conv.KernelSize.W * outH * outW / 1e9;
        string Rate((double Wall, double Cpu) t) => t.Cpu > 0 ? $"{gflop / (t.Cpu / 1e3),6:F0}" : $"{"-",6}";
        return $"{name,-16} {cIn,4} {conv.OutChannels,4} {conv.KernelSize.H,2} {conv.Stride.H,2} {$"{h}×{w}",9} {gflop,6:F3} | {times[0].Cpu,6:F2} {Rate(times[0])} | {times[5].Cpu,6:F2} {Rate(times[5]),7} | {times[6].Cpu,6:F2} {Rate(times[6]),7}";
    }

    /// <summary>The seven kernels of a Conv-BN-SiLU training step on preallocated float32 spans, in step order.</summary>
    (double Wall, double Cpu)[] KernelTimes(ConvBnSiLU block, Tensor input, Tensor gradOut, bool stem)
    {
        var conv = block.Conv;
        var p = block.NamedParameters().ToDictionary(q => q.Name, q => q.Parameter);
        var g = new Conv2dGeometry(input.Size(0), input.Size(1), input.Size(2), input.Size(3), conv.OutChannels, conv.KernelSize.H, conv.KernelSize.W,
            conv.Stride.H, conv.Stride.W, conv.Padding.H, conv.Padding.W, 1, 1, 1);
        float[] x = input.ToArray<float>(), w = conv.Weight.Detach().Contiguous().ToArray<float>();
        float[] gamma = p["bn.weight"].Detach().ToArray<float>(), beta = p["bn.bias"].Detach().ToArray<float>();
        float[] dy = gradOut.Contiguous().ToArray<float>();
        int n = g.Batch, c = g.OutChannels, s = g.OutPlane;
        float[] convOut = new float[g.OutputLength], bnOut = new float[g.OutputLength], act = new float[g.OutputLength];
        float[] dAct = new float[g.OutputLength], dBn = new float[g.OutputLength], dx = new float[g.InputLength], dw = new float[g.WeightLength];
        float[] mean = new float[c], invStd = new float[c], dGamma = new float[c], dBeta = new float[c];
        // The first block of each kind runs its kernels 60 times before timing, so that the JIT has tiered them up (it counts
        // 30 calls after 100 ms without new tier-0 code); later blocks of the kind reuse that code. At tier 0 the BN and
        // SiLU kernels' vector wrappers are calls: model.0's BN forward and backward, the first timed, read 15 and 22-25 ms
        // instead of 3-4 and 5 (session 26).
        int warmCalls = warmKinds.Add((conv.KernelSize.H, conv.Stride.H)) ? 60 : 2;
        return
        [
            Time(() => Conv2dKernel.Forward<float>(g, x, w, default, convOut), warmCalls),
            Time(() => BatchNormKernel.Forward<float>(convOut, n, c, s, gamma, beta, 1e-3f, bnOut, mean, invStd), warmCalls),
            Time(() => ActivationKernel.Forward<float>(Activation.Silu, bnOut, act), warmCalls),
            Time(() => ActivationKernel.Backward<float>(Activation.Silu, dy, bnOut, dAct), warmCalls),
            Time(() => BatchNormKernel.Backward<float>(convOut, dAct, n, c, s, gamma, mean, invStd, dBn, dGamma, dBeta), warmCalls),
            stem ? (0, 0) : Time(() => Conv2dKernel.BackwardInput<float>(g, dBn, w, dx), warmCalls),
            Time(() => Conv2dKernel.BackwardWeight<float>(g, x, dBn, dw), warmCalls),
        ];
    }

    /// <summary>Median wall and process-CPU milliseconds per call, after <paramref name="warmCalls"/> warm-up calls.</summary>
    (double Wall, double Cpu) Time(Action action, int warmCalls = 2)
    {
        for (int i = 0; i < warmCalls; i++) action();
        var wall = new double[reps];
        var cpu = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            double c0 = Environment.CpuUsage.TotalTime.TotalMilliseconds;
            long t0 = Stopwatch.GetTimestamp();
            action();
            wall[r] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            cpu[r] = Environment.CpuUsage.TotalTime.TotalMilliseconds - c0;
        }
        Array.Sort(wall);
        Array.Sort(cpu);
        return (wall[reps / 2], cpu[reps / 2]);
    }

    static string Kind(Module m) => m switch
    {
        ConvBnSiLU c => $"conv{c.Conv.KernelSize.H}s{c.Conv.Stride.H}",
        Conv2d c => $"det{c.KernelSize.H}x{c.KernelSize.W}",
        _ => m.GetType().Name,
    };
}
