using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;

namespace Ember.Bench;

/// <summary>
/// The machine's own limits, measured at start-up so that every report states them: the float32 multiply-add peak of a
/// register-only loop at the vector width Ember's kernels use, and the copy bandwidth of a plain vector copy loop.
/// </summary>
/// <remarks>
/// Both are best-of-several short runs: on a shared machine the best run is the one the neighbours disturbed least,
/// and a limit is a best case by definition.
/// </remarks>
public static class MachineLimits
{
    /// <summary>The short name of the SIMD path (AVX-512, AVX2, Vector128), which keys its section of docs/benchmarks.md.</summary>
    public static string SimdPathKey() => GemmDriver.SelectedIsa switch
    {
        GemmIsa.Vector512 => "AVX-512",
        GemmIsa.Vector256 => "AVX2",
        _ => "Vector128",
    };

    /// <summary>The SIMD path the kernels take in this process, as the runtime's ISA switches left it.</summary>
    public static string SimdPath() => GemmDriver.SelectedIsa switch
    {
        GemmIsa.Vector512 => "AVX-512 (Vector512, 512-bit)",
        GemmIsa.Vector256 => "AVX2+FMA (Vector256, 256-bit)",
        _ => Vector128.IsHardwareAccelerated ? "Vector128 (SSE/NEON, 128-bit)" : "scalar (no SIMD)",
    } + $"; switches: {Switches()}";

    // The knobs that select narrower paths on a wider machine: .NET's (it reads DOTNET_EnableAVX512, not ...AVX512F, since
    // .NET 10) and the peer's (bench/run.sh sets them to the same width: ATen's kernels, MKL, oneDNN).
    static string Switches()
    {
        string[] names = ["DOTNET_EnableAVX512", "DOTNET_EnableAVX512F", "DOTNET_EnableAVX2", "DOTNET_EnableAVX", "DOTNET_PreferredVectorBitWidth",
            "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA"];
        var set = new List<string>();
        foreach (string name in names)
            if (Environment.GetEnvironmentVariable(name) is string value) set.Add($"{name}={value}");
        return set.Count == 0 ? "none" : string.Join(" ", set);
    }

    /// <summary>
    /// Single-precision GFLOP/s of an FMA loop on <paramref name="threads"/> threads at once (2 flops per lane per FMA):
    /// the best of <see cref="FmaRounds"/> rounds of about 2.5 ms each.
    /// </summary>
    public static double FmaPeakGflops(int threads) => BestRound(threads, FmaRounds, FmaLoop);

    /// <summary>
    /// The FMA loop of <see cref="FmaPeakGflops"/> held for <paramref name="loops"/> back-to-back 2.5 ms loops on each of
    /// <paramref name="threads"/> threads, in GFLOP per process CPU-second per thread: the rate a core keeps up while it
    /// runs as long as a large GEMM does (under the short-round peak if the clock drops), which time spent descheduled
    /// by neighbours does not lower.
    /// </summary>
    public static double HeldFmaGflopsPerCpuSecond(int threads, int loops)
    {
        double cpu0 = Measure.PreciseProcessCpuSeconds();
        double flops = 0;
        BestRound(threads, 1, t =>
        {
            double done = 0;
            for (int i = 0; i < loops; i++) done += FmaLoop(t);
            lock (Gate) flops += done;
            return done;
        });
        return flops / (Measure.PreciseProcessCpuSeconds() - cpu0) / 1e9;
    }

    static readonly object Gate = new();

    // Many short rounds, not a few long ones: on a machine shared with other work a round is only good if neither core was
    // taken during it, and short rounds are more often untouched. With five rounds of 7 ms, quiet runs of one night read
    // 191 and 254 GFLOP/s for the 2-thread AVX2 peak (131 on 1 thread), so the figure said more about the neighbours.
    const int FmaRounds = 40;

    /// <summary>
    /// Copy bandwidth in GB/s (bytes read plus bytes written, per second) of a vector loop copying <paramref name="bytes"/>
    /// between two buffers, split over <paramref name="threads"/> threads.
    /// </summary>
    public static double CopyBandwidthGBps(long bytes, int threads)
    {
        int count = (int)(bytes / sizeof(float));
        float[] src = GC.AllocateUninitializedArray<float>(count, pinned: true);
        float[] dst = GC.AllocateUninitializedArray<float>(count, pinned: true);
        src.AsSpan().Fill(1f);
        dst.AsSpan().Clear();
        return BestRound(threads, 5, t => CopyPart(src, dst, t, threads));
    }

