using System.Diagnostics;
using Ember.Kernels.Conv;
using Ember.Kernels.Gemm;

namespace Ember.Bench.Workloads;

/// <summary>
/// The eval forward convolutions of ResNet-18 (8×3×224²) and YOLOv5s (1×3×320²), each as the fused kernel the model
/// calls (Conv → BatchNorm → ReLU or SiLU folded into one pass), timed per layer shape on the 512-bit micro-kernels and
/// on the 256-bit ones in the same process, alternating round by round so that both see the same load: which width
/// each shape should take on an AVX-512 machine, and how far each layer is from the FMA peak. Rows give the median wall
/// and process-CPU ms per call of each side, the count of such layers in the model and the GFLOP/s of the selected
/// (default) dispatch; the totals weigh each shape by its count. With --ab the sides are session 30's forward (strided
/// convolutions of few images on the shifted grid) and the default. Ember only. Usage:
/// <c>conv-width [--model resnet|yolo|yolo640|probe|all] [--rounds 7] [--threads 2] [--match text] [--ab]</c>.
/// </summary>
public sealed class ConvWidthWorkload : IWorkload
{
    public string Name => "conv-width";

    public string Description => "ResNet-18 / YOLOv5s forward convs per shape: 512- vs 256-bit kernels and the default dispatch, interleaved [--model all --rounds 7]";

