using System.Diagnostics;
using System.Globalization;
using Ember.Kernels.Conv;
using Ember.Kernels.Threading;

namespace Ember.Bench.Workloads;

/// <summary>
/// A/B of YOLOv5's 3×3 stride-2 convolutions (batch 16) in one process, per direction (forward, input gradient, weight
/// gradient) at a width_multiple and --image: each kernel timed before and after sessions 20 and 25 (--ab bands: the
/// phase images and the input gradient's column matrix whole, or in bands of output rows that stay in the L2; tiles3:
/// AVX-512's weight-gradient tiles four vectors wide, or three where that fills them; items: the weight gradient over
/// the batch's chunks, or cut by input channels; phases: session 25's input gradient, im2col's column matrix and col2im
/// or one stride-1 product per phase of the input; all: the four; tapcols, not in all: session 29's forward on column
/// phases, or on one image per kernel column written to the output in place; colimages, not in all: session 30's input
/// gradient of 8×8 outputs through one column-matrix GEMM per image, or per four images side by side on AVX2 and Vector128), the two alternating call by call so that both see
/// the same machine load. With --stride 1 the same layers' 3×3 stride-1 twins (the C3 blocks' convs at the output size).
/// Prints per shape and direction the median process CPU and wall ms of each, GFLOP per CPU-second, the largest
/// difference between the two results (0: bit for bit), and the totals over the six layers. Usage:
/// <c>conv-strided [--width 0.375] [--image 256] [--reps 15] [--threads 2] [--dirs F,dX,dW] [--ab all|bands|tiles3|items|phases|tapcols|colimages] [--stride 2]
/// [--layers model.1,model.3] [--band-rows R] [--column-band-rows R] [--column-images I]</c> (the last three force the bands' size and
/// the images per column GEMM on the "after" side).
/// </summary>
public sealed class ConvStridedWorkload : IWorkload
{
    public string Name => "conv-strided";

    public string Description => "3×3 stride-2 convs of a YOLOv5 per direction, before vs after sessions 20 and 25, interleaved [--width 0.375 --image 256 --ab all]";

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
        string[] directions = Arg("--dirs", "F,dX,dW").Split(',');
        string ab = Arg("--ab", "all");
        // sizing experiments: the "after" side's bands forced to these many output rows (0: sized by the L2)
        bandRows = int.Parse(Arg("--band-rows", "0"));
        columnBandRows = int.Parse(Arg("--column-band-rows", "0"));
        columnImages = int.Parse(Arg("--column-images", "0"));
        string[]? only = Arg("--layers", "") is { Length: > 0 } list ? list.Split(',') : null;
        int stride = int.Parse(Arg("--stride", "2"));
        if (ab is not ("all" or "bands" or "tiles3" or "items" or "phases" or "tapcols" or "colimages") || stride is not (1 or 2))
        {
            Console.Error.WriteLine($"conv-strided: --ab is all, bands, tiles3, items, phases, tapcols or colimages (got '{ab}'); --stride is 1 or 2 (got {stride})");
            return 1;
        }
        const int batch = 16;
        Torch.NumThreads = threads;
        Console.WriteLine($"SIMD path: {MachineLimits.SimdPath()}");
        Console.WriteLine($"YOLOv5 width {width} 3×3 stride-{stride} convs, batch {batch}, --image {image}, {ParallelRange.MaxThreads} threads, --ab {ab}, " +
            $"{reps} alternating calls each; medians, ms (process CPU / wall); load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine($"{"layer",-9} {"dir",-3} {"Cin",4} {"Cout",4} {"H×W in",8} {"GFLOP",6} | {"before cpu/wall",17} {"GF/s",5} | {"after cpu/wall",17} {"GF/s",5} | {"max |Δ|",8}");
        var totals = new Dictionary<string, double[]>();
        foreach (string d in directions) totals[d] = new double[2];
        foreach (var (layer, wIn, wOut, level) in Shapes)
        {
            if (only is not null && !only.Contains(layer)) continue;
            // YOLOv5's make_divisible(c·width, 8)
            int cIn = (int)Math.Ceiling(wIn * width / 8) * 8, cOut = (int)Math.Ceiling(wOut * width / 8) * 8, side = image / level;
            // the stride-1 twin: C_out → C_out at the output size (a C3 bottleneck's 3×3 conv)
            if (stride == 1) { cIn = cOut; side /= 2; }
            var g = new Conv2dGeometry(batch, cIn, side, side, cOut, 3, 3, stride, stride, 1, 1);
            var rng = new Random(1);
            float[] x = KernelAlternation.Fill(g.InputLength, rng), w = KernelAlternation.Fill(g.WeightLength, rng), dy = KernelAlternation.Fill(g.OutputLength, rng);
            double gflop = 2.0 * batch * cOut * cIn * 9 * g.OutPlane / 1e9;
            if (stride == 1 && layer is "model.18" or "model.21") continue; // the same shapes as model.5 and model.7
            foreach (string direction in directions)
            {
                if (KernelAlternation.CompareDirection(direction, g, x, w, dy, reps, old => Select(ab, old)) is not var (whole, banded, diff))
                {
                    Console.Error.WriteLine($"conv-strided: unknown direction '{direction}' (F, dX or dW)");
                    return 1;
                }
                totals[direction][0] += whole.Cpu;
                totals[direction][1] += banded.Cpu;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{layer,-9} {direction,-3} {cIn,4} {cOut,4} {$"{side}×{side}",8} {gflop,6:F3} | {whole.Cpu,8:F3}/{whole.Wall,8:F3} {gflop / whole.Cpu * 1e3,5:F0} | {banded.Cpu,8:F3}/{banded.Wall,8:F3} {gflop / banded.Cpu * 1e3,5:F0} | {diff,8:G3}"));
            }
        }
        foreach (string d in directions)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total {d} CPU ms over the layers: {totals[d][0]:F2} -> {totals[d][1]:F2}"));
        return 0;
    }

    static int bandRows, columnBandRows, columnImages;

    // The switches that restore the kernels before the changes --ab names.
    static void Select(string ab, bool old)
    {
        bool all = ab == "all";
        ShiftedGemmConv.ForcedBandRows = old ? 0 : bandRows;
        Conv2dKernel.ForcedColumnBandRows = old ? 0 : columnBandRows;
        ShiftedGemmConv.ForceWholeImage = Conv2dKernel.ForceWholeColumns = old && (all || ab == "bands");
        ShiftedGemmConv.ForceFourVectorTiles = old && (all || ab == "tiles3");
        ShiftedGemmConv.ForceWeightChunks = old && (all || ab == "items");
        ShiftedGemmConv.ForceColumnInputGradient = old && (all || ab == "phases");
        ShiftedGemmConv.ForcePhaseColumns = old && ab == "tapcols";
        Conv2dKernel.ForcedColumnImages = old && ab == "colimages" ? 1 : old ? 0 : columnImages;
    }
}
