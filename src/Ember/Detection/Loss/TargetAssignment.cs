namespace Ember.Detection.Loss;

/// <summary>
/// YOLOv5's target assignment (utils/loss.py, ComputeLoss.build_targets). For each level, a box (in grid units) goes to
/// every anchor whose width and height ratios to it stay within <c>anchorThreshold</c> (max(r, 1/r) &lt; anchor_t),
/// in the cell that holds its centre and also in the two neighbouring cells nearest the centre: the left cell when the
/// centre's x fraction is below 0.5 (and x &gt; 1), the upper when y's is, the right when the fraction is above 0.5 (and
/// W − x &gt; 1), the lower likewise. Cells are clamped to the grid; each entry's box is stored relative to its cell, so
/// xy offsets lie in (−0.5, 1.5) — what the 2σ − 0.5 decoding can reach. Computed in float32 as YOLOv5 does.
/// </summary>
public static class TargetAssignment
{
    const float G = 0.5f; // YOLOv5's offset bias g
    static readonly int[] OffX = [0, 1, 0, -1, 0];
    static readonly int[] OffY = [0, 0, 1, 0, -1];

    /// <summary>
    /// Targets for one level with a grid of <paramref name="gridH"/>×<paramref name="gridW"/> cells.
    /// <paramref name="targets"/> is (M, 6) rows [image, class, cx, cy, w, h] normalized to [0, 1];
    /// <paramref name="anchorsGrid"/> the level's anchors as (w, h) pairs in grid units (pixels / stride).
    /// Entries come in YOLOv5's order: by offset (centre, left, up, right, down), then anchor, then target.
    /// </summary>
    public static LevelTargets Build(float[] targets, int gridH, int gridW, float[] anchorsGrid, double anchorThreshold = 4.0)
    {
        if (targets.Length % 6 != 0) throw new ArgumentException($"build_targets: expected targets as rows of 6 numbers [image, class, cx, cy, w, h], got {targets.Length} numbers");
        int nt = targets.Length / 6, na = anchorsGrid.Length / 2;
        var image = new List<int>(); var anchor = new List<int>(); var gy = new List<int>(); var gx = new List<int>();
        var cls = new List<int>(); var box = new List<float>(); var anch = new List<float>();
        var allowed = new bool[5];
        float thr = (float)anchorThreshold;
        for (int o = 0; o < 5; o++)
            for (int a = 0; a < na; a++)
                for (int t = 0; t < nt; t++)
                {
                    var row = targets.AsSpan(6 * t, 6);
                    float x = row[2] * gridW, y = row[3] * gridH, w = row[4] * gridW, h = row[5] * gridH;
                    float aw = anchorsGrid[2 * a], ah = anchorsGrid[2 * a + 1];
                    float rw = w / aw, rh = h / ah;
                    if (!(Math.Max(Math.Max(rw, 1 / rw), Math.Max(rh, 1 / rh)) < thr)) continue;
                    float xi = gridW - x, yi = gridH - y;
                    allowed[0] = true;
                    allowed[1] = x % 1 < G && x > 1;
                    allowed[2] = y % 1 < G && y > 1;
                    allowed[3] = xi % 1 < G && xi > 1;
                    allowed[4] = yi % 1 < G && yi > 1;
                    if (!allowed[o]) continue;
                    int i = Math.Clamp((int)(x - OffX[o] * G), 0, gridW - 1); // (gxy − offset).long(), then clamp_
                    int j = Math.Clamp((int)(y - OffY[o] * G), 0, gridH - 1);
                    image.Add((int)row[0]); cls.Add((int)row[1]); anchor.Add(a); gx.Add(i); gy.Add(j);
                    box.Add(x - i); box.Add(y - j); box.Add(w); box.Add(h);
                    anch.Add(aw); anch.Add(ah);
                }
        return new LevelTargets
        {
            Image = [.. image], Anchor = [.. anchor], GridY = [.. gy], GridX = [.. gx], Class = [.. cls], Box = [.. box], AnchorSize = [.. anch],
        };
    }
}