    // Model, layer names, count in the model, N, C_in, size, C_out, kernel, stride, padding, activation.
    static readonly (string Model, string Layer, int Count, int N, int Cin, int Size, int Cout, int K, int S, int P, ConvActivation Act)[] Shapes =
    [
        ("resnet", "conv1", 1, 8, 3, 224, 64, 7, 2, 3, ConvActivation.Relu),
        ("resnet", "layer1 3×3", 4, 8, 64, 56, 64, 3, 1, 1, ConvActivation.Relu),
        ("resnet", "layer2.0 3×3 s2", 1, 8, 64, 56, 128, 3, 2, 1, ConvActivation.Relu),
        ("resnet", "layer2.0 down 1×1 s2", 1, 8, 64, 56, 128, 1, 2, 0, ConvActivation.None),
        ("resnet", "layer2 3×3", 3, 8, 128, 28, 128, 3, 1, 1, ConvActivation.Relu),
        ("resnet", "layer3.0 3×3 s2", 1, 8, 128, 28, 256, 3, 2, 1, ConvActivation.Relu),
        ("resnet", "layer3.0 down 1×1 s2", 1, 8, 128, 28, 256, 1, 2, 0, ConvActivation.None),
        ("resnet", "layer3 3×3", 3, 8, 256, 14, 256, 3, 1, 1, ConvActivation.Relu),
        ("resnet", "layer4.0 3×3 s2", 1, 8, 256, 14, 512, 3, 2, 1, ConvActivation.Relu),
        ("resnet", "layer4.0 down 1×1 s2", 1, 8, 256, 14, 512, 1, 2, 0, ConvActivation.None),
        ("resnet", "layer4 3×3", 3, 8, 512, 7, 512, 3, 1, 1, ConvActivation.Relu),
        ("yolo", "model.0 6×6 s2", 1, 1, 3, 320, 32, 6, 2, 2, ConvActivation.Silu),
        ("yolo", "model.1 3×3 s2", 1, 1, 32, 160, 64, 3, 2, 1, ConvActivation.Silu),
        ("yolo", "model.3 3×3 s2", 1, 1, 64, 80, 128, 3, 2, 1, ConvActivation.Silu),
        ("yolo", "model.5 3×3 s2", 1, 1, 128, 40, 256, 3, 2, 1, ConvActivation.Silu),
        ("yolo", "model.7 3×3 s2", 1, 1, 256, 20, 512, 3, 2, 1, ConvActivation.Silu),
        ("yolo", "model.18 3×3 s2", 1, 1, 128, 40, 128, 3, 2, 1, ConvActivation.Silu),
        ("yolo", "model.21 3×3 s2", 1, 1, 256, 20, 256, 3, 2, 1, ConvActivation.Silu),
        ("yolo", "C3 3×3 80²", 1, 1, 32, 80, 32, 3, 1, 1, ConvActivation.Silu),
        ("yolo", "C3 3×3 40²", 3, 1, 64, 40, 64, 3, 1, 1, ConvActivation.Silu),
        ("yolo", "C3 3×3 20²", 5, 1, 128, 20, 128, 3, 1, 1, ConvActivation.Silu),
        ("yolo", "C3 3×3 10²", 2, 1, 256, 10, 256, 3, 1, 1, ConvActivation.Silu),
        ("yolo", "1×1 64→32 80²", 2, 1, 64, 80, 32, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 32→32 80²", 1, 1, 32, 80, 32, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 64→64 80²", 1, 1, 64, 80, 64, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 128→64 40²", 2, 1, 128, 40, 64, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 64→64 40²", 3, 1, 64, 40, 64, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 128→128 40²", 2, 1, 128, 40, 128, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 256→128 20²", 5, 1, 256, 20, 128, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 128→128 20²", 5, 1, 128, 20, 128, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 256→256 20²", 3, 1, 256, 20, 256, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 512→256 10²", 6, 1, 512, 10, 256, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 256→256 10²", 2, 1, 256, 10, 256, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 512→512 10²", 2, 1, 512, 10, 512, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 1024→512 10²", 1, 1, 1024, 10, 512, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 512→128 20²", 2, 1, 512, 20, 128, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "1×1 256→64 40²", 2, 1, 256, 40, 64, 1, 1, 0, ConvActivation.Silu),
        ("yolo", "Detect 1×1 40²", 1, 1, 128, 40, 255, 1, 1, 0, ConvActivation.None),
        ("yolo", "Detect 1×1 20²", 1, 1, 256, 20, 255, 1, 1, 0, ConvActivation.None),
        ("probe", "3×3 28²", 1, 1, 128, 28, 128, 3, 1, 1, ConvActivation.Silu),
        ("probe", "3×3 24²", 1, 1, 128, 24, 128, 3, 1, 1, ConvActivation.Silu),
        ("probe", "3×3 20² at 640", 1, 1, 256, 20, 256, 3, 1, 1, ConvActivation.Silu),
        ("probe", "3×3 20² wide", 1, 1, 64, 20, 64, 3, 1, 1, ConvActivation.Silu),
        ("probe", "3×3 2×20²", 1, 2, 128, 20, 128, 3, 1, 1, ConvActivation.Silu),
        ("probe", "3×3 36²", 1, 1, 128, 36, 128, 3, 1, 1, ConvActivation.Silu),
        ("probe", "3×3 32²", 1, 1, 128, 32, 128, 3, 1, 1, ConvActivation.Silu),
        ("yolo", "Detect 1×1 10²", 1, 1, 512, 10, 255, 1, 1, 0, ConvActivation.None),
        ("yolo640", "model.1 3×3 s2", 1, 1, 32, 320, 64, 3, 2, 1, ConvActivation.Silu),
        ("yolo640", "model.3 3×3 s2", 1, 1, 64, 160, 128, 3, 2, 1, ConvActivation.Silu),
        ("yolo640", "model.5 3×3 s2", 1, 1, 128, 80, 256, 3, 2, 1, ConvActivation.Silu),
        ("yolo640", "model.7 3×3 s2", 1, 1, 256, 40, 512, 3, 2, 1, ConvActivation.Silu),
        ("yolo640", "model.18 3×3 s2", 1, 1, 128, 80, 128, 3, 2, 1, ConvActivation.Silu),
        ("yolo640", "model.21 3×3 s2", 1, 1, 256, 40, 256, 3, 2, 1, ConvActivation.Silu),
        ("yolo640", "YOLOv5n model.5 3×3 s2", 1, 1, 64, 80, 128, 3, 2, 1, ConvActivation.Silu),
        ("yolo640", "YOLOv5n model.7 3×3 s2", 1, 1, 128, 40, 256, 3, 2, 1, ConvActivation.Silu),
        ("yolo640", "YOLOv5n model.21 3×3 s2", 1, 1, 128, 40, 128, 3, 2, 1, ConvActivation.Silu),
    ];

    public int Run(string[] args)
    {
        string Arg(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        int threads = int.Parse(Arg("--threads", "2")), rounds = int.Parse(Arg("--rounds", "7"));
        string model = Arg("--model", "all"), match = Arg("--match", "");
        bool ab = args.Contains("--ab");
        Torch.NumThreads = threads;
        Console.WriteLine(MachineLimits.Describe(threads));
        Console.WriteLine($"load average: {Machine.LoadAverage()}; medians over {rounds} interleaved rounds, ms per call; default: the dispatch as built (AVX-512 machines may take 256-bit kernels per shape)");
        Console.WriteLine($"{"",-40} {"median wall ms",-26}   {"median process CPU ms",-26}");
        string sides = ab ? $"{"old",8} {"new",8}" : $"{"512-bit",8} {"256-bit",8} {"default",8}";
        Console.WriteLine($"{"layer (N, C_in, size)→C_out",-40} {sides}   {sides} {"count",5} {"GF/s",6}");
        using var process = Process.GetCurrentProcess();
        var totals = new Dictionary<string, double[]>();
        foreach (var s in Shapes)
        {
            string name = $"{s.Layer} ({s.N}, {s.Cin}, {s.Size})→{s.Cout}";
            if ((model == "all" ? s.Model is "probe" or "yolo640" : s.Model != model) || match.Length > 0 && !name.Contains(match)) continue;
            var g = new Conv2dGeometry(s.N, s.Cin, s.Size, s.Size, s.Cout, s.K, s.K, s.S, s.S, s.P, s.P);
            var rng = new Random(1);
            float[] x = new float[g.InputLength], w = new float[g.WeightLength], scale = new float[s.Cout], shift = new float[s.Cout], y = new float[g.OutputLength];
            foreach (float[] a in new[] { x, w, scale, shift }) for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
            double flops = 2.0 * s.N * s.Cout * s.Cin * s.K * s.K * g.OutPlane;
            int calls = Math.Max(1, (int)(0.15 / Math.Max(1e-6, flops / 150e9)));
            // Sides: the 512-bit kernels forced, the 256-bit kernels forced, the default dispatch; or with --ab, session 30's
            // dispatch against the default.
            GemmIsa[] isas = ab ? [GemmIsa.Auto, GemmIsa.Auto] : [GemmIsa.Vector512, GemmIsa.Vector256, GemmIsa.Auto];
            bool[] current = ab ? [false, true] : [false, false, true];
            var wall = isas.Select(_ => new List<double>()).ToArray();
            var cpu = isas.Select(_ => new List<double>()).ToArray();
            try
            {
                for (int r = 0; r <= rounds; r++)
                    for (int side = 0; side < isas.Length; side++)
                    {
                        GemmDriver.ForcedIsa = isas[side];
                        WinogradConv.NarrowTilesEnabled = ab || current[side];
                        ShiftedGemmConv.ForceStridedGridForFewImages = ab && !current[side];
                        var sw = Stopwatch.StartNew();
                        TimeSpan cpu0 = process.TotalProcessorTime;
                        for (int c = 0; c < calls; c++) Conv2dKernel.ForwardFused<float>(g, x, w, scale, shift, s.Act, y);
                        process.Refresh();
                        if (r == 0) continue; // round 0 warms every side up
                        wall[side].Add(sw.Elapsed.TotalMilliseconds / calls);
                        cpu[side].Add((process.TotalProcessorTime - cpu0).TotalMilliseconds / calls);
                    }
            }
            finally { GemmDriver.ForcedIsa = GemmIsa.Auto; WinogradConv.NarrowTilesEnabled = true; ShiftedGemmConv.ForceStridedGridForFewImages = false; }
            double[] wm = wall.Select(Median).ToArray(), cm = cpu.Select(Median).ToArray();
            if (!totals.TryGetValue(s.Model, out double[]? t)) totals[s.Model] = t = new double[2 * isas.Length];
            for (int i = 0; i < isas.Length; i++) { t[i] += s.Count * wm[i]; t[isas.Length + i] += s.Count * cm[i]; }
            Console.WriteLine($"{name,-40} {Row(wm)}   {Row(cm)} {s.Count,5} {flops / wm[^1] / 1e6,6:F0}");
        }
        foreach (var (m, t) in totals)
            Console.WriteLine($"{"total " + m + " (× count)",-40} {Row(t[..(t.Length / 2)])}   {Row(t[(t.Length / 2)..])}");
        return 0;
    }

    static string Row(double[] values) => string.Join(" ", values.Select(v => $"{v,8:F3}"));

    static double Median(List<double> v)
    {
        v.Sort();
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }
}
