using System.Runtime.CompilerServices;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;
using GemmKernel = Ember.Kernels.Gemm.Gemm;

namespace Ember.Bench.Workloads;

/// <summary>Sgemm GFLOP/s on square sizes and the layer shapes the models use, for 1 and 2 threads.</summary>
public sealed class GemmWorkload : IWorkload
{
    public string Name => "gemm";

    public string Description => "Sgemm GFLOP/s: squares 64..2048 and MLP/conv/transformer layer shapes, 1 and 2 threads [--double] [--quick] [--best] [--match TEXT] [--shape M,N,K,...] [--blocking KC,MC,NC] [--packing shared|private] [--in-place on|off] [--broadcast-a on|off] [--lda-pad P] [--cpu] [--sustained] [--alternate packing|broadcast-a|blocking:KC/MC/NC M,N,K[,M,N,K..] CALLS]";

    static bool best;

    readonly record struct Shape(string Label, bool TransA, bool TransB, int M, int N, int K);

    static readonly Shape[] Shapes =
    [
        new("square 64", false, false, 64, 64, 64),
        new("square 128", false, false, 128, 128, 128),
        new("square 256", false, false, 256, 256, 256),
        new("square 512", false, false, 512, 512, 512),
        new("square 1024", false, false, 1024, 1024, 1024),
        new("square 2048", false, false, 2048, 2048, 2048),
        // Linear(784→256), batch 128: forward X·Wᵀ, input gradient dY·W, weight gradient dYᵀ·X.
        new("linear fwd  X·Wᵀ", false, true, 128, 256, 784),
        new("linear dX   dY·W", false, false, 128, 784, 256),
        new("linear dW  dYᵀ·X", true, false, 256, 784, 128),
        // Linear(128→10) classifier head.
        new("head fwd  X·Wᵀ", false, true, 128, 10, 128),
        // im2col convolutions: W[Cout, Cin·9] · cols[Cin·9, H·W], one image.
        new("conv 32→64 28²", false, false, 64, 784, 288),
        new("conv 64→64 56²", false, false, 64, 3136, 576),
        // The transformer layer's (batch 32 × 64 tokens, d_model 128, feed-forward 512): projections X·Wᵀ, an input
        // gradient dY·W, a weight gradient dYᵀ·X, one attention head q·kᵀ.
        new("tfm X·Wᵀ", false, true, 2048, 128, 128),
        new("tfm X·W1ᵀ", false, true, 2048, 512, 128),
        new("tfm H·W2ᵀ", false, true, 2048, 128, 512),
        new("tfm dY·W", false, false, 2048, 128, 128),
        new("tfm dYᵀ·X", true, false, 128, 128, 2048),
        new("tfm head q·kᵀ", false, true, 64, 64, 32),
        // The LSTM row (256→256, 4 gates, 100 steps of batch 64): the input projection X·W_ihᵀ, per step h·W_hhᵀ and,
        // backward, dG·W_hh, then over all steps the weight gradients dGᵀ·H and the input gradient dG·W_ih.
        new("lstm X·W_ihᵀ", false, true, 6400, 1024, 256),
        new("lstm h·W_hhᵀ", false, true, 64, 1024, 256),
        new("lstm dG·W_hh", false, false, 64, 256, 1024),
        new("lstm dGᵀ·H", true, false, 1024, 256, 6400),
        new("lstm dG·W_ih", false, false, 6400, 256, 1024),
    ];

