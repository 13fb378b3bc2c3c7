using System.Diagnostics;

namespace Ember.Analysis;

/// <summary>
/// The notes' table of NVIDIA GPUs (FP32 TFLOPS and memory, notes 001) and a measured figure for this machine.
/// Where the notes give a range "depending on precision" the FP32 figure is the upper end (the lower is FP64).
/// </summary>
public static class DeviceTable
{
    /// <summary>The notes' devices, as listed there.</summary>
    public static IReadOnlyList<DeviceSpec> Known { get; } =
    [
        new("NVIDIA A100", 19.5, 80, "notes 001"),
        new("NVIDIA GeForce RTX 3090 Ti", 36.45, 24, "notes 001"),
        new("NVIDIA GeForce RTX 3090", 35.7, 24, "notes 001 (FP32; memory not listed there, 24 GB per NVIDIA)"),
        new("NVIDIA GeForce GTX 1080 Ti", 11.34, 11, "notes 001"),
        new("NVIDIA GeForce RTX 2080 Ti", 14.2, 11, "notes 001"),
        new("NVIDIA Tesla V100", 15.7, 16, "notes 001: 7.5–15.7 TFLOPS depending on precision"),
        new("NVIDIA Tesla P100", 9.3, 16, "notes 001: 4.7–9.3 TFLOPS depending on precision"),
        new("NVIDIA Tesla T4", 8.1, 16, "notes 001"),
        new("NVIDIA Quadro RTX 6000", 16.3, 24, "notes 001"),
    ];

    /// <summary>A device by (case-insensitive) substring of its name, e.g. "A100", "3090 Ti", "T4".</summary>
    public static DeviceSpec Find(string name)
    {
        var hits = Known.Where(d => d.Name.Contains(name, StringComparison.OrdinalIgnoreCase)).ToList();
        // "3090" matches the Ti too: prefer the exact tail.
        var exact = hits.FirstOrDefault(d => d.Name.EndsWith(name, StringComparison.OrdinalIgnoreCase));
        return exact ?? hits.FirstOrDefault()
            ?? throw new ArgumentException($"DeviceTable: no device matches '{name}'; known: {string.Join(", ", Known.Select(d => d.Name))}");
    }

    /// <summary>
    /// This machine, measured: the best of a few float32 n×n matrix products (2n³ operations each) through Ember's GEMM.
    /// Memory is what the runtime reports as available to it.
    /// </summary>
    public static DeviceSpec MeasureThisMachine(int n = 384, int repeats = 5)
    {
        var a = Torch.Randn([n, n], generator: new Generator(1));
        var b = Torch.Randn([n, n], generator: new Generator(2));
        using (Torch.NoGrad())
        {
            a.MatMul(b); // warm-up: JIT and packing buffers
            double best = double.MaxValue;
            for (int i = 0; i < repeats; i++)
            {
                var sw = Stopwatch.StartNew();
                a.MatMul(b);
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            double flops = 2.0 * n * n * n / best;
            double memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9;
            return new DeviceSpec($"This machine (CPU, {Environment.ProcessorCount} threads)", flops / 1e12, memory, $"measured: {n}×{n} float32 matmul");
        }
    }
}
