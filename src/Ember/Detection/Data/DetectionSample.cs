namespace Ember.Detection.Data;

/// <summary>
/// One detection sample, YOLOv5's convention: an RGB image [3, H, W] float32 in [0, 1] and its labels [n, 5], one row
/// per object <c>[class, cx, cy, w, h]</c> with the box centre and size normalized by the image's width and height, so
/// every coordinate is in [0, 1]. <see cref="Path"/> names the source file (null for generated samples).
/// </summary>
public sealed record DetectionSample(Tensor Image, Tensor Labels, string? Path = null)
{
    /// <summary>The image height.</summary>
    public int Height => Image.Size(1);

    /// <summary>The image width.</summary>
    public int Width => Image.Size(2);

    /// <summary>The number of labelled objects.</summary>
    public int Count => Labels.Size(0);
}
