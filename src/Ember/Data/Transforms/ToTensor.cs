namespace Ember.Data.Transforms;

/// <summary>
/// Converts an HWC image with values 0–255 into a CHW float32 tensor in [0, 1] (torchvision.transforms.ToTensor).
/// </summary>
public sealed class ToTensor : ITransform
{
    /// <summary>Converts an HWC tensor (any dtype, values 0–255, or HW for grayscale) to CHW float32 / 255.</summary>
    public Tensor Apply(Tensor input, Generator generator)
    {
        if (input.Rank == 2) input = input.Unsqueeze(2);
        if (input.Rank != 3) throw new ArgumentException($"ToTensor: expected an HWC (or HW) image, got shape {input.Shape}");
        return input.Permute(2, 0, 1).To(DType.Float32).Contiguous() / 255.0;
    }

    /// <summary>Converts interleaved HWC bytes (as decoders return them) to CHW float32 in [0, 1].</summary>
    public static Tensor FromBytes(ReadOnlySpan<byte> hwc, int height, int width, int channels)
    {
        if (hwc.Length != height * width * channels)
            throw new ArgumentException($"ToTensor: {hwc.Length} bytes do not form an image of {height}×{width}×{channels}");
        var dst = new float[hwc.Length];
        int plane = height * width;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < channels; c++)
                dst[c * plane + p] = hwc[p * channels + c] * (1f / 255f);
        return DataTensors.Wrap(dst, channels, height, width);
    }
}
