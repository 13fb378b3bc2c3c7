namespace Ember.Analysis;

/// <summary>The second-order classification of a critical point from the Hessian's eigenvalues (notes 002).</summary>
public enum CriticalPointKind
{
    /// <summary>All eigenvalues positive: a local minimum.</summary>
    Minimum,
    /// <summary>All eigenvalues negative: a local maximum.</summary>
    Maximum,
    /// <summary>Eigenvalues of both signs: a saddle point.</summary>
    Saddle,
    /// <summary>Some eigenvalue is (numerically) zero and no two have opposite signs: the second-order test is inconclusive.</summary>
    Degenerate,
}
