namespace Ember.Analysis;

/// <summary>A compute device's peak FP32 throughput and memory (the notes' GPU table, or this machine measured).</summary>
/// <param name="Name">Device name.</param>
/// <param name="Fp32Tflops">Peak FP32 FLOPS in tera-FLOPS (10¹² operations per second).</param>
/// <param name="MemoryGB">Device memory in GB (10⁹ bytes, as vendors quote it).</param>
/// <param name="Note">Where the figures come from.</param>
public sealed record DeviceSpec(string Name, double Fp32Tflops, double MemoryGB, string Note = "")
{
    /// <summary>Memory in bytes.</summary>
    public long MemoryBytes => (long)(MemoryGB * 1e9);

    /// <summary>Peak operations per second.</summary>
    public double FlopsPerSecond => Fp32Tflops * 1e12;
}
