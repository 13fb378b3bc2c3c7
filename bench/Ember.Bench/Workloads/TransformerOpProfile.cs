using Ember.Bench.Peers;
using Ember.Nn.Functional;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// The pieces of the transformer-layer row (d_model 128, 4 heads, feed-forward 512, batch 32 × 64 tokens), each timed on
/// Ember and, where TorchSharp is set up, on the same op of libtorch, in alternation (Measure.MedianPair), so that one
/// table says which op of the layer trails on the current SIMD path. The GEMMs have the layer's shapes and operand
/// layouts: forward X·Wᵀ, input gradients dY·W, weight gradients dYᵀ·X, the attention products on permuted head views.
/// </summary>
internal static class TransformerOpProfile
{
    const int N = 32, L = 64, E = 128, H = 4, D = 32, Ff = 512, Tokens = N * L;

    public static void Run(bool withPeer, bool wholeOnly = false, int steps = 40)
    {
        WholeLayer(steps);
        if (wholeOnly) return;
        Console.WriteLine($"transformer layer pieces (32, 64, 128), 4 heads, feed-forward 512: median ms per call (alternating samples){(withPeer ? "" : ", Ember only")}");
        // Process CPU time per call too: on a loaded machine (or with --threads 1) it says more than the wall time.
        Console.WriteLine($"  {"piece",-58} {"Ember ms",9} {"Torch ms",9} {"ratio",6} {"Ember CPU",9} {"Torch CPU",9} {"ratio",6} {"GF/s/CPU",8}");
        Tensor x = Inputs.Randn(3, Tokens, E), wE = Inputs.Randn(4, E, E), w1 = Inputs.Randn(5, Ff, E), w2 = Inputs.Randn(6, E, Ff);
        Tensor h1 = Inputs.Randn(7, Tokens, Ff), gE = Inputs.Randn(8, Tokens, E), gF = Inputs.Randn(9, Tokens, Ff);
        // Heads [N, H, L, d] cut from [N, L, E] projections, as MultiheadAttention does with batch_first.
        Tensor Heads(int seed) => Inputs.Randn(seed, N, L, H, D).Permute(0, 2, 1, 3);
        Tensor q = Heads(10), k = Heads(11), v = Heads(12), dO = Heads(13);
        Tensor p = Inputs.Randn(14, N, H, L, L).Softmax(-1), dP = Inputs.Randn(15, N, H, L, L);
        Tensor t = Inputs.Randn(16, N, L, E), b1 = Inputs.Randn(17, Ff);
        TT Tt(Tensor e) => Inputs.ToTorch(e);
        TT HeadsT(int seed) => Inputs.TorchRandn(seed, N, L, H, D).permute(0, 2, 1, 3);
        TT? xt = null, wEt = null, w1t = null, w2t = null, h1t = null, gEt = null, gFt = null, qt = null, kt = null, vt = null, dOt = null, pt = null, dPt = null, tt = null, b1t = null;
        if (withPeer)
        {
            (xt, wEt, w1t, w2t, h1t, gEt, gFt) = (Tt(x), Tt(wE), Tt(w1), Tt(w2), Tt(h1), Tt(gE), Tt(gF));
            (qt, kt, vt, dOt) = (HeadsT(10), HeadsT(11), HeadsT(12), HeadsT(13));
            (pt, dPt, tt, b1t) = (Tt(p), Tt(dP), Tt(t), Tt(b1));
        }

        double mac2 = 2.0 * Tokens;
        Row("fwd  X·Wᵀ [2048,128]·[128,128]ᵀ (q, k, v, out: ×4)", 4 * mac2 * E * E,
            () => { for (int i = 0; i < 4; i++) x.MatMul(wE.T); },
            () => { using var s = torch.NewDisposeScope(); for (int i = 0; i < 4; i++) xt!.matmul(wEt!.t()); }, withPeer);
        // The layer's linears take a bias: one addmm each (F.Linear, torch's linear), the bias in the GEMM's store.
        Tensor bE = Inputs.Randn(18, E);
        TT? bEt = withPeer ? Tt(bE) : null;
        Row("fwd  linear X·Wᵀ + b [2048,128] (q, k, v, out: ×4)", 4 * mac2 * E * E,
            () => { for (int i = 0; i < 4; i++) F.Linear(x, wE, bE); },
            () => { using var s = torch.NewDisposeScope(); for (int i = 0; i < 4; i++) torch.nn.functional.linear(xt!, wEt!, bEt!); }, withPeer);
        Row("fwd  linear1 X·W1ᵀ + b1 [2048,512]", mac2 * E * Ff, () => F.Linear(x, w1, b1),
            () => { using var s = torch.NewDisposeScope(); torch.nn.functional.linear(xt!, w1t!, b1t!); }, withPeer);
        Row("fwd  X·W1ᵀ [2048,128]·[512,128]ᵀ", mac2 * E * Ff, () => x.MatMul(w1.T),
            () => { using var s = torch.NewDisposeScope(); xt!.matmul(w1t!.t()); }, withPeer);
        Row("fwd  H·W2ᵀ [2048,512]·[128,512]ᵀ", mac2 * E * Ff, () => h1.MatMul(w2.T),
            () => { using var s = torch.NewDisposeScope(); h1t!.matmul(w2t!.t()); }, withPeer);
        Row("dX   dY·W [2048,128]·[128,128] (out proj)", mac2 * E * E, () => gE.MatMul(wE),
            () => { using var s = torch.NewDisposeScope(); gEt!.matmul(wEt!); }, withPeer);
        Row("dX   dY·W2 [2048,128]·[128,512]", mac2 * E * Ff, () => gE.MatMul(w2),
            () => { using var s = torch.NewDisposeScope(); gEt!.matmul(w2t!); }, withPeer);
        Row("dX   dH·W1 [2048,512]·[512,128]", mac2 * E * Ff, () => gF.MatMul(w1),
            () => { using var s = torch.NewDisposeScope(); gFt!.matmul(w1t!); }, withPeer);
        Row("dW   dYᵀ·X [128,2048]·[2048,128] (q, k, v, out: ×4)", 4 * mac2 * E * E,
            () => { for (int i = 0; i < 4; i++) gE.T.MatMul(x); },
            () => { using var s = torch.NewDisposeScope(); for (int i = 0; i < 4; i++) gEt!.t().matmul(xt!); }, withPeer);
        Row("dW1  dHᵀ·X [512,2048]·[2048,128]", mac2 * E * Ff, () => gF.T.MatMul(x),
            () => { using var s = torch.NewDisposeScope(); gFt!.t().matmul(xt!); }, withPeer);
        Row("dW2  dYᵀ·H [128,2048]·[2048,512]", mac2 * E * Ff, () => gE.T.MatMul(h1),
            () => { using var s = torch.NewDisposeScope(); gEt!.t().matmul(h1t!); }, withPeer);
        double heads = 2.0 * N * H * L * L * D;
        Row("attn q·kᵀ 128 × [64,32]·[32,64] (head views)", heads, () => q.MatMul(k.Transpose(-2, -1)),
            () => { using var s = torch.NewDisposeScope(); qt!.matmul(kt!.transpose(-2, -1)); }, withPeer);
        Row("attn p·v 128 × [64,64]·[64,32]", heads, () => p.MatMul(v),
            () => { using var s = torch.NewDisposeScope(); pt!.matmul(vt!); }, withPeer);
        Row("attn dP = dO·vᵀ", heads, () => dO.MatMul(v.Transpose(-2, -1)),
            () => { using var s = torch.NewDisposeScope(); dOt!.matmul(vt!.transpose(-2, -1)); }, withPeer);
        Row("attn dV = pᵀ·dO", heads, () => p.Transpose(-2, -1).MatMul(dO),
            () => { using var s = torch.NewDisposeScope(); pt!.transpose(-2, -1).matmul(dOt!); }, withPeer);
        Row("attn dQ = dS·k", heads, () => dP.MatMul(k),
            () => { using var s = torch.NewDisposeScope(); dPt!.matmul(kt!); }, withPeer);
        Row("attn dK = dSᵀ·q", heads, () => dP.Transpose(-2, -1).MatMul(q),
            () => { using var s = torch.NewDisposeScope(); dPt!.transpose(-2, -1).matmul(qt!); }, withPeer);
        Row("scores × 1/√d [32,4,64,64]", 0, () => _ = dP * 0.17677669529663687,
            () => { using var s = torch.NewDisposeScope(); dPt!.mul(0.17677669529663687); }, withPeer);
        Row("softmax fwd [32,4,64,64]", 0, () => dP.Softmax(-1),
            () => { using var s = torch.NewDisposeScope(); dPt!.softmax(-1); }, withPeer);
        Row("softmax fwd+bwd [32,4,64,64]", 0, FwdBwd(dP, z => z.Softmax(-1), dP), FwdBwdT(dPt, z => z.softmax(-1), dPt), withPeer);
        var ln = new Ember.Nn.Layers.LayerNorm(E);
        // TorchSharp's module only where the peer is loaded: making it without the native library throws
        var lnT = withPeer ? torch.nn.LayerNorm(E) : null;
        Row("LayerNorm fwd [32,64,128] (no grad)", 0, () => { using (Torch.NoGrad()) ln.Call(t); },
            () => { using var s = torch.NewDisposeScope(); using var ng = torch.no_grad(); lnT!.forward(tt!); }, withPeer);
        Row("LayerNorm fwd+bwd [32,64,128] (input grad)", 0, FwdBwd(t, z => ln.Call(z), t), FwdBwdT(tt, z => lnT!.forward(z), tt), withPeer);
        Row("bias add [2048,512] + [512]", 0, () => _ = h1 + b1,
            () => { using var s = torch.NewDisposeScope(); h1t!.add(b1t!); }, withPeer);
        Row("bias grad dY.Sum(0) [2048,512]", 0, () => gF.Sum(0),
            () => { using var s = torch.NewDisposeScope(); gFt!.sum(0); }, withPeer);
        Row("ReLU fwd+bwd [2048,512]", 0, FwdBwd(h1, z => F.Relu(z), gF), FwdBwdT(h1t, z => torch.nn.functional.relu(z), gFt), withPeer);
        Row("residual add [32,64,128]", 0, () => _ = t + t,
            () => { using var s = torch.NewDisposeScope(); tt!.add(tt!); }, withPeer);
    }

