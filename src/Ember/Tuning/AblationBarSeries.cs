namespace Ember.Tuning;

/// <summary>
/// The data of one ablation bar plot: a bar per variant (mean of <see cref="Metric"/>) with a ±std error bar.
/// </summary>
public sealed record AblationBarSeries(string Metric, string[] Labels, double[] Means, double[] Stds, double[] Deltas);
