namespace Ember.Tuning;

/// <summary>A metric of one ablation variant over its seeds.</summary>
/// <param name="Mean">Mean over the seeds.</param>
/// <param name="Std">Sample standard deviation over the seeds (n − 1 in the denominator, as torch.std); NaN for one seed.</param>
/// <param name="Delta">Mean minus the baseline's mean (0 for the baseline).</param>
/// <param name="Values">The per-seed values, in seed order.</param>
public sealed record MetricSummary(double Mean, double Std, double Delta, IReadOnlyList<double> Values);
