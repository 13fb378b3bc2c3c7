namespace Ember.Analysis;

/// <summary>How much per-parameter state an optimizer keeps, for memory estimates.</summary>
public enum OptimizerKind
{
    /// <summary>Plain SGD: no state beyond the gradient.</summary>
    Sgd,
    /// <summary>SGD with momentum: one buffer per parameter.</summary>
    SgdMomentum,
    /// <summary>Adam/AdamW: first and second moments, two buffers per parameter.</summary>
    Adam,
}
