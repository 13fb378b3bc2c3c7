using Ember.Bench.Peers;
using Ember.Detection.Model;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// Per-layer side-by-side of the YOLOv5 eval forward (the YOLOv5 rows of <c>compare</c>): every Conv block, max pool,
/// upsample and top-level layer is timed alone on the input it gets in the model, in Ember and in the TorchSharp twin
/// with the same weights, so the layers where Ember loses stand out. Usage: <c>yolo-layers [--size n|s] [--image 320]
/// [--batch 8] [--threads 2] [--match text]</c>.
/// </summary>
public sealed class YoloLayersWorkload : IWorkload
{
    public string Name => "yolo-layers";

    public string Description => "Per-layer Ember vs TorchSharp times of the YOLOv5 eval forward [--size s --image 320 --batch 8]";

    /// <summary>An Ember YOLOv5 (seed 23) and, with <paramref name="withPeer"/>, its TorchSharp twin with the same weights, in the same mode.</summary>
    internal static (YoloV5 Model, TorchYoloV5? Peer, Dictionary<string, torch.nn.Module> PeerModules) Twins(YoloSize size, int classes, bool train, bool withPeer)
    {
        Torch.ManualSeed(23);
        var model = new YoloV5(classes, size);
        if (train) model.Train(); else model.Eval();
        if (!withPeer) return (model, null, []);
        var peer = new TorchYoloV5(classes, size);
        SameWork.CopyWeights(model, peer);
        peer.train(train);
        return (model, peer, peer.named_modules().ToDictionary(p => p.name, p => p.module));
    }

