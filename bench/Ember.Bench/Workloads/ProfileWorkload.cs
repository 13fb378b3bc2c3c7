using Ember.Bench.Peers;
using Ember.Kernels.Conv;
using Ember.Kernels.Loops;
using Ember.Kernels.Norm;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;
using Ember.Nn.Functional;
using GemmKernel = Ember.Kernels.Gemm.Gemm;

namespace Ember.Bench.Workloads;

/// <summary>
/// Stopwatch breakdowns of the rows where Ember trails TorchSharp: each op timed whole, then its stages (kernel on
/// preallocated buffers, allocation, packing, GEMM) so the report can say what dominates. Ember only.
/// </summary>
public sealed class ProfileWorkload : IWorkload
{
    public string Name => "profile";

    public string Description => "Stopwatch breakdown of the slow side-by-side rows (GELU, conv, max_pool2d, softmax, add) [--threads 2] [--transformer] [--transformer-ops [--with-peer]]";

    public int Run(string[] args)
    {
        int i = Array.IndexOf(args, "--threads");
        int threads = i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : 2;
        Torch.NumThreads = threads;
        Console.WriteLine($"Ember stage timings, {threads} threads, per call: median wall ms, mean CPU ms (all threads), minor page faults, GCs, ms in the pool's induced GCs (wall)");
        if (args.Contains("--with-peer"))
        {
            Console.WriteLine($"affinity before loading TorchSharp: {Affinity()}");
            Console.WriteLine(TorchPeer.TryInitialize(threads) ? TorchPeer.Description : TorchPeer.Problem);
            Console.WriteLine($"affinity after: {Affinity()}");
        }
        if (args.Contains("--linear")) { Linear(); return 0; }
        if (args.Contains("--pool-step"))
        {
            // --no-early-release: the backward pass leaves its gradient temporaries to the GC, as before session 12
            Ember.Autograd.GradientRelease.Enabled = !args.Contains("--no-early-release");
            PoolStep();
            return 0;
        }
        if (args.Contains("--transformer")) { Transformer(); return 0; }
        if (args.Contains("--transformer-ops"))
        {
            // --steps N: timed calls of the whole layer (more for a sampling profiler)
            int s = Array.IndexOf(args, "--steps");
            TransformerOpProfile.Run(TorchPeer.Available, args.Contains("--whole"), s >= 0 && s + 1 < args.Length ? int.Parse(args[s + 1]) : 40);
            return 0;
        }
        if (args.Contains("--memory-bound"))
        {
            int m = Array.IndexOf(args, "--match");
            match = m >= 0 && m + 1 < args.Length ? args[m + 1] : null;
            MemoryBound();
            return 0;
        }
        Linear();
        Gelu();
        Allocation();
        Conv();
        MaxPool();
        Softmax();
        return 0;
    }

    // Wall time is inflated when other processes share the cores; process CPU time and minor page faults per call are not
    // (much), so they are printed too: CPU ms ≈ wall ms × threads for a well-parallelized op on a quiet machine.
    // Only rows whose label contains this text run (--match), so an A/B of one kernel stays short.
    static string? match;

