using Ember.Tuning;

namespace Ember.Detection.Model;

/// <summary>
/// YOLOv5's autoanchor (utils/autoanchor.py check_anchors): the best possible recall (BPR) of a head's anchors on the
/// training boxes under the anchor_t ratio rule; when BPR is not above 0.98, new anchors from k-means + genetic
/// evolution (<see cref="Tuning.Anchors.Compute"/>), adopted only if their BPR is higher, in stride order.
/// </summary>
public static class AutoAnchor
{
    /// <summary>YOLOv5's "good fit" bar: anchors are kept when BPR &gt; 0.98.</summary>
    public const double GoodBpr = 0.98;

    /// <summary>
    /// Checks <paramref name="head"/>'s anchors on the box sizes <paramref name="wh"/> ([N, 2], pixels at the training image
    /// size; see <see cref="LabelSizes"/>) and, when the fit is poor, evolves new ones and writes them into the head when
    /// <paramref name="apply"/>. <paramref name="options"/>.Threshold is anchor_t (4.0).
    /// </summary>
    public static AutoAnchorResult Check(DetectHead head, Tensor wh, AnchorOptions? options = null, bool apply = true)
    {
        options ??= new AnchorOptions();
        var current = head.Anchors.Reshape(-1, 2);
        var before = Anchors.Metrics(wh, current, options.Threshold);
        if (before.BestPossibleRecall > GoodBpr)
            return new AutoAnchorResult(before, null, before, head.Anchors.Clone(), false);
        int n = head.NumLevels * head.NumAnchors;
        var evolution = Anchors.Compute(wh, n, options, current);
        var after = Anchors.Metrics(wh, evolution.Anchors, options.Threshold);
        if (!(after.BestPossibleRecall > before.BestPossibleRecall))
            return new AutoAnchorResult(before, evolution, before, head.Anchors.Clone(), false);
        var (ordered, _) = Anchors.CheckOrder(evolution.Anchors.Reshape(head.NumLevels, head.NumAnchors, 2), head.Strides);
        if (apply)
            using (Torch.NoGrad()) head.Anchors.CopyFrom(ordered.To(head.Anchors.DType));
        return new AutoAnchorResult(before, evolution, after, ordered.Contiguous().Clone(), true);
    }

    /// <summary>
    /// Box sizes as YOLOv5's check_anchors gathers them: each image's normalized label (w, h) times its shape scaled so
    /// the long side is <paramref name="imageSize"/>, times a random factor in [0.9, 1.1) per image (scale augmentation;
    /// none when <paramref name="generator"/> is null). <paramref name="shapes"/> are (width, height) per image and
    /// <paramref name="labelWh"/> the normalized (w, h) pairs of each image's labels, flat.
    /// </summary>
    public static Tensor LabelSizes(IReadOnlyList<(int Width, int Height)> shapes, IReadOnlyList<float[]> labelWh, int imageSize = 640, Generator? generator = null)
    {
        if (shapes.Count != labelWh.Count) throw new ArgumentException($"autoanchor: expected one label list per image shape, got {shapes.Count} shapes and {labelWh.Count} label lists");
        var wh = new List<float>();
        for (int i = 0; i < shapes.Count; i++)
        {
            double longSide = Math.Max(shapes[i].Width, shapes[i].Height);
            double scale = generator is null ? 1.0 : 0.9 + 0.2 * generator.NextDouble();
            double sw = imageSize * shapes[i].Width / longSide * scale, sh = imageSize * shapes[i].Height / longSide * scale;
            var l = labelWh[i];
            if (l.Length % 2 != 0) throw new ArgumentException($"autoanchor: image {i} has an odd number of label sizes ({l.Length}); expected (w, h) pairs");
            for (int k = 0; k < l.Length; k += 2) { wh.Add((float)(l[k] * sw)); wh.Add((float)(l[k + 1] * sh)); }
        }
        return Torch.FromArray(wh.ToArray(), [wh.Count / 2, 2]);
    }
}
