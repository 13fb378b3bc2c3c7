namespace Ember.Detection.Model;

/// <summary>
/// Settings of <see cref="NonMaxSuppression"/>; the defaults are YOLOv5's non_max_suppression (detect.py's). val.py
/// uses <see cref="ForValidation"/>: confidence 0.001, IoU 0.6, multi-label.
/// </summary>
public sealed record NmsOptions
{
    /// <summary>Candidates need objectness and then obj·cls above this (0.25).</summary>
    public double ConfidenceThreshold { get; init; } = 0.25;

    /// <summary>A box is suppressed by a higher-scoring one of the same class when their IoU is above this (0.45).</summary>
    public double IouThreshold { get; init; } = 0.45;

    /// <summary>Most detections kept per image (300).</summary>
    public int MaxDetections { get; init; } = 300;

    /// <summary>Most candidates that enter NMS, the highest-scoring ones (30000).</summary>
    public int MaxCandidates { get; init; } = 30000;

    /// <summary>One candidate per class above the threshold (val.py) instead of only the best class; ignored with one class.</summary>
    public bool MultiLabel { get; init; }

    /// <summary>Suppress across classes.</summary>
    public bool Agnostic { get; init; }

    /// <summary>Keep only these classes (null = all).</summary>
    public IReadOnlyList<int>? Classes { get; init; }

    /// <summary>val.py's settings: confidence 0.001, IoU 0.6, multi-label, 300 detections.</summary>
    public static NmsOptions ForValidation { get; } = new() { ConfidenceThreshold = 0.001, IouThreshold = 0.6, MultiLabel = true };
}
