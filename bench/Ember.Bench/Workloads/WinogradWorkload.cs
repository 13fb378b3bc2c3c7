using System.Diagnostics;
using Ember.Kernels.Conv;
using Ember.Kernels.Threading;

namespace Ember.Bench.Workloads;

/// <summary>
/// The Winograd F(2×2, 3×3) forward against the shifted-GEMM forward on 3×3 stride-1 shapes (the dispatch rule of
/// <see cref="WinogradConv"/> comes from these numbers): interleaved rounds, each side timed over the same calls in
/// the same process, medians of wall time and of process CPU time and the best round's wall time reported (on a shared
/// machine the best round is the one least disturbed). Ember only. Usage: <c>winograd [--threads 2] [--rounds 7] [--match text]
/// [--backward | --weight] [--ab grain]</c> (--backward times the input gradient instead, which runs the adjoint forward; --weight the
/// weight gradient, <see cref="WinogradWeightGradient"/> against the shifted GEMM's).
/// </summary>
public sealed class WinogradWorkload : IWorkload
{
    public string Name => "winograd";

    public string Description => "Winograd vs shifted-GEMM 3×3 conv forward per shape, interleaved rounds [--rounds 7 --match text --backward|--weight]";

    // N, C_in, size, C_out (padding 1): the conv rows, ResNet-18's and YOLOv5's 3×3 stride-1 layers, small cases, the
    // CNN train step's, the width-0.375 YOLOv5's and YOLOv5n's at --img 256, batch 16 (their weight gradients).
    // Last: YOLOv5s's deepest 3×3 at 8×320 and 8×640, and the w0.375 step's at 8².
    static readonly (int N, int Cin, int Size, int Cout)[] Shapes =
    [
        (64, 32, 28, 64), (32, 64, 56, 64),
        (1, 64, 56, 64), (1, 128, 28, 128), (1, 256, 14, 256), (1, 512, 7, 512),
        (8, 64, 56, 64), (8, 128, 28, 128), (8, 256, 14, 256), (8, 512, 7, 512),
        (8, 16, 160, 16), (8, 32, 80, 32), (8, 64, 40, 64), (8, 128, 20, 128),
        (1, 16, 160, 16), (1, 32, 80, 32), (1, 64, 40, 64), (1, 128, 20, 128), (1, 256, 10, 256),
        (16, 16, 28, 16), (16, 32, 14, 32), (64, 32, 14, 64), (4, 32, 32, 32),
        (128, 32, 28, 32), (128, 32, 14, 64), (16, 24, 64, 24), (16, 48, 32, 48), (16, 96, 16, 96), (16, 192, 8, 192),
        (8, 256, 14, 256), (16, 16, 56, 16), (16, 32, 32, 32), (16, 64, 16, 64),
        (8, 256, 10, 256), (8, 256, 20, 256), (16, 128, 8, 128),
    ];

    public int Run(string[] args)
    {
        string Arg(string name, string fallback) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback; }
        int threads = int.Parse(Arg("--threads", "2")), rounds = int.Parse(Arg("--rounds", "7"));
        string? match = Arg("--match", "");
        bool backward = args.Contains("--backward"), weight = args.Contains("--weight");
        // --ab grain: Winograd on both sides, its transform tasks cut as before session 33 ("shifted" column) against whole
        // register tiles and cache lines ("winograd" column).
        bool grainAb = Arg("--ab", "") == "grain";
        if (grainAb) Console.WriteLine("--ab grain: both columns Winograd; \"shifted\" = transform tasks cut anywhere (before session 33), \"winograd\" = whole tiles/lines");
        Torch.NumThreads = threads;
        Console.WriteLine(MachineLimits.Describe(threads));
        Console.WriteLine($"load average: {Machine.LoadAverage()}; {(weight ? "weight gradient" : backward ? "input gradient" : "forward")}, medians over {rounds} interleaved rounds, ms per call");
        Console.WriteLine($"{"",-30} {"median wall ms",-28}   {"median process CPU ms",-28}   {"best round, wall ms",-28}");
        Console.WriteLine($"{"shape",-30} {"shifted",9} {"winograd",9} {"speed-up",8}   {"shifted",9} {"winograd",9} {"speed-up",8}   {"shifted",9} {"winograd",9} {"speed-up",8}");
        using var process = Process.GetCurrentProcess();
        foreach (var (n, cin, size, cout) in Shapes)
        {
            string name = $"({n}, {cin}, {size}, {size})→{cout}";
            if (match.Length > 0 && !name.Contains(match)) continue;
            var g = new Conv2dGeometry(n, cin, size, size, cout, 3, 3, 1, 1, 1, 1);
            var rng = new Random(1);
            float[] x = new float[g.InputLength], w = new float[g.WeightLength], b = new float[cout], y = new float[g.OutputLength];
            foreach (float[] a in new[] { x, w, b }) for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
            float[] dy = new float[g.OutputLength], dx = new float[g.InputLength], dw = new float[g.WeightLength];
            for (int i = 0; i < dy.Length; i++) dy[i] = (float)(rng.NextDouble() * 2 - 1);
            Action call = weight ? () => Conv2dKernel.BackwardWeight<float>(g, x, dy, dw)
                : backward ? () => Conv2dKernel.BackwardInput<float>(g, dy, w, dx) : () => Conv2dKernel.Forward<float>(g, x, w, b, y);
            double flops = 2.0 * n * cout * cin * 9 * g.OutPlane;
            // About 0.2 s per side per round.
            int calls = Math.Max(1, (int)(0.2 / Math.Max(1e-6, flops / 150e9)));
            var shifted = new List<double>();
            var winograd = new List<double>();
            var shiftedCpu = new List<double>();
            var winogradCpu = new List<double>();
            try
            {
                for (int r = 0; r <= rounds; r++)
                    foreach (bool on in new[] { false, true })
                    {
                        if (grainAb) WinogradConv.SplitTilesInWeightTasks = !on;
                        if (weight) WinogradWeightGradient.Forced = on || grainAb;
                        else WinogradConv.Forced = on || grainAb;
                        var sw = Stopwatch.StartNew();
                        TimeSpan cpu0 = process.TotalProcessorTime;
                        for (int c = 0; c < calls; c++) call();
                        process.Refresh();
                        double ms = sw.Elapsed.TotalMilliseconds / calls, cpuMs = (process.TotalProcessorTime - cpu0).TotalMilliseconds / calls;
                        if (r > 0) { (on ? winograd : shifted).Add(ms); (on ? winogradCpu : shiftedCpu).Add(cpuMs); } // round 0 warms both up
                    }
            }
            finally { WinogradConv.Forced = null; WinogradWeightGradient.Forced = null; WinogradConv.SplitTilesInWeightTasks = false; }
            double s = Median(shifted), wg = Median(winograd), sc = Median(shiftedCpu), wc = Median(winogradCpu);
            double sm = shifted.Min(), wm = winograd.Min();
            Console.WriteLine($"{name,-30} {s,9:F3} {wg,9:F3} {s / wg,8:F2}   {sc,9:F3} {wc,9:F3} {sc / wc,8:F2}   {sm,9:F3} {wm,9:F3} {sm / wm,8:F2}");
        }
        return 0;
    }

    static double Median(List<double> v)
    {
        v.Sort();
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }
}
