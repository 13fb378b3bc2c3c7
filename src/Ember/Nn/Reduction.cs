namespace Ember.Nn;

/// <summary>How a loss reduces its per-element values (PyTorch's reduction='none' | 'mean' | 'sum').</summary>
public enum Reduction
{
    /// <summary>Keep per-element losses.</summary>
    None,
    /// <summary>Average (the default).</summary>
    Mean,
    /// <summary>Sum.</summary>
    Sum,
}
