using Ember.Bench.Peers;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>
/// The peer's float32 matmul alone (torch.matmul on square sizes), GFLOP/s on 1 and 2 threads, under whatever ISA limits
/// the environment sets (MKL_ENABLE_INSTRUCTIONS, MKL_CBWR, ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY...): run it once per
/// candidate setting to find which, if any, holds libtorch's GEMM to a vector width (issue 21). A width-limited GEMM
/// cannot pass that width's FMA peak, which the header states. Usage: <c>peer-gemm [--sizes 512,2048]</c>.
/// </summary>
public sealed class PeerGemmWorkload : IWorkload
{
    public string Name => "peer-gemm";

    public string Description => "TorchSharp's float32 matmul GFLOP/s alone, 1 and 2 threads, under the environment's ISA limits [--sizes 512,2048]";

    static readonly string[] Knobs =
        ["MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR", "MKL_DEBUG_CPU_TYPE", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY"];

    public int Run(string[] args)
    {
        int at = Array.IndexOf(args, "--sizes");
        int[] sizes = at >= 0 && at + 1 < args.Length ? Array.ConvertAll(args[at + 1].Split(','), int.Parse) : [512, 2048];
        if (!TorchPeer.TryInitialize(2))
        {
            Console.Error.WriteLine(TorchPeer.Problem);
            return 1;
        }
        Console.WriteLine(MachineLimits.Describe(2));
        string set = string.Join(" ", Knobs.Where(k => Environment.GetEnvironmentVariable(k) is not null).Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}"));
        Console.WriteLine($"{TorchPeer.Description}; peer switches: {(set.Length == 0 ? "none" : set)}; load average {Machine.LoadAverage()}");
        foreach (int n in sizes)
        {
            var a = Inputs.TorchRandn(1, n, n);
            var b = Inputs.TorchRandn(2, n, n);
            double flops = 2.0 * n * n * n;
            foreach (int threads in new[] { 1, 2 })
            {
                torch.set_num_threads(threads);
                for (int i = 0; i < 2; i++) { using var c = a.matmul(b); }
                // Process CPU time as well as wall time: on a shared machine the wall time counts the waits for a core,
                // and GFLOP per CPU-second on one thread is the core's own rate, which a 128-bit GEMM cannot raise past
                // the 128-bit FMA peak per core.
                const int Calls = 5;
                using var process = System.Diagnostics.Process.GetCurrentProcess();
                TimeSpan cpu0 = process.TotalProcessorTime;
                var sw = System.Diagnostics.Stopwatch.StartNew();
                for (int i = 0; i < Calls; i++) { using var c = a.matmul(b); }
                double wall = sw.Elapsed.TotalSeconds / Calls;
                process.Refresh();
                double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds / Calls;
                Console.WriteLine($"torch.matmul {n}², {threads} thread{(threads == 1 ? "" : "s")}: {flops / wall / 1e9,6:F0} GFLOP/s wall ({wall * 1e3:F1} ms), {flops / cpu / 1e9,6:F0} GFLOP per CPU-second ({cpu * 1e3:F1} CPU ms), mean of {Calls}");
            }
        }
        torch.set_num_threads(2);
        return 0;
    }
}
