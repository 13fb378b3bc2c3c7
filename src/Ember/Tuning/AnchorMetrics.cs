namespace Ember.Tuning;

/// <summary>
/// How well a set of anchors fits the boxes under YOLOv5's ratio metric (x = min over w, h of min(r, 1/r) with
/// r = box / anchor; a box matches an anchor when x &gt; 1/thr).
/// </summary>
/// <param name="BestPossibleRecall">BPR: fraction of boxes whose best anchor matches.</param>
/// <param name="AnchorsAboveThreshold">Mean number of matching anchors per box.</param>
/// <param name="Fitness">YOLOv5's anchor fitness: mean of best·[best &gt; 1/thr] (what the genetic refinement maximizes).</param>
/// <param name="MeanBest">Mean over boxes of the best anchor's ratio metric.</param>
public sealed record AnchorMetrics(double BestPossibleRecall, double AnchorsAboveThreshold, double Fitness, double MeanBest);
