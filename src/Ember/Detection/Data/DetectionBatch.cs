namespace Ember.Detection.Data;

/// <summary>
/// A collated detection batch, YOLOv5's convention: images [N, 3, H, W] float32 in [0, 1] and targets [M, 6], one row per
/// object of the whole batch <c>[imageIndexInBatch, class, cx, cy, w, h]</c> with coordinates normalized to the batch's
/// image size; <see cref="Paths"/> gives each image's source (null for generated samples).
/// </summary>
public sealed record DetectionBatch(Tensor Images, Tensor Targets, IReadOnlyList<string?> Paths)
{
    /// <summary>The number of images.</summary>
    public int Size => Images.Size(0);

    /// <summary>(images, targets).</summary>
    public void Deconstruct(out Tensor images, out Tensor targets) => (images, targets) = (Images, Targets);
}
