namespace Ember.Data;

/// <summary>Zero-copy tensor construction for the data pipeline, where every sample allocates.</summary>
internal static class DataTensors
{
    /// <summary>A contiguous float32 tensor that takes ownership of <paramref name="data"/>.</summary>
    public static Tensor Wrap(float[] data, params int[] shape) => new(new Storage(data, DType.Float32), shape);

    /// <summary>A contiguous int64 tensor that takes ownership of <paramref name="data"/>.</summary>
    public static Tensor Wrap(long[] data, params int[] shape) => new(new Storage(data, DType.Int64), shape);

    /// <summary>The float32 data of a tensor as a read-only span (copying only when it is not contiguous float32).</summary>
    public static ReadOnlySpan<float> Floats(Tensor t)
    {
        if (t.DType != DType.Float32) t = t.To(DType.Float32);
        return t.Contiguous().Span<float>();
    }

    /// <summary>Checks that an image is a CHW tensor and returns (C, H, W).</summary>
    public static (int C, int H, int W) Chw(Tensor image, string op)
    {
        if (image.Rank != 3)
            throw new ArgumentException($"{op}: expected an image tensor of shape [C, H, W], got shape {image.Shape}");
        return (image.Size(0), image.Size(1), image.Size(2));
    }
}
