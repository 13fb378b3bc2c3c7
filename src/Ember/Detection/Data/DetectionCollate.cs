using Ember.Data;

namespace Ember.Detection.Data;

/// <summary>
/// The collate for detection (YOLOv5's <c>LoadImagesAndLabels.collate_fn</c>): stacks the images and concatenates the
/// labels with the image's index in the batch prepended, because images hold different numbers of objects. Pass
/// <see cref="Collate"/> to a <c>DataLoader&lt;DetectionSample, DetectionBatch&gt;</c>.
/// </summary>
public static class DetectionCollate
{
    /// <summary>Images [N, 3, H, W] and targets [M, 6] <c>[imageIndex, class, cx, cy, w, h]</c>; all images must share one size.</summary>
    public static DetectionBatch Collate(IReadOnlyList<DetectionSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) throw new ArgumentException("DetectionCollate: cannot collate an empty list of samples");
        var first = samples[0].Image;
        int total = 0;
        for (int i = 0; i < samples.Count; i++)
        {
            var s = samples[i];
            if (s.Image.Rank != 3 || s.Image.Shape != first.Shape)
                throw new ArgumentException($"DetectionCollate: every image of a batch must have one shape; sample 0 ({samples[0].Path ?? "generated"}) " +
                    $"is {first.Shape} but sample {i} ({s.Path ?? "generated"}) is {s.Image.Shape} (letterbox them to one size, or use rectangular batches)");
            if (s.Labels.Rank != 2 || s.Labels.Size(1) != 5)
                throw new ArgumentException($"DetectionCollate: labels of sample {i} ({s.Path ?? "generated"}) must have shape [n, 5] (class, cx, cy, w, h), got {s.Labels.Shape}");
            total += s.Labels.Size(0);
        }
        var images = new Tensor[samples.Count];
        var targets = new float[total * 6];
        var paths = new string?[samples.Count];
        int row = 0;
        for (int i = 0; i < samples.Count; i++)
        {
            images[i] = samples[i].Image;
            paths[i] = samples[i].Path;
            var labels = samples[i].Labels.To(DType.Float32).Contiguous().ToArray<float>();
            for (int r = 0; r < labels.Length / 5; r++, row++)
            {
                targets[row * 6] = i;
                labels.AsSpan(r * 5, 5).CopyTo(targets.AsSpan(row * 6 + 1, 5));
            }
        }
        return new DetectionBatch(Ember.Data.Collate.Stack(images), Torch.FromArray(targets, [total, 6]), paths);
    }
}
