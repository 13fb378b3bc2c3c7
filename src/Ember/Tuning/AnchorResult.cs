namespace Ember.Tuning;

/// <summary>What <see cref="Anchors.Compute"/> found.</summary>
/// <param name="Anchors">The final anchors, shape [n, 2] (width, height), float32, sorted by area, small to large.</param>
/// <param name="KMeansAnchors">The anchors after k-means, before the genetic refinement (same layout).</param>
/// <param name="Initial">Metrics of the caller's current anchors, or null when none were given.</param>
/// <param name="KMeans">Metrics after k-means.</param>
/// <param name="Final">Metrics after the genetic refinement.</param>
public sealed record AnchorResult(Tensor Anchors, Tensor KMeansAnchors, AnchorMetrics? Initial, AnchorMetrics KMeans, AnchorMetrics Final)
{
    /// <summary>The "before" the report compares with: the current anchors when given, else the k-means ones.</summary>
    public AnchorMetrics Before => Initial ?? KMeans;

    /// <summary>Whether the new anchors should replace the current ones (YOLOv5 replaces only on a higher BPR).</summary>
    public bool Improved => Initial is null || Final.BestPossibleRecall > Initial.BestPossibleRecall;
}
