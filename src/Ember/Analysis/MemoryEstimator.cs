namespace Ember.Analysis;

/// <summary>
/// Device-memory sizing. The notes' rule (001): memory = (input + output + parameters) × bytes per element / 0.8
/// utilization for the largest batch. The fuller estimate adds what training keeps: every layer's activations for
/// backward, one gradient per parameter and the optimizer's state (momentum one copy, Adam two).
/// </summary>
public static class MemoryEstimator
{
    /// <summary>The notes' target memory utilization.</summary>
    public const double DefaultUtilization = 0.8;

    /// <summary>Bytes per element: 4 for float32, 2 for float16 and bfloat16, 8 for float64.</summary>
    public static int BytesPerElement(StoragePrecision precision) => precision switch
    {
        StoragePrecision.Float32 => 4,
        StoragePrecision.Float16 or StoragePrecision.BFloat16 => 2,
        StoragePrecision.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "MemoryEstimator: unknown precision"),
    };

    /// <summary>Bytes of a dense tensor of <paramref name="shape"/> (notes 003: 1000×1000 float32 = 4 MB).</summary>
    public static long TensorBytes(int[] shape, StoragePrecision precision = StoragePrecision.Float32)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"MemoryEstimator.TensorBytes: negative dimension in shape [{string.Join(", ", shape)}]");
            n *= d;
        }
        return n * BytesPerElement(precision);
    }

    /// <summary>Optimizer state copies per parameter: SGD 0, SGD with momentum 1, Adam 2.</summary>
    public static int StateCopies(OptimizerKind optimizer) => optimizer switch
    {
        OptimizerKind.Sgd => 0,
        OptimizerKind.SgdMomentum => 1,
        OptimizerKind.Adam => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(optimizer), optimizer, "MemoryEstimator: unknown optimizer"),
    };

    /// <summary>
    /// The notes' rule: (batch·input elements + batch·output elements + parameters) × bytes / utilization, in bytes.
    /// <paramref name="inputElements"/> and <paramref name="outputElements"/> are per sample.
    /// </summary>
    public static double NotesRule(long inputElements, long outputElements, long parameters, int batchSize,
        StoragePrecision precision = StoragePrecision.Float32, double utilization = DefaultUtilization)
    {
        CheckBatch(batchSize, utilization, nameof(NotesRule));
        return (double)(batchSize * inputElements + batchSize * outputElements + parameters) * BytesPerElement(precision) / utilization;
    }

    /// <summary>
    /// A fuller estimate from a profile (whose input's first dimension is the batch it was run at): parameters; in
    /// training also gradients, optimizer state and every counted layer's output kept for backward; in inference only
    /// the largest layer input+output alive at once. Activations scale linearly with the batch.
    /// Optimizer state is taken in the same precision (mixed-precision training usually keeps float32 master copies:
    /// estimate that with <see cref="StoragePrecision.Float32"/>).
    /// </summary>
    public static MemoryEstimate Estimate(ProfileReport report, int batchSize, bool training, StoragePrecision precision = StoragePrecision.Float32,
        OptimizerKind optimizer = OptimizerKind.Adam, double utilization = DefaultUtilization)
    {
        ArgumentNullException.ThrowIfNull(report);
        CheckBatch(batchSize, utilization, nameof(Estimate));
        int b = BytesPerElement(precision);
        long profiledBatch = report.InputShape.Rank > 0 && report.InputShape[0] > 0 ? report.InputShape[0] : 1;
        long inputPerSample = report.InputShape.NumEl / profiledBatch;
        long activationsPerSample;
        if (training) activationsPerSample = report.ActivationElements / profiledBatch;
        else
        {
            // Inference frees each output once the next layer has consumed it: the peak is one layer's input and output.
            long peak = 0, previous = inputPerSample;
            foreach (var l in report.Layers)
            {
                long current = l.OutputShape.NumEl / profiledBatch;
                peak = Math.Max(peak, previous + current);
                previous = current;
            }
            activationsPerSample = peak;
        }
        long p = report.TotalParameters * b;
        return new MemoryEstimate(batchSize, training, precision,
            Parameters: p,
            Gradients: training ? p : 0,
            OptimizerState: training ? StateCopies(optimizer) * p : 0,
            Activations: activationsPerSample * batchSize * b,
            Input: inputPerSample * batchSize * b,
            Utilization: utilization);
    }

    static void CheckBatch(int batchSize, double utilization, string op)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"MemoryEstimator.{op}: batch size must be positive, got {batchSize}");
        if (!(utilization > 0 && utilization <= 1)) throw new ArgumentOutOfRangeException(nameof(utilization), utilization, $"MemoryEstimator.{op}: utilization must be in (0, 1], got {utilization}");
    }
}
