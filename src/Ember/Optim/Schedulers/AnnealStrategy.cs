namespace Ember.Optim.Schedulers;

/// <summary>How <see cref="OneCycleLR"/> moves between its phase end points.</summary>
public enum AnnealStrategy
{
    /// <summary>Half-cosine: end + (start − end)(1 + cos(π·pct))/2.</summary>
    Cos,
    /// <summary>Straight line: start + (end − start)·pct.</summary>
    Linear,
}
