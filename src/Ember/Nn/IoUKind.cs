namespace Ember.Nn;

/// <summary>Which overlap measure <see cref="Boxes.MatchedIou"/> and IoULoss compute.</summary>
public enum IoUKind
{
    /// <summary>Intersection over union.</summary>
    IoU,
    /// <summary>Generalized IoU: IoU − (enclosing area − union) / enclosing area.</summary>
    GIoU,
    /// <summary>Distance IoU: IoU − ρ²/c² (centre distance over the enclosing diagonal, squared).</summary>
    DIoU,
    /// <summary>Complete IoU: DIoU − α·v with the aspect-ratio term v = 4/π²·(atan(w₂/h₂) − atan(w₁/h₁))².</summary>
    CIoU,
}
