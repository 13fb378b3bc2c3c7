using Ember.Nn;
using Ember.Nn.Functional;

namespace Ember.Data.Transforms;

/// <summary>
/// Test-time augmentation (the notes' TTA): run the model on several views of each image (flips, rescaled copies) and
/// average what it predicts.
/// </summary>
public static class TestTimeAugmentation
{
    /// <summary>
    /// The mean of model(x) and model(flip(x)) over the requested flips of a batch [N, C, H, W] (horizontal: width,
    /// vertical: height). Pass a model that returns probabilities to average probabilities rather than logits.
    /// </summary>
    public static Tensor FlipAverage(Func<Tensor, Tensor> model, Tensor images, bool horizontal = true, bool vertical = false)
    {
        if (images.Rank != 4) throw new ArgumentException($"FlipAverage: expected images of shape [N, C, H, W], got {images.Shape}");
        var sum = model(images);
        int views = 1;
        if (horizontal) { sum = sum + model(images.Flip(3)); views++; }
        if (vertical) { sum = sum + model(images.Flip(2)); views++; }
        if (horizontal && vertical) { sum = sum + model(images.Flip(2, 3)); views++; }
        return sum / views;
    }

    /// <summary>
    /// The views of a batch [N, C, H, W] that <see cref="AverageProbabilities"/> averages: each scale in
    /// <paramref name="scales"/> (1 = the image itself), each also mirrored when <paramref name="horizontalFlip"/> is set.
    /// A rescaled view keeps the size H × W: bilinear resize by the scale, then a centre crop (scale &gt; 1, a zoom in) or
    /// edge-replicating padding (scale &lt; 1, a zoom out), so a model with a fixed input size accepts it.
    /// </summary>
    public static IEnumerable<Tensor> Views(Tensor images, bool horizontalFlip = true, IReadOnlyList<double>? scales = null)
    {
        if (images.Rank != 4) throw new ArgumentException($"TestTimeAugmentation: expected images of shape [N, C, H, W], got {images.Shape}");
        scales ??= [1.0];
        if (scales.Count == 0) throw new ArgumentException("TestTimeAugmentation: no scales (use [1.0] for the image itself)");
        foreach (double s in scales)
        {
            if (!(s >= 0.5 && s <= 2)) throw new ArgumentException($"TestTimeAugmentation: scale {s} is outside [0.5, 2]");
            var view = Rescale(images, s);
            yield return view;
            if (horizontalFlip) yield return view.Flip(3);
        }
    }

    /// <summary>
    /// The mean over <see cref="Views"/> of softmax(model(view)) along dimension 1: probabilities [N, classes]. Averaging
    /// probabilities, not logits, keeps one confident view from dominating.
    /// </summary>
    public static Tensor AverageProbabilities(Func<Tensor, Tensor> model, Tensor images, bool horizontalFlip = true, IReadOnlyList<double>? scales = null)
    {
        Tensor? sum = null;
        int count = 0;
        foreach (var view in Views(images, horizontalFlip, scales))
        {
            var p = F.Softmax(model(view), 1);
            sum = sum is null ? p : sum + p;
            count++;
        }
        return sum! / count;
    }

    static Tensor Rescale(Tensor images, double scale)
    {
        if (scale == 1) return images;
        int h = images.Size(2), w = images.Size(3);
        int sh = Math.Max(1, (int)Math.Round(h * scale)), sw = Math.Max(1, (int)Math.Round(w * scale));
        var resized = F.Interpolate(images, (sh, sw), mode: InterpolationMode.Bilinear);
        if (sh >= h && sw >= w) return resized.Narrow(2, (sh - h) / 2, h).Narrow(3, (sw - w) / 2, w);
        int top = (h - sh) / 2, left = (w - sw) / 2;
        return Torch.Pad(resized, [left, w - sw - left, top, h - sh - top], PaddingMode.Replicate);
    }
}
