using Ember.Detection.Loss;

namespace Ember.Tests.Detection;

public class TargetAssignmentTests
{
    // Level 0 of a 64×64 input: an 8×8 grid, YOLOv5's P3 anchors (10,13), (16,30), (33,23) px / stride 8.
    static readonly float[] Anchors = [1.25f, 1.625f, 2f, 3.75f, 4.125f, 2.875f];

    [Fact]
    public void Boxes_land_on_the_anchors_and_cells_computed_by_hand()
    {
        float[] targets =
        [
            0, 1, 0.3f, 0.55f, 0.25f, 0.25f,       // t0: grid (2.4, 4.4), 2×2 → all anchors; fractions 0.4 → also left and upper cells
            1, 0, 0.7f, 0.7f, 0.9f, 0.9f,          // t1: grid (5.6, 5.6), 7.2×7.2 → anchor 0 rejected (7.2/1.25 = 5.76 ≥ 4); right and lower cells
            0, 2, 0.05f, 0.5625f, 0.1875f, 0.1875f, // t2: grid (0.4, 4.5): x < 1 has no left cell, fraction 0.5 exactly takes no neighbour
        ];
        var lt = TargetAssignment.Build(targets, 8, 8, Anchors);
        // (image, anchor, gj, gi) in YOLOv5's order: offset (centre, left, up, right, down), then anchor, then target
        (int B, int A, int J, int I)[] expected =
        [
            (0, 0, 4, 2), (0, 0, 4, 0), (0, 1, 4, 2), (1, 1, 5, 5), (0, 1, 4, 0), (0, 2, 4, 2), (1, 2, 5, 5), (0, 2, 4, 0),
            (0, 0, 4, 1), (0, 1, 4, 1), (0, 2, 4, 1),
            (0, 0, 3, 2), (0, 1, 3, 2), (0, 2, 3, 2),
            (1, 1, 5, 6), (1, 2, 5, 6),
            (1, 1, 6, 5), (1, 2, 6, 5),
        ];
        Assert.Equal(expected.Length, lt.Count);
        for (int k = 0; k < lt.Count; k++)
            Assert.Equal(expected[k], (lt.Image[k], lt.Anchor[k], lt.GridY[k], lt.GridX[k]));
        Assert.Equal([1, 1, 0, 2], new[] { lt.Class[0], lt.Class[2], lt.Class[3], lt.Class[1] });
        // boxes relative to their cell: t0 in its left neighbour (1, 4) is at (1.4, 0.4); t1 in its right neighbour at (−0.4, 0.6)
        TestUtil.Close([1.4, 0.4, 2, 2], lt.Box.Skip(4 * 8).Take(4).Select(v => (double)v).ToArray(), atol: 1e-5);
        TestUtil.Close([-0.4, 0.6, 7.2, 7.2], lt.Box.Skip(4 * 14).Take(4).Select(v => (double)v).ToArray(), atol: 1e-5);
        TestUtil.Close([4.125, 2.875], lt.AnchorSize.Skip(2 * 5).Take(2).Select(v => (double)v).ToArray(), atol: 1e-6);
    }

    [Fact]
    public void Anchor_threshold_decides_the_match_and_neighbour_cells_are_clamped_to_the_grid()
    {
        // a 2×2 grid: a box at (1.8, 1.2) in grid units: x fraction 0.8 would take the right cell but W − x = 0.2 is not
        // > 1; y fraction 0.2 with y > 1 takes the upper cell
        float[] t = [0, 0, 0.9f, 0.6f, 0.5f, 0.5f]; // 1×1 grid units
        var strict = TargetAssignment.Build(t, 2, 2, [1f, 1f, 3.9f, 1f], anchorThreshold: 4.0);
        Assert.Equal(2 * 2, strict.Count); // anchor 1: 3.9/1 = 3.9 < 4 still matches; both get centre and upper cells
        var tight = TargetAssignment.Build(t, 2, 2, [1f, 1f, 3.9f, 1f], anchorThreshold: 2.0);
        Assert.Equal(2, tight.Count);
        Assert.All(tight.Anchor, a => Assert.Equal(0, a));
        Assert.Equal([1, 0], tight.GridY);
        Assert.Equal([1, 1], tight.GridX);
        Assert.Empty(TargetAssignment.Build([], 2, 2, [1f, 1f]).Image);

        // a centre on the right edge (x = W) is clamped into the last column, its box offset becomes 1.0
        var edge = TargetAssignment.Build([0, 0, 1f, 0.25f, 0.5f, 0.5f], 2, 2, [1f, 1f]);
        Assert.Equal([1, 1], edge.GridX); // centre (clamped from 2) and left neighbour (int(2 − 0.5))
        Assert.Equal([0, 0], edge.GridY);
        Assert.Equal(1.0f, edge.Box[0]);
        Assert.Equal(1.0f, edge.Box[4]);
    }
}
