namespace Ember.Metrics;

/// <summary>How per-class scores combine (sklearn's average=).</summary>
public enum Average
{
    /// <summary>Unweighted mean over classes.</summary>
    Macro,
    /// <summary>From the pooled counts of all classes.</summary>
    Micro,
    /// <summary>Mean weighted by each class's support.</summary>
    Weighted,
}