    public int Run(string[] args)
    {
        if (args.Contains("--sustained")) return Sustained();
        int alternateAt = Array.IndexOf(args, "--alternate");
        if (alternateAt >= 0 && alternateAt + 3 < args.Length)
            return Alternate(args[alternateAt + 1], args[alternateAt + 2], int.Parse(args[alternateAt + 3]));
        bool useDouble = args.Contains("--double");
        bool quick = args.Contains("--quick");
        // --match TEXT: only the shapes whose label contains it (a short A/B of a few shapes).
        int matchAt = Array.IndexOf(args, "--match");
        string? match = matchAt >= 0 && matchAt + 1 < args.Length ? args[matchAt + 1] : null;
        // The best sample instead of the median: on a machine shared with other work the best is the least disturbed.
        best = args.Contains("--best");
        // --cpu: rates from the process CPU time of the best sample, per thread (on a loaded machine, where wall time
        // measures the neighbours): one thread's CPU time per call, or the 2-thread call's CPU time halved.
        cpu = args.Contains("--cpu");
        // --blocking KC,MC,NC: every kernel's cache blocking replaced (trying a blocking without a rebuild).
        int blockingAt = Array.IndexOf(args, "--blocking");
        if (blockingAt >= 0 && blockingAt + 1 < args.Length)
        {
            int[] sizes = args[blockingAt + 1].Split(',').Select(int.Parse).ToArray();
            GemmDriver.ForcedBlocking = new GemmBlocking(sizes[0], sizes[1], sizes[2]);
        }
        // --packing shared|private: every threaded product with the threads sharing one packing (GemmTeam) or each packing its own.
        int packingAt = Array.IndexOf(args, "--packing");
        if (packingAt >= 0 && packingAt + 1 < args.Length)
            GemmDriver.ForcedSharedPacking = args[packingAt + 1] == "shared";
        // --in-place on|off: operands that lie as panels (and rows of A) read in place wherever possible, or always packed.
        int inPlaceAt = Array.IndexOf(args, "--in-place");
        if (inPlaceAt >= 0 && inPlaceAt + 1 < args.Length)
            GemmDriver.ForcedInPlace = args[inPlaceAt + 1] == "on";
        // --broadcast-a on|off: the Vector128 path over broadcast A panels (MicroKernel128BroadcastA) or plain ones.
        int broadcastAt = Array.IndexOf(args, "--broadcast-a");
        if (broadcastAt >= 0 && broadcastAt + 1 < args.Length)
            GemmDriver.ForcedBroadcastA = args[broadcastAt + 1] == "on";
        // --lda-pad P: a row-major A stored with P more elements per row than it has columns (its rows' cache-set spread).
        int padAt = Array.IndexOf(args, "--lda-pad");
        ldaPad = padAt >= 0 && padAt + 1 < args.Length ? int.Parse(args[padAt + 1]) : 0;
        Console.WriteLine($"{(useDouble ? "Dgemm" : "Sgemm")} GFLOP/s ({(best ? "best" : "median")} of 15{(cpu ? ", from process CPU time per thread" : "")}), {Environment.ProcessorCount} cores, {Machine.CpuModel()}");
        Console.WriteLine(MachineLimits.Describe(2));
        Console.WriteLine($"blocking: {GemmDriver.DescribeBlocking()}{(GemmDriver.ForcedBlocking is { } forced ? $"; forced for every kernel: {forced}" : "")}"
            + (GemmDriver.ForcedSharedPacking is bool shared ? $"; packing forced {(shared ? "shared" : "private")}" : "")
            + (GemmDriver.ForcedInPlace is bool inPlace ? $"; in-place reading forced {(inPlace ? "on" : "off")}" : "")
            + (GemmDriver.ForcedBroadcastA is bool broadcast ? $"; broadcast A panels forced {(broadcast ? "on" : "off")}" : "")
            + (ldaPad != 0 ? $"; lda = K + {ldaPad}" : ""));
        if (!useDouble)
            Console.WriteLine(PackingRates(best));
        if (!useDouble)
            Console.WriteLine($"micro-kernel alone (panels in L1, k = 256, 1 thread): {MicroKernelGflops(best):F1} GFLOP/s");
        if (!useDouble)
            Console.WriteLine(BlockSweep(best));
        Console.WriteLine($"{"shape",-18} {"m",5} {"n",5} {"k",5} {"1 thread",10} {"2 threads",10} {"ms (2 thr)",10}");
        // --shape M,N,K[,M,N,K...]: these shapes (A and B not transposed) instead of the table's.
        int shapeAt = Array.IndexOf(args, "--shape");
        Shape[] shapes = Shapes;
        if (shapeAt >= 0 && shapeAt + 1 < args.Length)
        {
            int[] v = args[shapeAt + 1].Split(',').Select(int.Parse).ToArray();
            shapes = Enumerable.Range(0, v.Length / 3).Select(i => new Shape($"{v[3 * i]}×{v[3 * i + 1]}×{v[3 * i + 2]}", false, false, v[3 * i], v[3 * i + 1], v[3 * i + 2])).ToArray();
        }
        foreach (Shape s in shapes)
        {
            if (quick && s.M * (long)s.N * s.K > 512L * 512 * 512) continue;
            if (match is not null && !s.Label.Contains(match, StringComparison.OrdinalIgnoreCase)) continue;
            double[] gflops = new double[2];
            double ms = 0;
            for (int t = 1; t <= 2; t++)
            {
                ParallelRange.MaxThreads = t;
                double seconds = useDouble ? TimeDouble(s) : TimeFloat(s);
                gflops[t - 1] = 2.0 * s.M * s.N * s.K / seconds / 1e9;
                ms = seconds * 1e3;
            }
            Console.WriteLine($"{s.Label,-18} {s.M,5} {s.N,5} {s.K,5} {gflops[0],10:F1} {gflops[1],10:F1} {ms,10:F4}");
        }
        ParallelRange.MaxThreads = Environment.ProcessorCount;
        GemmDriver.ForcedBlocking = null;
        GemmDriver.ForcedSharedPacking = null;
        GemmDriver.ForcedInPlace = null;
        GemmDriver.ForcedBroadcastA = null;
        return 0;
    }

