namespace Ember.Analysis;

/// <summary>The result of <see cref="Profiler.Profile"/>: per-layer rows and totals, as data.</summary>
/// <param name="ModelType">The profiled model's class name.</param>
/// <param name="InputShape">Shape of the input used.</param>
/// <param name="Layers">One row per counted module invocation, in execution order.</param>
/// <param name="TotalMacs">Sum of the rows' MACs (thop's total_ops).</param>
/// <param name="TotalParameters">All parameter elements of the model (thop's params), including those outside leaves.</param>
/// <param name="Convention">The convention tables show.</param>
/// <param name="UncountedTypes">Module types that ran but have no counting rule (thop's "[WARN] Cannot find rule"); they count 0.</param>
public sealed record ProfileReport(string ModelType, Shape InputShape, IReadOnlyList<LayerProfile> Layers, long TotalMacs, long TotalParameters,
    OpsConvention Convention, IReadOnlyList<string> UncountedTypes)
{
    /// <summary>Total operations by the 2 × MACs convention.</summary>
    public long TotalFlops => 2 * TotalMacs;

    /// <summary>The total in the shown convention.</summary>
    public long TotalOps => Convention == OpsConvention.Macs ? TotalMacs : TotalFlops;

    /// <summary>Sum of output elements of all rows: the activations a training pass keeps (an upper bound: in-place layers share storage).</summary>
    public long ActivationElements => Layers.Sum(l => (long)l.OutputShape.NumEl);

    /// <summary>Output elements of the final layer.</summary>
    public long OutputElements => Layers.Count == 0 ? 0 : Layers[^1].OutputShape.NumEl;
}
