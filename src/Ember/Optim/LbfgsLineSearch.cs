namespace Ember.Optim;

/// <summary>The line search of <see cref="Lbfgs"/> (PyTorch's line_search_fn).</summary>
public enum LbfgsLineSearch
{
    /// <summary>No line search: a fixed step of lr (line_search_fn=None).</summary>
    None,
    /// <summary>A line search satisfying the strong Wolfe conditions, c₁ = 1e-4, c₂ = 0.9 ("strong_wolfe").</summary>
    StrongWolfe,
}
