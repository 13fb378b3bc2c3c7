namespace Ember.Metrics;

/// <summary>A streaming metric: updated per batch, computed at the end, reset between epochs.</summary>
public interface IMetric
{
    /// <summary>Adds one batch: model outputs (logits or scores) and targets.</summary>
    void Update(Tensor output, Tensor target);
    /// <summary>Clears the accumulated state.</summary>
    void Reset();
}
