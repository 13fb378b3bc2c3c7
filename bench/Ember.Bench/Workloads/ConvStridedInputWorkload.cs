using System.Diagnostics;
using System.Globalization;
using Ember.Kernels.Conv;
using Ember.Kernels.Threading;

namespace Ember.Bench.Workloads;

/// <summary>
/// A/B of the strided convolutions' input gradient in one process (session 19): YOLOv5's 3×3 stride-2 convs (batch 16)
/// at a width_multiple and --image, timed with col2im adding a kernel row's three taps in three passes (before) and in
/// one (<see cref="Im2Col.FuseThreeTaps"/>), the two alternating call by call so that both see the same machine load.
/// Prints per shape the median process CPU and wall ms of each, GFLOP per CPU-second, the largest difference between
/// the two results (0: bit for bit), and the totals over the model's six such layers. Usage:
/// <c>conv-strided-dx [--width 0.375] [--image 256] [--reps 15] [--threads 2]</c>.
/// </summary>
public sealed class ConvStridedInputWorkload : IWorkload
{
    public string Name => "conv-strided-dx";

    public string Description => "3×3 stride-2 conv input gradients of a YOLOv5, col2im in three passes vs one, interleaved [--width 0.375 --image 256]";

    // YOLOv5's 3×3 stride-2 Conv blocks as (C_in, C_out at width 1, input stride of the level): layers 1, 3, 5, 7, 18, 21.
    static readonly (string Layer, int In, int Out, int Level)[] Shapes =
    [
        ("model.1", 64, 128, 2), ("model.3", 128, 256, 4), ("model.5", 256, 512, 8), ("model.7", 512, 1024, 16),
        ("model.18", 256, 256, 8), ("model.21", 512, 512, 16),
    ];

    public int Run(string[] args)
    {
        string Arg(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        double width = double.Parse(Arg("--width", "0.375"), CultureInfo.InvariantCulture);
        int image = int.Parse(Arg("--image", "256")), reps = int.Parse(Arg("--reps", "15")), threads = int.Parse(Arg("--threads", "2"));
        const int batch = 16;
        Torch.NumThreads = threads;
        Console.WriteLine($"SIMD path: {MachineLimits.SimdPath()}");
        Console.WriteLine($"YOLOv5 width {width} 3×3 stride-2 conv input gradients, batch {batch}, --image {image}, {ParallelRange.MaxThreads} threads, " +
            $"{reps} alternating calls each; medians, ms (process CPU / wall); load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"{"layer",-9} {"Cin",4} {"Cout",4} {"H×W in",8} {"GFLOP",6} | {"3 passes cpu/wall",17} {"GF/s",5} | {"fused cpu/wall",15} {"GF/s",5} | {"max |Δ|",8}");
        var totals = new double[2];
        foreach (var (layer, wIn, wOut, level) in Shapes)
        {
            // YOLOv5's make_divisible(c·width, 8)
            int cIn = (int)Math.Ceiling(wIn * width / 8) * 8, cOut = (int)Math.Ceiling(wOut * width / 8) * 8, side = image / level;
            var g = new Conv2dGeometry(batch, cIn, side, side, cOut, 3, 3, 2, 2, 1, 1);
            var rng = new Random(1);
            float[] dy = Fill(g.OutputLength, rng), w = Fill(g.WeightLength, rng), dxOld = new float[g.InputLength], dxNew = new float[g.InputLength];
            var (old, fused) = Alternate(() => Conv2dKernel.BackwardInput<float>(g, dy, w, dxOld), () => Conv2dKernel.BackwardInput<float>(g, dy, w, dxNew), reps);
            double gflop = 2.0 * batch * cOut * cIn * 9 * g.OutPlane / 1e9;
            float diff = 0;
            for (int i = 0; i < dxOld.Length; i++) diff = Math.Max(diff, Math.Abs(dxOld[i] - dxNew[i]));
            totals[0] += old.Cpu;
            totals[1] += fused.Cpu;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{layer,-9} {cIn,4} {cOut,4} {$"{side}×{side}",8} {gflop,6:F3} | {old.Cpu,8:F3}/{old.Wall,8:F3} {gflop / old.Cpu * 1e3,5:F0} | {fused.Cpu,7:F3}/{fused.Wall,7:F3} {gflop / fused.Cpu * 1e3,5:F0} | {diff,8:G3}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total input-gradient CPU ms over the six layers: {totals[0]:F2} -> {totals[1]:F2}"));
        return 0;
    }

    static float[] Fill(int length, Random rng)
    {
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>Median process CPU and wall ms of the three passes and the fused one, calls alternating (two warm-up rounds).</summary>
    static ((double Cpu, double Wall) Old, (double Cpu, double Wall) New) Alternate(Action old, Action fused, int reps)
    {
        var cpu = new double[2][];
        var wall = new double[2][];
        for (int side = 0; side < 2; side++) { cpu[side] = new double[reps]; wall[side] = new double[reps]; }
        try
        {
            for (int r = -2; r < reps; r++)
                for (int side = 0; side < 2; side++)
                {
                    Im2Col.FuseThreeTaps = side == 1;
                    double c0 = Environment.CpuUsage.TotalTime.TotalMilliseconds;
                    long t0 = Stopwatch.GetTimestamp();
                    (side == 0 ? old : fused)();
                    if (r < 0) continue;
                    wall[side][r] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    cpu[side][r] = Environment.CpuUsage.TotalTime.TotalMilliseconds - c0;
                }
        }
        finally
        {
            Im2Col.FuseThreeTaps = true;
        }
        return ((Median(cpu[0]), Median(wall[0])), (Median(cpu[1]), Median(wall[1])));
    }

    static double Median(double[] values)
    {
        Array.Sort(values);
        return values[values.Length / 2];
    }
}
