using Ember.Detection.Metrics;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// One validation pass's results: the metrics (P, R, mAP, per class), the confusion matrix with background, the mean
/// validation loss parts, the number of images, and a few images with their detections and labels (pixels of the image).
/// </summary>
public sealed record DetectEvaluation(DetectionResults Metrics, ConfusionMatrix Confusion, double Box, double Objectness, double Class,
    int Images, IReadOnlyList<(Tensor Image, Tensor Detections, Tensor Labels)> Samples);
