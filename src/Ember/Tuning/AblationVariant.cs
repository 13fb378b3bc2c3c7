namespace Ember.Tuning;

/// <summary>One row of an ablation study: the baseline with some components switched on.</summary>
/// <param name="Name">The row label, baseline name and components joined by '+' ("A", "A+B", "A+B+C").</param>
/// <param name="Components">The components switched on, in their declared order (empty for the baseline).</param>
/// <param name="IsFull">Whether every component is on (the final model).</param>
public sealed record AblationVariant(string Name, IReadOnlyList<string> Components, bool IsFull)
{
    /// <summary>Whether this is the baseline (no component on).</summary>
    public bool IsBaseline => Components.Count == 0;
}
