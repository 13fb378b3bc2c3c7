namespace Ember.Kernels.Conv;

/// <summary>
/// The sizes of a 2-D resampling [N, C, H, W] → [N, C, H_out, W_out] (torch.nn.functional.interpolate, 'nearest' and 'bilinear').
/// The scale factors are those the caller passed to interpolate (H_out = ⌊H·scale⌋); when given, PyTorch maps an output index
/// through 1/scale rather than H/H_out, and so do these kernels. Leave them null when only the size was given.
/// </summary>
public readonly struct Upsample2dGeometry
{
    /// <summary>Validates the sizes.</summary>
    /// <exception cref="ArgumentException">A size is not positive (the batch may be 0) or a scale is not positive.</exception>
    public Upsample2dGeometry(int batch, int channels, int inHeight, int inWidth, int outHeight, int outWidth, double? scaleHeight = null, double? scaleWidth = null)
    {
        if (batch < 0 || channels <= 0 || inHeight <= 0 || inWidth <= 0 || outHeight <= 0 || outWidth <= 0 || scaleHeight <= 0 || scaleWidth <= 0)
            throw new ArgumentException($"Upsample2d: sizes and scales must be positive (batch may be 0); got input [{batch}, {channels}, {inHeight}, {inWidth}], " +
                $"output {outHeight}×{outWidth}, scales {scaleHeight}, {scaleWidth}");
        if ((long)batch * channels * Math.Max((long)inHeight * inWidth, (long)outHeight * outWidth) > int.MaxValue)
            throw new ArgumentException($"Upsample2d: tensors larger than 2^31 elements are not supported; got input [{batch}, {channels}, {inHeight}, {inWidth}], output {outHeight}×{outWidth}");
        Batch = batch; Channels = channels; InHeight = inHeight; InWidth = inWidth; OutHeight = outHeight; OutWidth = outWidth;
        ScaleHeight = scaleHeight; ScaleWidth = scaleWidth;
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
    /// <summary>The vertical scale_factor given to interpolate, or null.</summary>
    public double? ScaleHeight { get; }
    /// <summary>The horizontal scale_factor given to interpolate, or null.</summary>
    public double? ScaleWidth { get; }

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

    /// <inheritdoc/>
    public override string ToString() =>
        $"Upsample2d(input [{Batch}, {Channels}, {InHeight}, {InWidth}] → [{Batch}, {Channels}, {OutHeight}, {OutWidth}], scales {ScaleHeight?.ToString() ?? "none"}, {ScaleWidth?.ToString() ?? "none"})";
}
