using System.Text;

namespace Ember.Analysis;

/// <summary>
/// A device-memory estimate in bytes, by component (see <see cref="MemoryEstimator.Estimate"/>). Framework overhead
/// (CUDA context, allocator fragmentation, workspace buffers) is not included; the utilization margin stands for it.
/// </summary>
/// <param name="BatchSize">Samples per batch.</param>
/// <param name="Training">True when activations, gradients and optimizer state are kept.</param>
/// <param name="Precision">Element format.</param>
/// <param name="Parameters">Model weights.</param>
/// <param name="Gradients">One gradient per parameter (training only).</param>
/// <param name="OptimizerState">Momentum/moment buffers (training only).</param>
/// <param name="Activations">Layer outputs: all of them in training (kept for backward), the largest input+output pair in inference.</param>
/// <param name="Input">The input batch.</param>
/// <param name="Utilization">Target fraction of device memory in use (the notes use 0.8).</param>
public sealed record MemoryEstimate(int BatchSize, bool Training, StoragePrecision Precision, long Parameters, long Gradients, long OptimizerState,
    long Activations, long Input, double Utilization)
{
    /// <summary>Sum of the components.</summary>
    public long Total => Parameters + Gradients + OptimizerState + Activations + Input;

    /// <summary>Total / utilization: the device memory to ask for.</summary>
    public long Recommended => (long)Math.Ceiling(Total / Utilization);

    /// <summary>The smallest device in <see cref="DeviceTable.Known"/> with at least <see cref="Recommended"/> bytes, or null if none has.</summary>
    public DeviceSpec? RecommendedDevice => DeviceTable.Known.Where(d => d.MemoryBytes >= Recommended).OrderBy(d => d.MemoryBytes).ThenByDescending(d => d.Fp32Tflops).FirstOrDefault();

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{(Training ? "Training" : "Inference")}, batch {BatchSize}, {Precision}:");
        sb.AppendLine($"  parameters       {Units.FormatBytes(Parameters),12}");
        if (Training)
        {
            sb.AppendLine($"  gradients        {Units.FormatBytes(Gradients),12}");
            sb.AppendLine($"  optimizer state  {Units.FormatBytes(OptimizerState),12}");
        }
        sb.AppendLine($"  activations      {Units.FormatBytes(Activations),12}");
        sb.AppendLine($"  input            {Units.FormatBytes(Input),12}");
        sb.AppendLine($"  total            {Units.FormatBytes(Total),12}");
        sb.Append($"  recommended      {Units.FormatBytes(Recommended),12} (total / {Utilization:0.##} utilization)");
        if (RecommendedDevice is { } d) sb.Append($"; smallest listed device: {d.Name} ({d.MemoryGB:0.#} GB)");
        return sb.ToString();
    }
}