    static bool cpu;

    static int AlternateSet(int[] v, int calls, Action<bool> set, string label, int fromThreads = 1)
    {
        var rng = new Random(1);
        for (int threads = fromThreads; threads <= 2; threads++)
        {
            ParallelRange.MaxThreads = threads;
            for (int i = 0; i + 2 < v.Length; i += 3)
            {
                int m = v[i], n = v[i + 1], k = v[i + 2];
                float[] a = KernelAlternation.Fill(m * k, rng), b = KernelAlternation.Fill(k * n, rng);
                float[] c0 = new float[m * n], c1 = new float[m * n];
                var (first, second) = KernelAlternation.Run(
                    () => GemmKernel.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c0, n),
                    () => GemmKernel.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c1, n),
                    calls, set);
                Console.WriteLine($"{label}, {threads} thr, {m}×{n}×{k}: wall ms {first.Wall:F3} → {second.Wall:F3} ({first.Wall / second.Wall:F3}x), "
                    + $"CPU ms {first.Cpu:F3} → {second.Cpu:F3} ({first.Cpu / second.Cpu:F3}x); max |Δ| {KernelAlternation.MaxDifference(c0, c1)}; load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            }
        }
        set(true);
        ParallelRange.MaxThreads = Environment.ProcessorCount;
        return 0;
    }

    // --alternate SWITCH M,N,K[,..] CALLS: the two settings of one driver switch, call by call in this process (each side
    // sees the same machine load), 2 threads; median wall and process CPU ms per call, and whether the bits agree.
    // packing: shared (GemmTeam) | private (fixed split); broadcast-a: plain | broadcast A panels (Vector128).
    static int Alternate(string name, string shapes, int calls)
    {
        int[] v = shapes.Split(',').Select(int.Parse).ToArray();
        if (name == "broadcast-a1")
            return AlternateSet(v, calls, first => GemmDriver.ForcedBroadcastA = !first, "plain → broadcast A panels");
        if (name.StartsWith("blocking:"))
        {
            int[] sizes = name["blocking:".Length..].Split('/').Select(int.Parse).ToArray();
            var other = new GemmBlocking(sizes[0], sizes[1], sizes[2]);
            return AlternateSet(v, calls, first => GemmDriver.ForcedBlocking = first ? null : other, $"blocking machine's → {other}");
        }
        if (name != "packing" && name != "broadcast-a")
            throw new ArgumentException($"gemm --alternate: unknown switch '{name}' (packing, broadcast-a, broadcast-a1, blocking:KC/MC/NC)");
        (string First, string Second) labels = name == "packing" ? ("shared", "private") : ("plain", "broadcast");
        Action<bool> set = name == "packing"
            ? first => GemmDriver.ForcedSharedPacking = first
            : first => GemmDriver.ForcedBroadcastA = !first;
        Console.WriteLine($"SIMD path: {MachineLimits.SimdPath()}; {name}: {labels.First} → {labels.Second}, {calls} calls each, alternating, 2 threads");
        AlternateSet(v, calls, set, $"{labels.First} → {labels.Second}", fromThreads: 2);
        GemmDriver.ForcedSharedPacking = null;
        GemmDriver.ForcedBroadcastA = null;
        return 0;
    }

    static int ldaPad;

