using Ember.Detection.Loss;
using Ember.Detection.Metrics;
using Ember.Detection.Model;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// YOLOv5 val.py's per-batch work, shared by training's per-epoch validation and `ember detect val`: NMS with val.py's
/// settings (confidence 0.001, IoU 0.6, multi-label) on the decoded output, each image's detections matched to its labels
/// for P, R, mAP (<see cref="DetectionMetrics"/>) and the confusion matrix with background, the mean of the batches'
/// loss parts, and the first few images with their detections for pictures. Boxes are compared in the letterboxed
/// input's pixels: IoU does not change under the letterbox's scale and shift (YOLOv5 first maps both back to the
/// original image and clips the detections to it, which can differ only for boxes reaching into the padding).
/// </summary>
public sealed class DetectionEvaluator
{
    readonly int numClasses;
    readonly int keepImages;
    readonly bool singleClass;
    readonly NmsOptions nms;
    DetectionMetrics metrics = new();
    ConfusionMatrix confusion;
    double box, obj, cls;
    int batches;
    readonly List<(Tensor Image, Tensor Detections, Tensor Labels)> samples = [];

    /// <summary>
    /// An evaluator for <paramref name="numClasses"/> classes that keeps the first <paramref name="keepImages"/> images for
    /// pictures. With <paramref name="singleClass"/> every label and detection counts as class 0 and NMS is class-agnostic
    /// (val.py's --single-cls): the localization quality alone, whatever the predicted class. <paramref name="nms"/>
    /// replaces val.py's NMS settings (<see cref="NmsOptions.ForValidation"/>).
    /// </summary>
    public DetectionEvaluator(int numClasses, int keepImages = 0, bool singleClass = false, NmsOptions? nms = null)
    {
        this.numClasses = singleClass ? 1 : numClasses;
        this.keepImages = keepImages;
        this.singleClass = singleClass;
        this.nms = nms ?? NmsOptions.ForValidation;
        confusion = new ConfusionMatrix(this.numClasses);
    }

    /// <summary>Starts over (a new validation pass).</summary>
    public void Reset()
    {
        metrics = new DetectionMetrics();
        confusion = new ConfusionMatrix(numClasses);
        box = obj = cls = 0;
        batches = 0;
        samples.Clear();
    }

    /// <summary>
    /// Adds a batch: <paramref name="images"/> [N, 3, H, W], the model's eval-mode <paramref name="decoded"/> output,
    /// <paramref name="targets"/> [M, 6] (image, class, cx, cy, w, h normalized to H, W) and the batch's loss parts.
    /// </summary>
    public void Update(Tensor images, Tensor decoded, Tensor targets, YoloLossResult? loss)
    {
        int n = images.Size(0), h = images.Size(2), w = images.Size(3);
        var detections = NonMaxSuppression.Apply(decoded, singleClass ? nms with { Agnostic = true } : nms);
        var t = targets.Detach().To(DType.Float64).Contiguous().ToArray<double>();
        var perImage = new List<double>[n];
        for (int i = 0; i < n; i++) perImage[i] = [];
        for (int r = 0; r < t.Length / 6; r++)
        {
            int image = (int)t[6 * r];
            double cx = t[6 * r + 2] * w, cy = t[6 * r + 3] * h, bw = t[6 * r + 4] * w, bh = t[6 * r + 5] * h;
            perImage[image].AddRange([singleClass ? 0 : t[6 * r + 1], cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]);
        }
        for (int i = 0; i < n; i++)
        {
            var d = detections[i].To(DType.Float64).Contiguous().ToArray<double>();
            if (singleClass)
            {
                for (int k = 5; k < d.Length; k += 6) d[k] = 0;
                detections[i] = Torch.FromArray(d, [d.Length / 6, 6]).To(detections[i].DType);
            }
            var labels = perImage[i].ToArray();
            metrics.Update(d, labels);
            confusion.Update(d, labels);
            if (samples.Count < keepImages)
                samples.Add((images.Select(0, i).Contiguous(), detections[i], Torch.FromArray(labels, [labels.Length / 5, 5])));
        }
        if (loss is not null) { box += loss.Box; obj += loss.Objectness; cls += loss.Class; }
        batches++;
    }

    /// <summary>Images seen.</summary>
    public int Images => metrics.Images;

    /// <summary>The metrics, the confusion matrix, the mean loss parts per batch and the kept images.</summary>
    public DetectEvaluation Result()
    {
        double k = Math.Max(batches, 1);
        return new DetectEvaluation(metrics.Compute(), confusion, box / k, obj / k, cls / k, metrics.Images, [.. samples]);
    }
}
