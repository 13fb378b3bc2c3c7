namespace Ember.Tuning;

/// <summary>One row of the ablation table: a variant and its metrics summarized over the seeds.</summary>
public sealed record AblationRow(AblationVariant Variant, IReadOnlyDictionary<string, MetricSummary> Metrics);
