namespace Ember.Analysis;

/// <summary>One parameter's gradient at one step.</summary>
/// <param name="Name">Dotted parameter name (<c>layers.0.weight</c>).</param>
/// <param name="GradNorm">‖grad‖₂ (NaN when the parameter had no gradient).</param>
/// <param name="WeightNorm">‖weight‖₂.</param>
public sealed record LayerGradient(string Name, double GradNorm, double WeightNorm)
{
    /// <summary>‖grad‖ / ‖weight‖: the relative size of an SGD step per unit learning rate.</summary>
    public double Ratio => WeightNorm == 0 ? double.PositiveInfinity : GradNorm / WeightNorm;
}
