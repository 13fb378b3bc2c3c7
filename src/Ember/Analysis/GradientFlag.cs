namespace Ember.Analysis;

/// <summary>The health of a layer's gradient in a <see cref="GradientReport"/>.</summary>
public enum GradientFlag
{
    /// <summary>Within the thresholds.</summary>
    Ok,
    /// <summary>‖grad‖/‖weight‖ below the vanishing threshold: the layer barely learns.</summary>
    Vanishing,
    /// <summary>‖grad‖/‖weight‖ above the exploding threshold, or a non-finite gradient.</summary>
    Exploding,
    /// <summary>No gradient was recorded (unused parameter, or frozen).</summary>
    Missing,
}
