namespace Ember.Optim.Schedulers;

/// <summary>How <see cref="ReduceLROnPlateau"/> decides that a metric improved on the best value.</summary>
public enum ThresholdMode
{
    /// <summary>Relative: better than best·(1 ∓ threshold).</summary>
    Rel,
    /// <summary>Absolute: better than best ∓ threshold.</summary>
    Abs,
}
