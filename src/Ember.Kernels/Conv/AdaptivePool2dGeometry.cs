namespace Ember.Kernels.Conv;

/// <summary>
/// The sizes of an adaptive 2-D pooling [N, C, H, W] → [N, C, H_out, W_out] (AdaptiveAvgPool2d, AdaptiveMaxPool2d).
/// Output row i pools input rows [⌊i·H/H_out⌋, ⌈(i + 1)·H/H_out⌉), as PyTorch; windows may overlap and differ in size.
/// </summary>
public readonly struct AdaptivePool2dGeometry
{
    /// <summary>Validates the sizes.</summary>
    /// <exception cref="ArgumentException">A size is not positive (the batch may be 0).</exception>
    public AdaptivePool2dGeometry(int batch, int channels, int inHeight, int inWidth, int outHeight, int outWidth)
    {
        if (batch < 0 || channels <= 0 || inHeight <= 0 || inWidth <= 0 || outHeight <= 0 || outWidth <= 0)
            throw new ArgumentException($"AdaptivePool2d: sizes must be positive (batch may be 0); got input [{batch}, {channels}, {inHeight}, {inWidth}], output {outHeight}×{outWidth}");
        if ((long)batch * channels * Math.Max((long)inHeight * inWidth, (long)outHeight * outWidth) > int.MaxValue)
            throw new ArgumentException($"AdaptivePool2d: tensors larger than 2^31 elements are not supported; got input [{batch}, {channels}, {inHeight}, {inWidth}], output {outHeight}×{outWidth}");
        Batch = batch; Channels = channels; InHeight = inHeight; InWidth = inWidth; OutHeight = outHeight; OutWidth = outWidth;
    }

    /// <summary>N.</summary>
    public int Batch { get; }
    /// <summary>C.</summary>
    public int Channels { get; }
    /// <summary>H.</summary>
    public int InHeight { get; }
    /// <summary>W.</summary>
    public int InWidth { get; }
    /// <summary>H_out.</summary>
    public int OutHeight { get; }
    /// <summary>W_out.</summary>
    public int OutWidth { get; }

    /// <summary>N · C.</summary>
    public int Planes => Batch * Channels;
    /// <summary>H · W.</summary>
    public int InPlane => InHeight * InWidth;
    /// <summary>H_out · W_out.</summary>
    public int OutPlane => OutHeight * OutWidth;
    /// <summary>N · C · H · W.</summary>
    public int InputLength => Planes * InPlane;
    /// <summary>N · C · H_out · W_out.</summary>
    public int OutputLength => Planes * OutPlane;

    /// <summary>First input index pooled by output index <paramref name="i"/>: ⌊i·in/out⌋.</summary>
    public static int Start(int i, int input, int output) => (int)((long)i * input / output);

    /// <summary>One past the last input index pooled by output index <paramref name="i"/>: ⌈(i + 1)·in/out⌉.</summary>
    public static int End(int i, int input, int output) => (int)(((long)(i + 1) * input + output - 1) / output);

    /// <inheritdoc/>
    public override string ToString() => $"AdaptivePool2d(input [{Batch}, {Channels}, {InHeight}, {InWidth}] → [{Batch}, {Channels}, {OutHeight}, {OutWidth}])";
}