    // The bench row's step (zero grads, forward, backward), least process CPU time of 40 calls after a warm-up: on a
    // machine loaded by other work the least disturbed call is the closest to the quiet cost (with --threads 1 the process
    // CPU time is the step's own, less the runtime's idle threads).
    static void WholeLayer(int steps)
    {
        Torch.ManualSeed(14);
        var layer = new Ember.Nn.Layers.TransformerEncoderLayer(E, H, Ff, dropout: 0, batchFirst: true);
        Tensor x = Inputs.Randn(1, N, L, E), g = Inputs.Randn(2, N, L, E);
        void Step() { layer.ZeroGrad(); layer.Call(x).Backward(g); }
        for (int i = 0; i < 20; i++) Step();
        double best = double.MaxValue, bestWall = double.MaxValue;
        for (int i = 0; i < steps; i++)
        {
            double cpu0 = ThreadCpuMs();
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            Step();
            bestWall = Math.Min(bestWall, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            best = Math.Min(best, ThreadCpuMs() - cpu0);
        }
        Console.WriteLine($"  whole layer fwd+bwd, least of {steps} calls: calling thread's CPU {best:F2} ms (all of the step at --threads 1), wall {bestWall:F2} ms");
    }

    // CLOCK_THREAD_CPUTIME_ID (Linux): nanosecond thread CPU time; the process total from /proc moves in 10 ms ticks.
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds, Nanoseconds; }