    /// <summary>The last-level cache in bytes from /sys (index3, else the largest index), or 32 MiB when unreadable.</summary>
    public static long LastLevelCacheBytes()
    {
        long largest = 0;
        for (int i = 0; i < 8; i++)
        {
            string path = $"/sys/devices/system/cpu/cpu0/cache/index{i}/size";
            try { if (File.Exists(path)) largest = Math.Max(largest, ParseSize(File.ReadAllText(path))); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return largest > 0 ? largest : 32L << 20;
    }

    static long ParseSize(string text)
    {
        text = text.Trim();
        long scale = text.EndsWith('K') ? 1024 : text.EndsWith('M') ? 1 << 20 : 1;
        return long.TryParse(text.TrimEnd('K', 'M'), out long v) ? v * scale : 0;
    }

    /// <summary>The bench header's limits line: the SIMD path, the FMA peak per core and on all threads, and copy bandwidths.</summary>
    public static string Describe(int threads)
    {
        double one = FmaPeakGflops(1), all = threads > 1 ? FmaPeakGflops(threads) : one;
        // All threads below 0.9× the sum of single ones means no round had every core to itself (the cores are separate
        // here: 2 threads read 1.9-2.0× one on this machine whenever the rounds were undisturbed): measure again, at most
        // three more times, keeping the best.
        for (int retry = 0; retry < 3 && all < 0.9 * threads * one; retry++)
            all = Math.Max(all, FmaPeakGflops(threads));
        // 16 MiB per buffer: the large elementwise rows (4M floats); beyond the last-level cache: memory itself.
        double l3 = CopyBandwidthGBps(16L << 20, threads);
        long big = Math.Clamp(2 * LastLevelCacheBytes(), 64L << 20, 512L << 20);
        double ram = CopyBandwidthGBps(big, threads);
        return $"SIMD path: {SimdPath()}. FP32 FMA peak (register-only loop at this width): {one:F0} GFLOP/s on 1 thread, {all:F0} on {threads}. "
            + $"Copy bandwidth (read + write, {threads} threads): {l3:F0} GB/s at 2×16 MiB, {ram:F0} GB/s at 2×{big >> 20} MiB";
    }

    // Runs body(t) on `threads` threads at once, `rounds` times; returns the best round's total work / its span from the
    // first thread's start to the last thread's end (units per second · 1e-9). Two things made the 2-thread FMA peak read
    // as the 1-thread one (221 and 226 GFLOP/s, AVX-512, while both GEMMs passed 300 on 2 threads): the threads were
    // released by an event, so a thread that the scheduler had not yet run started after the other had finished its loop
    // (both ran on one core, measured with their processor ids), and the peer's libgomp workers, left spinning by
    // TorchPeer's set-up, held the second core. So the rounds start after a sleep (libgomp parks its workers after its
    // spin count), each thread is pinned to a CPU of its own (as Ember's workers are), and the threads meet at a spinning
    // barrier before every round, so no round's timed work starts until all threads are running on their own cores. The
    // same threads run every round: a new thread per round would pay its start-up and placement again each time.
    static double BestRound(int threads, int rounds, Func<int, double> body)
    {
        Thread.Sleep(30);
        var work = new double[rounds, threads];
        var starts = new long[rounds, threads];
        var ends = new long[rounds, threads];
        int arrived = 0;
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                ThreadAffinity.TryPinCurrentThread(id);
                for (int r = 0; r < rounds; r++)
                {
                    Interlocked.Increment(ref arrived);
                    while (Volatile.Read(ref arrived) < threads * (r + 1)) Thread.SpinWait(16);
                    starts[r, id] = Stopwatch.GetTimestamp();
                    work[r, id] = body(id);
                    ends[r, id] = Stopwatch.GetTimestamp();
                }
            });
            workers[t].Start();
        }
        foreach (Thread w in workers) w.Join();
        double best = 0;
        for (int r = 0; r < rounds; r++)
        {
            long first = long.MaxValue, last = long.MinValue;
            double total = 0;
            for (int t = 0; t < threads; t++)
            {
                first = Math.Min(first, starts[r, t]);
                last = Math.Max(last, ends[r, t]);
                total += work[r, t];
            }
            best = Math.Max(best, total / ((double)(last - first) / Stopwatch.Frequency) / 1e9);
        }
        return best;
    }

    // Returns flops done. Ten independent accumulators cover the FMA latency (4–5 cycles) on two ports. About 2.5 ms a
    // round at 4 GHz (10M cycles): long against the barrier's skew (microseconds), short against a scheduler tick.
    static double FmaLoop(int _)
    {
        const int Iterations = 2_000_000;
        if (Vector512.IsHardwareAccelerated && GemmDriver.SelectedIsa == GemmIsa.Vector512)
            return Fma512(Iterations) * 10.0 * 2 * Vector512<float>.Count * Iterations;
        if (Vector256.IsHardwareAccelerated && GemmDriver.SelectedIsa == GemmIsa.Vector256)
            return Fma256(Iterations) * 10.0 * 2 * Vector256<float>.Count * Iterations;
        return Fma128(Iterations) * 10.0 * 2 * Vector128<float>.Count * Iterations;
    }

    // The sums are returned (as 1 when finite) so the loop cannot be removed.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static int Fma512(int n)
    {
        Vector512<float> x = Vector512.Create(0.999999f), y = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
        for (int i = 0; i < n; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y);
            a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
            a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y);
            a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
            a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y);
        }
        float s = Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9);
        return float.IsFinite(s) ? 1 : 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static int Fma256(int n)
    {
        Vector256<float> x = Vector256.Create(0.999999f), y = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
        for (int i = 0; i < n; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y);
            a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
            a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y);
            a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
            a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y);
        }
        float s = Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9);
        return float.IsFinite(s) ? 1 : 0;
    }

    // MultiplyAddEstimate: fused where the hardware has FMA (ARM64, x64 with FMA), multiply then add otherwise — what the
    // Vector128 GEMM kernel does, so the peak is that kernel's.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static int Fma128(int n)
    {
        Vector128<float> x = Vector128.Create(0.999999f), y = Vector128.Create(1e-7f);
        Vector128<float> a0 = Vector128.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
        for (int i = 0; i < n; i++)
        {
            a0 = Vector128.MultiplyAddEstimate(a0, x, y); a1 = Vector128.MultiplyAddEstimate(a1, x, y);
            a2 = Vector128.MultiplyAddEstimate(a2, x, y); a3 = Vector128.MultiplyAddEstimate(a3, x, y);
            a4 = Vector128.MultiplyAddEstimate(a4, x, y); a5 = Vector128.MultiplyAddEstimate(a5, x, y);
            a6 = Vector128.MultiplyAddEstimate(a6, x, y); a7 = Vector128.MultiplyAddEstimate(a7, x, y);
            a8 = Vector128.MultiplyAddEstimate(a8, x, y); a9 = Vector128.MultiplyAddEstimate(a9, x, y);
        }
        float s = Vector128.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9);
        return float.IsFinite(s) ? 1 : 0;
    }

    // Copies thread t's share of src to dst a few times; returns bytes moved (read + written).
    static double CopyPart(float[] src, float[] dst, int t, int threads)
    {
        int width = Vector256.IsHardwareAccelerated ? Vector256<float>.Count : Vector128<float>.Count;
        int per = src.Length / threads / width * width;
        int start = t * per;
        const int Passes = 3;
        for (int pass = 0; pass < Passes; pass++) CopyVectors(src, dst, start, per);
        return (double)Passes * 2 * per * sizeof(float);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    static unsafe void CopyVectors(float[] src, float[] dst, int start, int count)
    {
        fixed (float* s0 = &src[start], d0 = &dst[start])
        {
            float* s = s0, d = d0;
            if (Vector512.IsHardwareAccelerated && GemmDriver.SelectedIsa == GemmIsa.Vector512)
                for (int i = 0; i + 16 <= count; i += 16) Vector512.Store(Vector512.Load(s + i), d + i);
            else if (Vector256.IsHardwareAccelerated)
                for (int i = 0; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(s + i), d + i);
            else
                for (int i = 0; i + 4 <= count; i += 4) Vector128.Store(Vector128.Load(s + i), d + i);
        }
    }
}
