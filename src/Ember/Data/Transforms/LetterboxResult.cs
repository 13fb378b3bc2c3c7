namespace Ember.Data.Transforms;

/// <summary>
/// A letterboxed image with the scale and padding that produced it, to map boxes between the original image and the
/// letterboxed one: letterboxed = original · Scale + (PadLeft, PadTop).
/// </summary>
public sealed record LetterboxResult(Tensor Image, double Scale, int PadLeft, int PadTop)
{
    /// <summary>Boxes [n, 4 + k] (x1, y1, x2, y2, ...) of the original image in letterboxed coordinates.</summary>
    public Tensor MapToLetterbox(Tensor boxes) => Map(boxes, b => b * Scale, PadLeft, PadTop, 1);

    /// <summary>Boxes [n, 4 + k] found on the letterboxed image mapped back to the original image.</summary>
    public Tensor MapToOriginal(Tensor boxes) => Map(boxes, b => b, -PadLeft, -PadTop, 1 / Scale);

    static Tensor Map(Tensor boxes, Func<float, double> pre, int dx, int dy, double post)
    {
        if (boxes.Rank != 2 || boxes.Size(1) < 4) throw new ArgumentException($"Letterbox: boxes must have shape [n, 4 + k], got {boxes.Shape}");
        int cols = boxes.Size(1);
        var b = boxes.To(DType.Float32).Contiguous().ToArray<float>();
        for (int r = 0; r < boxes.Size(0); r++)
            for (int j = 0; j < 4; j++)
                b[r * cols + j] = (float)((pre(b[r * cols + j]) + (j % 2 == 0 ? dx : dy)) * post);
        return DataTensors.Wrap(b, boxes.Size(0), cols);
    }
}