    static double ThreadCpuMs() => ClockGetTime(3, out var t) == 0 ? t.Seconds * 1e3 + t.Nanoseconds * 1e-6 : double.NaN;

    // Forward from a leaf and the backward to it (grad has the output's shape): the backward's cost is this less the forward's row.
    static Action FwdBwd(Tensor input, Func<Tensor, Tensor> op, Tensor grad)
    {
        Tensor leaf = input.Detach();
        leaf.RequiresGrad = true;
        return () =>
        {
            leaf.Grad = null;
            op(leaf).Backward(grad);
        };
    }

    static Action FwdBwdT(TT? input, Func<TT, TT> op, TT? grad)
    {
        if (input is null || grad is null) return () => { };
        TT leaf = input.detach().requires_grad_(true);
        return () =>
        {
            using var s = torch.NewDisposeScope();
            leaf.grad = null;
            op(leaf).backward([grad]);
        };
    }

    static void Row(string label, double flops, Action ember, Action torchAction, bool withPeer)
    {
        var (e, t) = Measure.MedianPair(ember, withPeer ? torchAction : null, reps: 11);
        string torchMs = t is { } tm ? $"{tm.Wall * 1e3,9:F3}" : $"{"",9}";
        string ratio = t is { } tr ? $"{tr.Wall / e.Wall,6:F2}" : $"{"",6}";
        string torchCpu = t is { } tc ? $"{tc.Cpu * 1e3,9:F3}" : $"{"",9}";
        string cpuRatio = t is { } tcr ? $"{tcr.Cpu / e.Cpu,6:F2}" : $"{"",6}";
        // GFLOP per CPU second: the product's rate per busy core.
        string gf = flops > 0 ? $"{flops / e.Cpu / 1e9,8:F0}" : "";
        Console.WriteLine($"  {label,-58} {e.Wall * 1e3,9:F3} {torchMs} {ratio} {e.Cpu * 1e3,9:F3} {torchCpu} {cpuRatio} {gf}");
    }
}
