namespace Ember.Analysis;

/// <summary>A parameter's gradient statistics over the recorded steps.</summary>
/// <param name="Name">Dotted parameter name.</param>
/// <param name="MeanGradNorm">Mean ‖grad‖ over steps with a gradient.</param>
/// <param name="MeanRatio">Mean ‖grad‖/‖weight‖.</param>
/// <param name="MinRatio">Smallest ratio seen.</param>
/// <param name="MaxRatio">Largest ratio seen.</param>
/// <param name="Flag">Vanishing, exploding, missing or ok (from the mean ratio; any non-finite gradient is exploding).</param>
public sealed record LayerGradientSummary(string Name, double MeanGradNorm, double MeanRatio, double MinRatio, double MaxRatio, GradientFlag Flag);
