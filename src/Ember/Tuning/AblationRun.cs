namespace Ember.Tuning;

/// <summary>One training run of an ablation study: a variant with one seed, and the metrics it reported.</summary>
public sealed record AblationRun(AblationVariant Variant, long Seed, IReadOnlyDictionary<string, double> Metrics);