    // --sustained: is a 2048² product's distance from the header's FMA peak the kernel's or the clock's? Per round, the FMA
    // loop held as long as the product (~80 ms), then one call of the product, each in GFLOP per process CPU-second per
    // thread (a loaded machine's descheduling does not count; with 2 threads a spin-wait for a descheduled partner
    // does): the ratio is the product's share of the multiply-add rate the cores had at the time, what FLOPs per cycle
    // would say where hardware counters are not available (this VM). 1 and 2 threads.
    static int Sustained()
    {
        const int N = 2048, Rounds = 9;
        var rng = new Random(1);
        float[] a = new float[N * N], b = new float[N * N], c = new float[N * N];
        for (int i = 0; i < a.Length; i++) { a[i] = rng.NextSingle() - 0.5f; b[i] = rng.NextSingle() - 0.5f; }
        Console.WriteLine($"SIMD path: {MachineLimits.SimdPath()}; blocking: {GemmDriver.DescribeBlocking()}");
        for (int threads = 1; threads <= 2; threads++)
        {
            ParallelRange.MaxThreads = threads;
            void Call() => GemmKernel.Sgemm(false, false, N, N, N, 1f, a, N, b, N, 0f, c, N);
            for (int i = 0; i < 3; i++) Call();
            var gemm = new double[Rounds];
            var held = new double[Rounds];
            for (int r = 0; r < Rounds; r++)
            {
                // 2.5 ms loops: 32 of them span one 2-thread call, 64 one 1-thread call.
                held[r] = MachineLimits.HeldFmaGflopsPerCpuSecond(threads, threads == 1 ? 64 : 32);
                double cpu0 = Measure.PreciseProcessCpuSeconds();
                Call();
                gemm[r] = 2.0 * N * N * N / (Measure.PreciseProcessCpuSeconds() - cpu0) / 1e9;
            }
            double[] ratio = gemm.Zip(held, (g, h) => g / h).Order().ToArray();
            Console.WriteLine($"{threads} thread(s), GFLOP per CPU-second per thread, rounds (held FMA loop | 2048²): "
                + string.Join(", ", held.Zip(gemm, (h, g) => $"{h:F0}|{g:F0}"))
                + $"; 2048² / held loop: median {ratio[Rounds / 2]:F3}, best {ratio[^1]:F3}");
        }
        ParallelRange.MaxThreads = Environment.ProcessorCount;
        return 0;
    }

    static double Time(Action action) =>
        cpu ? Measure.CpuSecondsPerThread(action, ParallelRange.MaxThreads, best)
        : best ? Measure.BestSeconds(action) : Measure.MedianSeconds(action);

    // The kernel the driver picks for a large square product, on one MR×256 and one 256×NR panel that stay in L1: the
    // driver's ceiling, to compare with the FMA peak and the whole GEMM.
    static unsafe double MicroKernelGflops(bool useBest)
    {
        return GemmDriver.SelectedIsa switch
        {
            GemmIsa.Vector512 => Kernel<MicroKernel512<float>>(useBest),
            GemmIsa.Vector256 => Kernel<MicroKernel256<float>>(useBest),
            _ => Kernel<MicroKernel128<float>>(useBest),
        };
    }

    // Packing speed in elements per ns for a 1024×1024 operand, each layout: the copy (A transposed, B not) and the
    // transpose (A not transposed, B transposed). What a thread pays per element of the operand it packs.
    static unsafe string PackingRates(bool useBest) => GemmDriver.SelectedIsa switch
    {
        GemmIsa.Vector512 => Packing<MicroKernel512<float>>(useBest),
        GemmIsa.Vector256 => Packing<MicroKernel256<float>>(useBest),
        _ => Packing<MicroKernel128<float>>(useBest),
    };

    static unsafe string Packing<TKernel>(bool useBest) where TKernel : struct, IMicroKernel<float>
    {
        const int N = 1024, Kb = 256;
        float[] src = GC.AllocateArray<float>(N * N, pinned: true), dst = GC.AllocateArray<float>(N * Kb + 4096, pinned: true);
        src.AsSpan().Fill(1f);
        double Rate(Action pack) => (double)N * Kb / ((useBest ? Measure.BestSeconds(pack) : Measure.MedianSeconds(pack)) * 1e9);
        fixed (float* s = src, d = dst)
        {
            float* ps = s, pd = d;
            double aCopy = Rate(() => GemmPacking.PackA<float, TKernel>(ps, N, true, 0, N, 0, Kb, pd));
            double aTrans = Rate(() => GemmPacking.PackA<float, TKernel>(ps, N, false, 0, N, 0, Kb, pd));
            double bCopy = Rate(() => GemmPacking.PackB<float, TKernel>(ps, N, false, 0, Kb, 0, N, pd));
            double bTrans = Rate(() => GemmPacking.PackB<float, TKernel>(ps, N, true, 0, Kb, 0, N, pd));
            return $"packing 1024×256 (elements/ns): A copy {aCopy:F2}, A transpose {aTrans:F2}, B copy {bCopy:F2}, B transpose {bTrans:F2}";
        }
    }

