namespace Ember.Detection.Metrics;

/// <summary>
/// Validation metrics as YOLOv5's val.py reports them. Per-class arrays follow <see cref="Classes"/> (the classes that
/// have labels, ascending); precision, recall and F1 are taken at the confidence where the smoothed mean F1 over classes
/// peaks (<see cref="Confidence"/>).
/// </summary>
public sealed record DetectionResults
{
    /// <summary>Classes with at least one label, ascending.</summary>
    public required int[] Classes { get; init; }
    /// <summary>Labels per class.</summary>
    public required int[] LabelCounts { get; init; }
    /// <summary>AP per class and IoU threshold, [class][threshold].</summary>
    public required double[][] Ap { get; init; }
    /// <summary>Precision per class at the max-F1 confidence.</summary>
    public required double[] Precision { get; init; }
    /// <summary>Recall per class at the max-F1 confidence.</summary>
    public required double[] Recall { get; init; }
    /// <summary>F1 per class at the max-F1 confidence.</summary>
    public required double[] F1 { get; init; }
    /// <summary>The confidence (of 1000 between 0 and 1) where the smoothed mean F1 peaks.</summary>
    public required double Confidence { get; init; }
    /// <summary>Precision curves per class over the 1000 confidences (px), for a PR plot with <see cref="RecallCurve"/>.</summary>
    public required double[][] PrecisionCurve { get; init; }
    /// <summary>Recall curves per class over the 1000 confidences.</summary>
    public required double[][] RecallCurve { get; init; }

    /// <summary>AP@0.5 per class.</summary>
    public double[] Ap50 => [.. Ap.Select(a => a.Length > 0 ? a[0] : 0)];
    /// <summary>AP@0.5:0.95 per class (mean over the thresholds).</summary>
    public double[] Ap50To95 => [.. Ap.Select(a => a.Length > 0 ? a.Average() : 0)];
    /// <summary>Mean precision over classes.</summary>
    public double MeanPrecision => Precision.Length > 0 ? Precision.Average() : 0;
    /// <summary>Mean recall over classes.</summary>
    public double MeanRecall => Recall.Length > 0 ? Recall.Average() : 0;
    /// <summary>mAP@0.5.</summary>
    public double Map50 => Classes.Length > 0 ? Ap50.Average() : 0;
    /// <summary>mAP@0.5:0.95.</summary>
    public double Map50To95 => Classes.Length > 0 ? Ap50To95.Average() : 0;
    /// <summary>YOLOv5's fitness: 0.1·mAP@0.5 + 0.9·mAP@0.5:0.95.</summary>
    public double Fitness => 0.1 * Map50 + 0.9 * Map50To95;
}
