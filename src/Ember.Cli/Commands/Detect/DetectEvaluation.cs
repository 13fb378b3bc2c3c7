using Ember.Detection.Metrics;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// One validation pass's results: the metrics (P, R, mAP, per class), the confusion matrix with background, the mean
/// validation loss parts, the number of images, and a few images with their detections and labels (pixels of the image).
/// </summary>
public sealed record DetectEvaluation(DetectionResults Metrics, ConfusionMatrix Confusion, double Box, double Objectness, double Class,
    int Images, IReadOnlyList<(Tensor Image, Tensor Detections, Tensor Labels)> Samples)
{
    /// <summary>
    /// Whether the images held any labelled object: without one, precision, recall and mAP are undefined (val.py warns
    /// "no labels found in val set, can not compute metrics without labels") and are reported as NaN, never as zeros.
    /// </summary>
    public bool HasLabels => Metrics.LabelCounts.Length > 0;

    /// <summary>Mean precision, recall, mAP@0.5, mAP@0.5:0.95 and fitness; NaN when there were no labels to score against.</summary>
    public (double Precision, double Recall, double Map50, double Map50To95, double Fitness) Scores
        => HasLabels ? (Metrics.MeanPrecision, Metrics.MeanRecall, Metrics.Map50, Metrics.Map50To95, Metrics.Fitness)
            : (double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
}