    static unsafe double Kernel<TKernel>(bool useBest) where TKernel : struct, IMicroKernel<float>
    {
        const int Kc = 256, Calls = 200;
        int mr = TKernel.MR, nr = TKernel.NR;
        float[] a = GC.AllocateArray<float>(mr * Kc + 16, pinned: true), b = GC.AllocateArray<float>(Kc * nr + 16, pinned: true);
        float[] c = GC.AllocateArray<float>(mr * nr + 16, pinned: true);
        a.AsSpan().Fill(0.5f);
        b.AsSpan().Fill(0.25f);
        Action run = () =>
        {
            fixed (float* pa = a, pb = b, pc = c)
                for (int i = 0; i < Calls; i++) TKernel.Run(Kc, pa, pb, pc, nr, 1f, 0f);
        };
        double seconds = cpu ? Measure.CpuSecondsPerThread(run, 1, useBest, reps: 40) : useBest ? Measure.BestSeconds(run) : Measure.MedianSeconds(run);
        return 2.0 * mr * nr * Kc * Calls / seconds / 1e9;
    }

    // One KC×NC block of a 2048² product as the driver runs it on one thread: every A sliver of a packed ~2048-row A block
    // (it stays in L3) swept across the B block's panels (in L2), onto C with ldc 2048 and beta 1. Between the micro-kernel
    // alone (everything in L1) and the whole GEMM: what streaming B from L2, A from L3 and C costs, in ~4 ms samples
    // (short enough for a best-of to find undisturbed ones on a loaded machine).
    static unsafe string BlockSweep(bool useBest) => GemmDriver.SelectedIsa switch
    {
        GemmIsa.Vector512 => BlockSweep<MicroKernel512<float>>(useBest),
        GemmIsa.Vector256 => BlockSweep<MicroKernel256<float>>(useBest),
        _ => BlockSweep<MicroKernel128<float>>(useBest),
    };

    static unsafe string BlockSweep<TKernel>(bool useBest) where TKernel : struct, IMicroKernel<float>
    {
        const int N = 2048;
        GemmBlocking blocking = GemmDriver.ForcedBlocking ?? GemmBlocking<float, TKernel>.Value;
        int mr = TKernel.MR, nr = TKernel.NR, kc = blocking.KC, nc = Math.Min(blocking.NC, N), mb = N / mr * mr;
        float[] a = GC.AllocateArray<float>(mb * kc + 64, pinned: true), b = GC.AllocateArray<float>(kc * nc + 64, pinned: true);
        float[] c = GC.AllocateArray<float>(N * N, pinned: true);
        a.AsSpan().Fill(0.5f);
        b.AsSpan().Fill(0.25f);
        float* pa = (float*)(((nint)Unsafe.AsPointer(ref a[0]) + 63) & ~(nint)63), pb = (float*)(((nint)Unsafe.AsPointer(ref b[0]) + 63) & ~(nint)63);
        fixed (float* pc = c)
        {
            var g = new GemmArgs<float>(false, false, mb, nc, kc, 1f, pa, kc, pb, nc, 1f, pc, N);
            float* scratch = stackalloc float[mr * nr];
            GemmArgs<float> args = g;
            float* sc = scratch;
            Action run = () =>
            {
                for (int ir = 0; ir < mb; ir += mr)
                    GemmDriver.Sliver<float, TKernel>(args, 0, mb, 0, kc, 0, nc, ir, 0, nc, pa, pb, false, false, 1f, sc);
            };
            double seconds = cpu ? Measure.CpuSecondsPerThread(run, 1, useBest, reps: 40) : useBest ? Measure.BestSeconds(run) : Measure.MedianSeconds(run);
            return $"block sweep ({mb}×{nc}×{kc}: A block in L3, B block in L2, 1 thread): {2.0 * mb * nc * kc / seconds / 1e9:F1} GFLOP/s";
        }
    }

    static double TimeFloat(Shape s)
    {
        var rng = new Random(1);
        int lda = s.TransA ? s.M : s.K + ldaPad, ldb = s.TransB ? s.K : s.N;
        float[] a = new float[(s.TransA ? s.K : s.M) * lda], b = new float[s.K * s.N], c = new float[s.M * s.N];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextSingle() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextSingle() - 0.5f;
        return Time(() => GemmKernel.Sgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, a, lda, b, ldb, 0f, c, s.N));
    }

    static double TimeDouble(Shape s)
    {
        var rng = new Random(1);
        double[] a = new double[s.M * s.K], b = new double[s.K * s.N], c = new double[s.M * s.N];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble() - 0.5;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextDouble() - 0.5;
        int lda = s.TransA ? s.M : s.K, ldb = s.TransB ? s.K : s.N;
        return Time(() => GemmKernel.Dgemm(s.TransA, s.TransB, s.M, s.N, s.K, 1.0, a, lda, b, ldb, 0.0, c, s.N));
    }
}
