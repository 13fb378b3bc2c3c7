using System.Globalization;
using Ember.Kernels.Conv;
using Ember.Kernels.Threading;

namespace Ember.Bench.Workloads;

/// <summary>
/// A/B of the 1×1 convolutions of the YOLOv5 width-0.375 training step at --image 256, batch 16 (issue 23), per direction
/// (forward, input gradient, weight gradient) in one process: each kernel timed on the path before session 24 and after
/// (the weight gradient: one GEMM per image, both factors transposed into panels, against the dot products of
/// <see cref="PointwiseWeightGradient"/>), the two alternating call by call so that both see the same machine load. Prints per
/// shape and direction the median process CPU and wall ms of each, GFLOP per CPU-second, the largest difference between
/// the two results (0: bit for bit), and the totals. Usage: <c>conv-pointwise [--image 256] [--reps 15] [--threads 2]
/// [--dirs F,dX,dW] [--shapes 48x24x64,96x48x32] [--ab s24|batched] [--yolov5s]</c> (C_in × C_out × side of the input at
/// --image 256). --ab batched times one GEMM per image against one over the batch (<see cref="BatchedPointwiseConv"/>);
/// --yolov5s takes YOLOv5s's 10×10 and 20×20 1×1 shapes at batch 8, --image 320.
/// </summary>
public sealed class ConvPointwiseWorkload : IWorkload
{
    public string Name => "conv-pointwise";

    public string Description => "1×1 convs of the YOLOv5 width-0.375 step per direction, before vs after session 24, interleaved [--image 256]";

    // The distinct 1×1 shapes of yolov5n375.yaml at --image 256 (C_in, C_out, input side), with how often each occurs.
    static readonly (int In, int Out, int Side, int Count)[] Shapes =
    [
        (48, 24, 64, 2), (24, 24, 64, 1), (48, 48, 64, 1),
        (96, 48, 32, 2), (48, 48, 32, 3), (96, 96, 32, 2), (192, 48, 32, 2),
        (192, 96, 16, 5), (96, 96, 16, 5), (192, 192, 16, 3), (384, 96, 16, 2),
        (384, 192, 8, 5), (192, 192, 8, 2), (384, 384, 8, 2), (768, 384, 8, 1),
    ];

    // --yolov5s: the 1×1 shapes of YOLOv5s's 10×10 and 20×20 stages at 8×320² (eval forward), with how often each occurs.
    static readonly (int In, int Out, int Side, int Count)[] YoloV5sShapes =
    [
        (512, 256, 10, 6), (256, 256, 10, 2), (512, 512, 10, 2), (1024, 512, 10, 1),
        (256, 128, 20, 5), (128, 128, 20, 5), (256, 256, 20, 3), (512, 128, 20, 2),
    ];

    public int Run(string[] args)
    {
        string Arg(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        bool yolov5s = args.Contains("--yolov5s");
        int image = int.Parse(Arg("--image", yolov5s ? "320" : "256")), reps = int.Parse(Arg("--reps", "15")), threads = int.Parse(Arg("--threads", "2"));
        string[] directions = Arg("--dirs", "F,dX,dW").Split(',');
        string[]? only = Arg("--shapes", "") is { Length: > 0 } list ? list.Split(',') : null;
        // --ab batched: one GEMM per image against one over the batch (session 33) instead of the session-24 A/B.
        batchedAb = Arg("--ab", "s24") == "batched";
        int batch = yolov5s ? 8 : 16, reference = yolov5s ? 320 : 256;
        var shapes = yolov5s ? YoloV5sShapes : Shapes;
        Torch.NumThreads = threads;
        Console.WriteLine($"SIMD path: {MachineLimits.SimdPath()}");
        Console.WriteLine($"YOLOv5 width 0.375 1×1 convs, batch {batch}, --image {image}, {ParallelRange.MaxThreads} threads, " +
            $"{reps} alternating calls each; medians, ms (process CPU / wall); load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"{"shape",-12} {"n",2} {"dir",-3} {"GFLOP",6} | {"before cpu/wall",17} {"GF/s",5} | {"after cpu/wall",17} {"GF/s",5} | {"max |Δ|",8}");
        var totals = new Dictionary<string, double[]>();
        foreach (string d in directions) totals[d] = new double[2];
        foreach (var (cIn, cOut, side256, count) in shapes)
        {
            int side = side256 * image / reference;
            string name = $"{cIn}x{cOut}x{side256}";
            if (only is not null && !only.Contains(name)) continue;
            var g = new Conv2dGeometry(batch, cIn, side, side, cOut, 1, 1);
            var rng = new Random(1);
            float[] x = KernelAlternation.Fill(g.InputLength, rng), w = KernelAlternation.Fill(g.WeightLength, rng), dy = KernelAlternation.Fill(g.OutputLength, rng);
            double gflop = 2.0 * batch * cOut * cIn * g.OutPlane / 1e9;
            foreach (string direction in directions)
            {
                if (KernelAlternation.CompareDirection(direction, g, x, w, dy, reps, Select) is not var (old, now, diff))
                {
                    Console.Error.WriteLine($"conv-pointwise: unknown direction '{direction}' (F, dX or dW)");
                    return 1;
                }
                totals[direction][0] += old.Cpu * count;
                totals[direction][1] += now.Cpu * count;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-12} {count,2} {direction,-3} {gflop,6:F3} | {old.Cpu,8:F3}/{old.Wall,8:F3} {gflop / old.Cpu * 1e3,5:F0} | {now.Cpu,8:F3}/{now.Wall,8:F3} {gflop / now.Cpu * 1e3,5:F0} | {diff,8:G3}"));
            }
        }
        foreach (string d in directions)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total {d} CPU ms over the step's 1×1 layers (each shape × its count): {totals[d][0]:F2} -> {totals[d][1]:F2}"));
        return 0;
    }

    bool batchedAb;

    // The switches that restore the paths before session 24, or with --ab batched before session 33's batched GEMM.
    void Select(bool old)
    {
        if (batchedAb) BatchedPointwiseConv.ForceImageGemms = old;
        else PointwiseWeightGradient.ForceGemm = old;
    }
}