    public int Run(string[] args)
    {
        string Arg(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        var size = Arg("--size", "s") == "n" ? YoloSize.N : YoloSize.S;
        int image = int.Parse(Arg("--image", "320")), batch = int.Parse(Arg("--batch", "8")), threads = int.Parse(Arg("--threads", "2"));
        string? match = Arg("--match", "") is { Length: > 0 } m ? m : null;
        bool withPeer = !args.Contains("--no-peer");
        Torch.NumThreads = threads;
        if (withPeer && !TorchPeer.TryInitialize(threads)) { Console.Error.WriteLine(TorchPeer.Problem); return 1; }
        if (withPeer) Console.WriteLine(TorchPeer.Description);

        var (model, peer, torchModules) = Twins(size, 80, train: false, withPeer);
        Tensor x = Inputs.Randn(1, batch, 3, image, image);

        // One forward with pre-hooks records each layer's input; the hooks go before timing (they disable the fused path).
        var inputs = new List<(string Name, Module Module, Tensor Input)>();
        var removals = new List<IDisposable>();
        // The Detect head's inputs: the outputs of the last C3 of each level (layers 17, 20, 23).
        string[] levelOutputs = ["model.17", "model.20", "model.23"];
        var features = new Tensor[levelOutputs.Length];
        foreach (var (name, module) in model.NamedModules())
        {
            bool topLevel = name.StartsWith("model.", StringComparison.Ordinal) && name.Count(c => c == '.') == 1;
            if (module is ConvBnSiLU or MaxPool2d or Upsample || topLevel && module is not DetectHead)
                removals.Add(module.RegisterForwardPreHook((mod, input) => { inputs.Add((name, mod, input)); return null; }));
            int level = Array.IndexOf(levelOutputs, name);
            if (level >= 0) removals.Add(module.RegisterForwardHook((mod, input, output) => { features[level] = output; return null; }));
        }
        using (Torch.NoGrad()) model.Call(x);
        foreach (var r in removals) r.Dispose();

        var (whole, wholeTorch) = Measure.MedianPair(() => { using (Torch.NoGrad()) model.Call(x); }, peer is null ? null : TorchForward(peer, Inputs.ToTorch(x)), reps: 7);
        Console.WriteLine($"YOLOv5{size.Name} {batch}×3×{image}², {threads} threads: whole forward Ember {whole.Wall * 1e3:F2} ms (CPU {whole.Cpu * 1e3:F2}), Torch {(wholeTorch?.Wall ?? 0) * 1e3:F2} ms (CPU {(wholeTorch?.Cpu ?? 0) * 1e3:F2})");
        Console.WriteLine("GF/s-cpu: the layer's FLOPs (2·MACs) per Ember CPU second × threads, what it would reach on idle cores");
        Console.WriteLine($"{"layer",-16} {"kind",-10} {"input",-22} {"Ember ms",9} {"CPU ms",8} {"GF/s-cpu",8} {"Torch ms",9} {"CPU ms",8} {"ratio",6}");
        double sumLoss = 0;
        foreach (var (name, module, input) in inputs)
        {
            if (match is not null && !name.Contains(match, StringComparison.Ordinal)) continue;
            Action? torchCall = null;
            if (withPeer)
            {
                if (!torchModules.TryGetValue(name, out var tm) || tm is not torch.nn.Module<TT, TT> torchModule) { Console.WriteLine($"{name}: no TorchSharp twin"); continue; }
                torchCall = TorchForward(torchModule, Inputs.ToTorch(input));
            }
            var (e, t) = Measure.MedianPair(() => { using (Torch.NoGrad()) module.Call(input); }, torchCall, reps: withPeer ? 7 : 11);
            double em = e.Wall * 1e3, tms = (t?.Wall ?? double.NaN) * 1e3;
            bool leaf = module is ConvBnSiLU or MaxPool2d or Upsample;
            if (leaf) sumLoss += em - tms;
            double gf = Flops(module, input) / (e.Cpu / threads) / 1e9;
            Console.WriteLine($"{name,-16} {Kind(module),-10} {input.Shape,-22} {em,9:F3} {e.Cpu * 1e3,8:F3} {gf,8:F1} {tms,9:F3} {(t?.Cpu ?? double.NaN) * 1e3,8:F3} {tms / em,6:F2}{(leaf ? "" : "  (block)")}");
        }
        // The head: the three 1×1 convs, the (N, na, H, W, no) layout and the decode, as the whole forward ends.
        if (match is null || "model.24".Contains(match, StringComparison.Ordinal))
        {
            Action? torchHead = null;
            if (withPeer)
            {
                var head = (TorchDetect)torchModules["model.24"];
                TT[] torchFeatures = features.Select(Inputs.ToTorch).ToArray();
                torchHead = () =>
                {
                    using var scope = torch.NewDisposeScope();
                    using var grad = torch.no_grad();
                    head.Decode(torchFeatures);
                };
            }
            var (e, t) = Measure.MedianPair(() => { using (Torch.NoGrad()) model.Detect.Decode(model.Detect.ForwardLevels(features)); }, torchHead, reps: withPeer ? 7 : 11);
            double em = e.Wall * 1e3, tms = (t?.Wall ?? double.NaN) * 1e3;
            sumLoss += em - tms;
            Console.WriteLine($"{"model.24",-16} {"Detect",-10} {features[0].Shape,-22} {em,9:F3} {e.Cpu * 1e3,8:F3} {"",8} {tms,9:F3} {(t?.Cpu ?? double.NaN) * 1e3,8:F3} {tms / em,6:F2}  (3 convs + decode)");
        }
        Console.WriteLine($"sum of leaf losses (Ember − Torch): {sumLoss:F2} ms");
        return 0;
    }

    static string Kind(Module m) => m switch
    {
        ConvBnSiLU c => $"conv{c.Conv.KernelSize.H}s{c.Conv.Stride.H}",
        _ => m.GetType().Name,
    };

    static double Flops(Module m, Tensor input)
    {
        if (m is not ConvBnSiLU c) return 0;
        var k = c.Conv.KernelSize;
        int oh = (input.Size(2) + 2 * c.Conv.Padding.H - k.H) / c.Conv.Stride.H + 1, ow = (input.Size(3) + 2 * c.Conv.Padding.W - k.W) / c.Conv.Stride.W + 1;
        return 2.0 * input.Size(0) * c.Conv.OutChannels * c.Conv.InChannels * k.H * k.W * oh * ow;
    }

    static Action TorchForward(torch.nn.Module<TT, TT> module, TT input) => () =>
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.no_grad();
        module.forward(input);
    };
}