    static void Row(string label, Action action)
    {
        if (match is not null && !label.Contains(match, StringComparison.OrdinalIgnoreCase)) return;
        double wall = Measure.MedianSeconds(action, 11);
        const int calls = 5;
        var process = System.Diagnostics.Process.GetCurrentProcess();
        process.Refresh();
        TimeSpan cpu0 = process.TotalProcessorTime;
        long faults0 = Machine.MinorFaults();
        int gc0 = GC.CollectionCount(0);
        long induced0 = Ember.Backends.Cpu.StoragePool.InducedCollectionTicks;
        for (int c = 0; c < calls; c++) action();
        double collections = (GC.CollectionCount(0) - gc0) / (double)calls;
        double inducedMs = (Ember.Backends.Cpu.StoragePool.InducedCollectionTicks - induced0) * 1e3 / System.Diagnostics.Stopwatch.Frequency / calls;
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpu0).TotalMilliseconds / calls;
        double faults = (Machine.MinorFaults() - faults0) / (double)calls;
        Console.WriteLine($"  {label,-62} {wall * 1e3,10:F3} {cpu,10:F2} {faults,9:F0} {collections,6:F1} {inducedMs,8:F3}");
    }

    static string Affinity() =>
        string.Join(" ", File.ReadLines("/proc/thread-self/status").Where(l => l.StartsWith("Cpus_allowed_list", StringComparison.Ordinal)));

    static void Linear()
    {
        Console.WriteLine("linear 128×784→256 fwd+bwd, y = x·Wᵀ + b:");
        Tensor x = Inputs.Randn(1, 128, 784), w = Inputs.Randn(2, 256, 784) * 0.03, b = Inputs.Randn(3, 256), g = Inputs.Randn(4, 128, 256);
        Tensor wt = w.T, wtc = w.T.Contiguous();
        Row("x.MatMul(w.T) (w.T a transposed view)", () => x.MatMul(wt));
        Row("x.MatMul(w.T.Contiguous())", () => x.MatMul(wtc));
        Row("x.Mm(w.T)", () => x.Mm(wt));
        Row("g.T.MatMul(x) (weight-gradient shape)", () => g.T.MatMul(x));
        Row("xw + b (broadcast add)", () => _ = g + b);
        Row("g.Sum(0) (bias gradient)", () => g.Sum(0));
        Tensor wg = w.Detach(), bg = b.Detach();
        wg.RequiresGrad = bg.RequiresGrad = true;
        Row("forward with autograd recording", () => _ = x.MatMul(wg.T) + bg);
        Tensor y = x.MatMul(wg.T) + bg;
        Row("backward only (retained graph)", () => { wg.Grad = bg.Grad = null; y.Backward(g, retainGraph: true); });
    }

    static void Gelu()
    {
        Console.WriteLine("GELU 4M composite 0.5·x·(1 + erf(x/√2)):");
        Tensor x = Inputs.Randn(1, 4 << 20);
        Tensor u = x * 0.7071, e = u.Erf();
        Row("whole composite", () => _ = x * 0.5 * ((x * 0.7071).Erf() + 1));
        Row("x * c (scalar multiply)", () => _ = x * 0.7071);
        Row("erf", () => u.Erf());
        Row("exp (for comparison)", () => u.Exp());
        Row("tanh (for comparison)", () => u.Tanh());
        Row("erf + 1", () => _ = e + 1);
        Row("x * y (tensor multiply)", () => _ = x * e);
    }

    static void Allocation()
    {
        Console.WriteLine("Allocation (Torch.Empty / Zeros of float32):");
        Row("Empty 4M (16 MB, the add/GELU output)", () => Torch.Empty([4 << 20]));
        Row("Empty 64×64×28×28 (12.8 MB, conv 28² output)", () => Torch.Empty([64, 64, 28, 28]));
        Row("Empty 32×64×56×56 (25.7 MB, conv 56² output)", () => Torch.Empty([32, 64, 56, 56]));
        Tensor a = Inputs.Randn(1, 4 << 20), b = Inputs.Randn(2, 4 << 20);
        Row("add 4M (whole op)", () => a.Add(b));
        var output = new float[4 << 20];
        Row("add 4M kernel only (span loop into a reused array)", () =>
        {
            ReadOnlySpan<float> sa = a.Span<float>(), sb = b.Span<float>();
            System.Numerics.Tensors.TensorPrimitives.Add(sa, sb, output);
        });
    }

    static void Conv()
    {
        foreach (var (n, cIn, size, cOut) in new[] { (64, 32, 28, 64), (32, 64, 56, 64) })
        {
            Console.WriteLine($"conv3×3 ({n}, {cIn}, {size}, {size})→{cOut} pad 1:");
            Tensor x = Inputs.Randn(1, n, cIn, size, size), w = Inputs.Randn(2, cOut, cIn, 3, 3) * 0.05, b = Inputs.Randn(3, cOut);
            var g = new Conv2dGeometry(n, cIn, size, size, cOut, 3, 3, 1, 1, 1, 1, 1, 1, 1);
            var y = new float[n * cOut * size * size];
            int rows = cIn * 9, plane = size * size;
            var cols = new float[rows * plane];
            var oneImage = new Conv2dGeometry(1, cIn, size, size, cOut, 3, 3, 1, 1, 1, 1, 1, 1, 1);
            var yImage = new float[cOut * plane];
            Row("F.Conv2d forward (whole op)", () => F.Conv2d(x, w, b, padding: 1));
            Row("Conv2dKernel.Forward into a reused output", () => Conv2dKernel.Forward(g, x.Span<float>(), w.Span<float>(), b.Span<float>(), y));
            Row($"  of which im2col, all {n} images, 1 thread", () =>
            {
                for (int img = 0; img < n; img++) Im2Col.Pack(oneImage, x.Span<float>().Slice(img * cIn * plane, cIn * plane), cols);
            });
            int saved = ParallelRange.MaxThreads;
            ParallelRange.MaxThreads = 1;
            Row($"  of which Sgemm {cOut}×{plane}×{rows}, all {n} images, 1 thread", () =>
            {
                for (int img = 0; img < n; img++) GemmKernel.Sgemm(false, false, cOut, plane, rows, 1f, w.Span<float>(), rows, cols, plane, 0f, yImage, plane);
            });
            ParallelRange.MaxThreads = saved;
            Tensor gy = Inputs.Randn(4, n, cOut, size, size);
            Tensor xg = x.Detach(), wg = w.Detach(), bg = b.Detach();
            xg.RequiresGrad = wg.RequiresGrad = bg.RequiresGrad = true;
            Tensor yg = F.Conv2d(xg, wg, bg, padding: 1);
            Row("backward only (retained graph)", () => { xg.Grad = wg.Grad = bg.Grad = null; yg.Backward(gy, retainGraph: true); });
            var dx = new float[x.NumEl];
            var dw = new float[w.NumEl];
            Row("  Conv2dKernel.BackwardInput into a reused output", () => Conv2dKernel.BackwardInput(g, gy.Span<float>(), w.Span<float>(), dx));
            Row("  Conv2dKernel.BackwardWeight into a reused output", () => Conv2dKernel.BackwardWeight(g, x.Span<float>(), gy.Span<float>(), dw));
            Row("  bias gradient gy.Sum([0, 2, 3]) (what ConvOps does)", () => gy.Sum([0, 2, 3]));
            var db = new float[cOut];
            Row("  Conv2dKernel.BackwardBias (channel-sum kernel, unused by ConvOps)", () => Conv2dKernel.BackwardBias(g, gy.Span<float>(), db));
            Row("  gy.Sum() (full contiguous sum, for comparison)", () => gy.Sum());
        }
    }

    static void MaxPool()
    {
        Console.WriteLine("max_pool2d 2×2 on (32, 64, 56, 56):");
        Tensor x = Inputs.Randn(1, 32, 64, 56, 56);
        var g = new Pool2dGeometry(32, 64, 56, 56, 2, 2, 2, 2, 0, 0, 1, 1, false);
        var y = new float[32 * 64 * 28 * 28];
        var idx = new long[y.Length];
        Row("F.MaxPool2d (whole op)", () => F.MaxPool2d(x, 2));
        Row("MaxPool2dKernel.Forward into reused outputs (values + int64 indices)", () => MaxPool2dKernel.Forward(g, x.Span<float>(), y, idx));
        Row("Empty 32×64×28×28 int64 (indices)", () => Torch.Empty([32, 64, 28, 28], DType.Int64));
        var dx = new float[x.NumEl];
        Tensor gy = Inputs.Randn(2, 32, 64, 28, 28);
        Row("MaxPool2dKernel.Backward into a reused gradient", () => MaxPool2dKernel.Backward(g, gy.Span<float>(), idx, dx));
    }

    // Issue 21's memory question: what the storage pool does per CNN training step (the bench's CNN row: FashionCnn,
    // batch 128, Adam), split by phase. Counts, not times, so the numbers do not depend on the load of the machine.
    static void PoolStep()
    {
        const int warmUp = 20, steps = 100, batch = 128;
        Torch.ManualSeed(13);
        var model = new Ember.Models.FashionCnn();
        Tensor x = Inputs.Randn(1, batch, 1, 28, 28);
        Tensor y = Torch.FromArray(Enumerable.Range(0, batch).Select(i => (long)(i * 7 % 10)).ToArray(), [batch]);
        var optimizer = new Ember.Optim.Adam(model.Parameters(), new Ember.Optim.AdamOptions { LearningRate = 1e-3 });
        string[] phases = ["zero grads + forward + loss", "backward", "optimizer step"];
        var counts = new long[phases.Length, 4];
        void Snap(int phase, int sign)
        {
            counts[phase, 0] += sign * Ember.Backends.Cpu.StoragePool.Hits;
            counts[phase, 1] += sign * Ember.Backends.Cpu.StoragePool.Misses;
            counts[phase, 2] += sign * Ember.Backends.Cpu.StoragePool.InducedCollections;
            counts[phase, 3] += sign * Ember.Backends.Cpu.StoragePool.EarlyReturns;
        }
        int[] gen0 = new int[3];
        long inducedTicks0 = 0, evictions0 = 0;
        TimeSpan pause0 = default;
        var sw = new System.Diagnostics.Stopwatch();
        var losses = new List<float>();
        for (int s = 0; s < warmUp + steps; s++)
        {
            if (s == warmUp)
            {
                Array.Clear(counts);
                for (int g = 0; g < 3; g++) gen0[g] = GC.CollectionCount(g);
                inducedTicks0 = Ember.Backends.Cpu.StoragePool.InducedCollectionTicks;
                evictions0 = Ember.Backends.Cpu.StoragePool.Evictions;
                pause0 = GC.GetTotalPauseDuration();
                Ember.Backends.Cpu.StoragePool.MissesBySize = [];
                sw.Start();
            }
            losses.Add(PoolStepOnce(model, optimizer, x, y, Snap));
        }
        sw.Stop();
        Console.WriteLine($"pool per CNN train step (FashionCnn, batch 128, Adam), mean of {steps} steps after {warmUp}, {Torch.NumThreads} threads" +
            $"{(Ember.Autograd.GradientRelease.Enabled ? "" : ", early release off")}:");
        Console.WriteLine($"  {"phase",-30} {"hits",8} {"misses",8} {"induced",8} {"returned",9}");
        for (int p = 0; p < phases.Length; p++)
            Console.WriteLine($"  {phases[p],-30} {counts[p, 0] / (double)steps,8:F2} {counts[p, 1] / (double)steps,8:F2} {counts[p, 2] / (double)steps,8:F2} {counts[p, 3] / (double)steps,9:F2}");
        Console.WriteLine($"  GCs per step: gen0 {(GC.CollectionCount(0) - gen0[0]) / (double)steps:F2}, gen1 {(GC.CollectionCount(1) - gen0[1]) / (double)steps:F2}, gen2 {(GC.CollectionCount(2) - gen0[2]) / (double)steps:F2}; " +
            $"ms in induced collections per step {(Ember.Backends.Cpu.StoragePool.InducedCollectionTicks - inducedTicks0) * 1e3 / System.Diagnostics.Stopwatch.Frequency / steps:F3}; " +
            $"GC pause ms per step {(GC.GetTotalPauseDuration() - pause0).TotalMilliseconds / steps:F3}; wall ms per step {sw.Elapsed.TotalMilliseconds / steps:F1}");
        Console.WriteLine($"  evictions {Ember.Backends.Cpu.StoragePool.Evictions - evictions0} (after warm-up); pool limit {Ember.Backends.Cpu.StoragePool.LimitBytes / 1048576.0:F0} MB " +
            $"(grew {Ember.Backends.Cpu.StoragePool.LimitGrowths} times), most bytes pooled at once {Ember.Backends.Cpu.StoragePool.PeakPooledBytes / 1048576.0:F0} MB");
        GC.Collect();
        long heldBytes = Ember.Backends.Cpu.StoragePool.OutstandingBytes + Ember.Backends.Cpu.StoragePool.PooledBytes;
        string peakRss = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM", StringComparison.Ordinal)).Split(':')[1].Trim();
        Console.WriteLine($"  pooled buffers in circulation after the run (free + handed out, before reclaiming) {heldBytes / 1048576.0:F0} MB; peak RSS {peakRss}");
        Console.WriteLine("  misses by buffer size (after warm-up): " + string.Join(", ", Ember.Backends.Cpu.StoragePool.MissesBySize!
            .OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key.Item1.TorchName()}[{kv.Key.Item2}]×{kv.Value}")));
        Ember.Backends.Cpu.StoragePool.MissesBySize = null;
        // A fingerprint of the loss curve's bits, to compare builds (pooling must not change a single bit).
        ulong hash = 14695981039346656037;
        foreach (float l in losses) hash = (hash ^ BitConverter.SingleToUInt32Bits(l)) * 1099511628211;
        Console.WriteLine($"  losses: first {losses[0]:R}, last {losses[^1]:R}, FNV-1a of all {losses.Count} loss bit patterns {hash:x16}");
    }

    // One step in a method of its own, as a training loop calls it: the step's graph is unreachable once it returns
    // (a local of a long-running loop method may stay reported live to the collector until it is overwritten).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static float PoolStepOnce(Ember.Models.FashionCnn model, Ember.Optim.Adam optimizer, Tensor x, Tensor y, Action<int, int> snap)
    {
        snap(0, -1);
        optimizer.ZeroGrad();
        Tensor loss = F.CrossEntropy(model.Call(x), y);
        snap(0, 1); snap(1, -1);
        loss.Backward();
        snap(1, 1); snap(2, -1);
        optimizer.Step();
        snap(2, 1);
        return loss.Item<float>();
    }

    // The memory-bound rows of issue 21: the whole op against its kernel writing into a reused buffer, so the gap is
    // what allocation (pool misses, induced collections, page faults) and the op layer cost.
    static void MemoryBound()
    {
        const int rows = 4096, cols = 1024, n = rows * cols;
        Tensor x = Inputs.Randn(1, rows, cols), b = Inputs.Randn(2, rows, cols), g = Inputs.Randn(3, rows, cols);
        Tensor row = Inputs.Randn(4, cols), column = Inputs.Randn(5, rows, 1);
        var outBuf = new float[n];
        var mean = new float[rows];
        var rstd = new float[rows];
        var w = Inputs.Randn(6, cols);
        var bias = Inputs.Randn(7, cols);
        Console.WriteLine("memory-bound rows on 4096×1024 float32 (16 MB per tensor):");
        Row("Empty 4M (the output allocation alone)", () => Torch.Empty([n]));
        Row("add (whole op)", () => x.Add(b));
        Row("add kernel into a reused array (Elementwise.Binary)", () => Elementwise.Binary(BinaryOp.Add, x.Span<float>(), 0, [cols, 1],
            b.Span<float>(), 0, [cols, 1], [rows, cols], outBuf));
        Row("mul by row (whole op)", () => x.Mul(row));
        Row("mul by column (whole op)", () => x.Mul(column));
        Row("mul by column kernel into a reused array", () => Elementwise.Binary(BinaryOp.Mul, x.Span<float>(), 0, [cols, 1],
            column.Span<float>(), 0, [1, 0], [rows, cols], outBuf));
        Row("softmax (whole op)", () => x.Softmax(1));
        Row("softmax kernel into a reused array", () => Reduction.Softmax(x.Span<float>(), rows, cols, 1, outBuf, false));
        Tensor y = x.Softmax(1);
        Row("softmax backward kernel into a reused array", () => Reduction.SoftmaxBackward(g.Span<float>(), y.Span<float>(), rows, cols, 1, outBuf, false));
        Row("LayerNorm kernel forward into a reused array", () => LayerNormKernel.Forward(x.Span<float>(), rows, cols, w.Span<float>(), bias.Span<float>(), 1e-5f, outBuf, mean, rstd));
        Row("GELU erf (whole op)", () => F.Gelu(x));
        Row("GELU erf kernel into a reused array", () => ActivationKernel.Forward(Activation.Gelu, x.Span<float>(), outBuf.AsSpan()));
        Row("SiLU (whole op)", () => F.Silu(x));
        Row("SiLU kernel into a reused array", () => ActivationKernel.Forward(Activation.Silu, x.Span<float>(), outBuf.AsSpan()));
        Row("copy 16 MB (Span.CopyTo, 1 thread)", () => x.Span<float>().CopyTo(outBuf));
        Row("GC.Collect(0) alone", () => GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: false));
        Row("GC.Collect(1) + WaitForPendingFinalizers (the pool's induced collection)", () =>
        {
            GC.Collect(1, GCCollectionMode.Forced, blocking: true, compacting: false);
            GC.WaitForPendingFinalizers();
        });
        Row("GC.Collect(2) + WaitForPendingFinalizers", () =>
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
            GC.WaitForPendingFinalizers();
        });
        Console.WriteLine($"  pool: hits {Ember.Backends.Cpu.StoragePool.Hits}, misses {Ember.Backends.Cpu.StoragePool.Misses}, induced collections {Ember.Backends.Cpu.StoragePool.InducedCollections}");
    }

    // The transformer row (d_model 128, 4 heads, feed-forward 512, batch 32 × 64 tokens): the layer whole, then its
    // matrix products alone with the same shapes and layouts, and its non-GEMM ops, so the report can say which dominates.
    static void Transformer()
    {
        const int n = 32, l = 64, e = 128, h = 4, d = 32, f = 512, tokens = n * l;
        Torch.ManualSeed(14);
        var layer = new Ember.Nn.Layers.TransformerEncoderLayer(e, h, f, dropout: 0, batchFirst: true);
        Tensor x = Inputs.Randn(1, n, l, e), g = Inputs.Randn(2, n, l, e);
        Console.WriteLine("transformer encoder layer (32, 64, 128), 4 heads, feed-forward 512:");
        Row("fwd+bwd (the bench row)", () => { layer.ZeroGrad(); layer.Call(x).Backward(g); });
        Row("forward, no grad", () => { using (Torch.NoGrad()) layer.Call(x); });
        Tensor a = Inputs.Randn(3, tokens, e), wE = Inputs.Randn(4, e, e), wF = Inputs.Randn(5, f, e), wF2 = Inputs.Randn(6, e, f), hF = Inputs.Randn(7, tokens, f);
        Tensor q = Inputs.Randn(8, l, n, h, d).Permute(1, 2, 0, 3), k = Inputs.Randn(9, l, n, h, d).Permute(1, 2, 0, 3);
        Tensor p = Inputs.Randn(10, n, h, l, l);
        Row("forward GEMMs: 4 × [2048,128]·[128,128]ᵀ (q, k, v, out)", () => { for (int i = 0; i < 4; i++) a.MatMul(wE.T); });
        Row("forward GEMMs: [2048,128]·[512,128]ᵀ + [2048,512]·[128,512]ᵀ (feed-forward)", () => { a.MatMul(wF.T); hF.MatMul(wF2.T); });
        Row("forward GEMMs: q·kᵀ and p·v, 128 heads, permuted views", () => { q.MatMul(k.Transpose(-2, -1)); p.MatMul(k); });
        Row("softmax over [32,4,64,64]", () => p.Softmax(-1));
        Tensor t = Inputs.Randn(11, n, l, e);
        Row("LayerNorm over [32,64,128], no grad", () => { using (Torch.NoGrad()) layer.Norm1.Call(t); });
        Row("residual add [32,64,128]", () => _ = t + x);
        var sum = new float[tokens * e];
        Row("  its kernel into a reused array (Elementwise.Binary)", () => Elementwise.Binary(BinaryOp.Add, t.Span<float>(), 0, [l * e, e, 1],
            x.Span<float>(), 0, [l * e, e, 1], [n, l, e], sum));
        Row("  TensorPrimitives.Add into a reused array, 1 thread", () => System.Numerics.Tensors.TensorPrimitives.Add(t.Span<float>(), x.Span<float>(), sum));
        Row("  Empty [32,64,128]", () => Torch.Empty([n, l, e]));
        Row("ReLU [2048,512]", () => F.Relu(hF));
    }

    static void Softmax()
    {
        Console.WriteLine("softmax 4096×1024:");
        Tensor x = Inputs.Randn(1, 4096, 1024);
        Row("Softmax(1) (whole op)", () => x.Softmax(1));
        Row("Exp of the same (one elementwise pass, for comparison)", () => x.Exp());
    }
}
