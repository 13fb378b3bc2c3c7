using Ember.Tuning;

namespace Ember.Detection.Model;

/// <summary>
/// What <see cref="AutoAnchor.Check"/> found: the current anchors' fit, and when it was poor (BPR ≤ 0.98) the evolved
/// anchors' fit and whether they replaced the current ones (only on a higher BPR, as YOLOv5).
/// </summary>
/// <param name="Before">Metrics of the current anchors (BPR, anchors above threshold per box, …).</param>
/// <param name="Evolution">The k-means + genetic result when the anchors were evolved, else null.</param>
/// <param name="After">Metrics of the anchors in use afterwards (equal to <paramref name="Before"/> when unchanged).</param>
/// <param name="Anchors">The anchors in use afterwards, [levels, na, 2] (w, h) in pixels, small stride first.</param>
/// <param name="Replaced">Whether the evolved anchors replaced the current ones.</param>
public sealed record AutoAnchorResult(AnchorMetrics Before, AnchorResult? Evolution, AnchorMetrics After, Tensor Anchors, bool Replaced)
{
    /// <summary>Whether the current anchors were judged a poor fit and evolution ran.</summary>
    public bool Evolved => Evolution is not null;
}
