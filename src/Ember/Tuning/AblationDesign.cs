namespace Ember.Tuning;

/// <summary>Which combinations of components an ablation study runs; the baseline always runs.</summary>
[Flags]
public enum AblationDesign
{
    /// <summary>Each component alone on top of the baseline (A+B, A+C, …).</summary>
    Singles = 1,
    /// <summary>All components together (A+B+C, the final model).</summary>
    Full = 2,
    /// <summary>Every subset of the components (2^n variants, n ≤ 16).</summary>
    AllSubsets = 4,
    /// <summary>The full model minus one component, for each component.</summary>
    LeaveOneOut = 8,
    /// <summary>The notes' table: baseline, each component alone, and the full combination.</summary>
    Default = Singles | Full,
}
