namespace Ember.Detection.Loss;

/// <summary>
/// The targets one detection level is trained on (one entry per assigned (box, anchor, cell)), as YOLOv5's
/// build_targets returns them: image index, anchor index, grid row and column, class, the box in grid units relative to
/// the cell (tx, ty ∈ (−0.5, 1.5), tw, th) and the anchor in grid units.
/// </summary>
public sealed class LevelTargets
{
    /// <summary>Image index in the batch.</summary>
    public required int[] Image { get; init; }

    /// <summary>Anchor index within the level.</summary>
    public required int[] Anchor { get; init; }

    /// <summary>Grid row (gj).</summary>
    public required int[] GridY { get; init; }

    /// <summary>Grid column (gi).</summary>
    public required int[] GridX { get; init; }

    /// <summary>Class index.</summary>
    public required int[] Class { get; init; }

    /// <summary>Boxes as (x − gi, y − gj, w, h) in grid units, 4 numbers per entry.</summary>
    public required float[] Box { get; init; }

    /// <summary>Anchor (w, h) in grid units, 2 numbers per entry.</summary>
    public required float[] AnchorSize { get; init; }

    /// <summary>Number of entries.</summary>
    public int Count => Image.Length;
}
