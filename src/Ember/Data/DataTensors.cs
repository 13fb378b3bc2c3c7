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

    /// <summary>
    /// A new C×H×W float buffer; the size is computed in 64 bits, so sizes from a file or a config that would wrap an int
    /// (and allocate a wrong, possibly small, buffer) are an <see cref="ArgumentException"/> naming <paramref name="op"/>.
    /// </summary>
    public static float[] NewImage(long c, long h, long w, string op)
    {
        if (c < 0 || h < 0 || w < 0) throw new ArgumentException($"{op}: an output of {c}×{h}×{w} has a negative size");
        long n = c * h * w; // each factor < 2³¹: the product fits in 64 bits
        if (n > Array.MaxLength)
            throw new ArgumentException($"{op}: an output of {c}×{h}×{w} = {n} values is too large for one tensor (at most {Array.MaxLength})");
        return new float[n];
    }

    /// <summary>
    /// A new C×H×W float32 image tensor for an output whose size repeats from item to item (a mosaic canvas, an augmented
    /// image of the training size, a letterbox): its buffer comes from the storage pool, as the model's activations do,
    /// instead of a fresh large array that the kernel must fault in page by page. The buffer is NOT cleared: the caller
    /// writes every element through <paramref name="data"/>. Sizes that differ per item (a resize to each image's own
    /// aspect ratio) should use <see cref="NewImage"/>: the pool matches exact lengths, so they would only fill it.
    /// </summary>
    public static Tensor NewPooledImage(long c, long h, long w, string op, out float[] data)
    {
        if (c < 0 || h < 0 || w < 0) throw new ArgumentException($"{op}: an output of {c}×{h}×{w} has a negative size");
        long n = c * h * w;
        if (n > Array.MaxLength)
            throw new ArgumentException($"{op}: an output of {c}×{h}×{w} = {n} values is too large for one tensor (at most {Array.MaxLength})");
        var storage = Storage.Allocate(DType.Float32, (int)n, zeroed: false);
        data = storage.As<float>(); // through As: records the access, which keeps the storage reachable while it is written
        return new Tensor(storage, [(int)c, (int)h, (int)w]);
    }

    /// <summary>
    /// Ends an image that nothing will read again and gives its buffer straight back to the storage pool
    /// (<see cref="NewPooledImage"/>) for the next image of its size: the caller made it, holds the only reference and
    /// recorded no autograd node with it (<see cref="Tensor.HandBack"/>; a data worker can say so where Dispose's node
    /// rule, which counts every thread's nodes, cannot). The handle ends whether or not the buffer was pooled: a later
    /// use throws <see cref="ObjectDisposedException"/>; an unpooled buffer is left to the GC.
    /// </summary>
    public static void Recycle(Tensor image) => image.HandBack(callerMadeIt: true);

    /// <summary>A size computed in 64 bits as an int, or an <see cref="ArgumentException"/> naming <paramref name="op"/> when it does not fit.</summary>
    public static int Side(long size, string op, string what)
        => size is >= 0 and <= int.MaxValue ? (int)size : throw new ArgumentException($"{op}: the {what} would be {size}, outside 0..{int.MaxValue}");

    /// <summary>Checks that an image is a CHW tensor and returns (C, H, W).</summary>
    public static (int C, int H, int W) Chw(Tensor image, string op)
    {
        if (image.Rank != 3)
            throw new ArgumentException($"{op}: expected an image tensor of shape [C, H, W], got shape {image.Shape}");
        return (image.Size(0), image.Size(1), image.Size(2));
    }
}
