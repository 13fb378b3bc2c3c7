namespace Ember.Kernels.Conv;

/// <summary>
/// The sizes of a 2-D pooling window sweep (MaxPool2d, AvgPool2d) over contiguous NCHW data [N, C, H, W] → [N, C, H_out, W_out], with
/// PyTorch's rule H_out = ⌊(H + 2·padH − dilationH·(kH − 1) − 1 + (ceil ? strideH − 1 : 0)) / strideH⌋ + 1, and in ceil mode
/// one window fewer when the last one would start at or beyond H + padH (it must start inside the input or the left padding).
/// </summary>
public readonly struct Pool2dGeometry
{
    /// <summary>Validates the sizes (padding at most half the kernel, as PyTorch requires) and computes the output size.</summary>
    /// <exception cref="ArgumentException">A size is out of range or the output would be empty.</exception>
    public Pool2dGeometry(int batch, int channels, int inHeight, int inWidth, int kernelHeight, int kernelWidth,
        int strideHeight, int strideWidth, int padHeight = 0, int padWidth = 0, int dilationHeight = 1, int dilationWidth = 1, bool ceilMode = false)
    {
        string sizes = $"input [{batch}, {channels}, {inHeight}, {inWidth}], kernel {kernelHeight}×{kernelWidth}, stride {strideHeight}×{strideWidth}, " +
            $"padding {padHeight}×{padWidth}, dilation {dilationHeight}×{dilationWidth}, ceil_mode {ceilMode}";
        if (batch < 0 || channels <= 0 || inHeight <= 0 || inWidth <= 0 || kernelHeight <= 0 || kernelWidth <= 0 ||
            strideHeight <= 0 || strideWidth <= 0 || dilationHeight <= 0 || dilationWidth <= 0 || padHeight < 0 || padWidth < 0)
            throw new ArgumentException($"Pool2d: sizes must be positive (batch and padding may be 0); got {sizes}");
        if (padHeight > kernelHeight / 2 || padWidth > kernelWidth / 2)
            throw new ArgumentException($"Pool2d: padding must be at most half of the kernel size; got {sizes}");
        if ((long)batch * channels * inHeight * inWidth > int.MaxValue)
            throw new ArgumentException($"Pool2d: tensors larger than 2^31 elements are not supported; got {sizes}");
        int outH = OutputSize(inHeight, kernelHeight, strideHeight, padHeight, dilationHeight, ceilMode);
        int outW = OutputSize(inWidth, kernelWidth, strideWidth, padWidth, dilationWidth, ceilMode);
        if (outH < 1 || outW < 1)
            throw new ArgumentException($"Pool2d: the output would be {outH}×{outW}; got {sizes}");

        Batch = batch; Channels = channels; InHeight = inHeight; InWidth = inWidth; KernelHeight = kernelHeight; KernelWidth = kernelWidth;
        StrideHeight = strideHeight; StrideWidth = strideWidth; PadHeight = padHeight; PadWidth = padWidth;
        DilationHeight = dilationHeight; DilationWidth = dilationWidth; CeilMode = ceilMode; OutHeight = outH; OutWidth = outW;
    }

    /// <summary>The same pooling over <paramref name="batch"/> images (a slice of the batch).</summary>
    internal Pool2dGeometry WithBatch(int batch) => new(batch, Channels, InHeight, InWidth, KernelHeight, KernelWidth,
        StrideHeight, StrideWidth, PadHeight, PadWidth, DilationHeight, DilationWidth, CeilMode);

    /// <summary>PyTorch's pooling_output_shape for one dimension.</summary>
    public static int OutputSize(int input, int kernel, int stride, int pad, int dilation, bool ceilMode)
    {
        long numerator = (long)input + 2L * pad - (long)dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
        long size = (long)Math.Floor((double)numerator / stride) + 1;
        // Ceil mode may add a window that starts past the input and its left padding; PyTorch drops it.
        if (ceilMode && (size - 1) * stride >= (long)input + pad) size--;
        return (int)Math.Clamp(size, int.MinValue, int.MaxValue);
    }

    /// <summary>N.</summary>
    public int Batch { get; }
    /// <summary>C.</summary>
    public int Channels { get; }
    /// <summary>H.</summary>
    public int InHeight { get; }
    /// <summary>W.</summary>
    public int InWidth { get; }
    /// <summary>kH.</summary>
    public int KernelHeight { get; }
    /// <summary>kW.</summary>
    public int KernelWidth { get; }
    /// <summary>Vertical stride.</summary>
    public int StrideHeight { get; }
    /// <summary>Horizontal stride.</summary>
    public int StrideWidth { get; }
    /// <summary>Implicit padding above and below (−∞ for max pooling, zeros for average pooling).</summary>
    public int PadHeight { get; }
    /// <summary>Implicit padding left and right.</summary>
    public int PadWidth { get; }
    /// <summary>Vertical spacing of the window's taps (max pooling only).</summary>
    public int DilationHeight { get; }
    /// <summary>Horizontal spacing of the window's taps (max pooling only).</summary>
    public int DilationWidth { get; }
    /// <summary>Whether the output size rounds up (PyTorch's ceil_mode).</summary>
    public bool CeilMode { get; }
    /// <summary>H_out.</summary>
    public int OutHeight { get; }
    /// <summary>W_out.</summary>
    public int OutWidth { get; }

    /// <summary>N · C: the number of independent planes.</summary>
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
        $"Pool2d(input [{Batch}, {Channels}, {InHeight}, {InWidth}] → [{Batch}, {Channels}, {OutHeight}, {OutWidth}], kernel {KernelHeight}×{KernelWidth}, " +
        $"stride {StrideHeight}×{StrideWidth}, padding {PadHeight}×{PadWidth}, dilation {DilationHeight}×{DilationWidth}, ceil_mode {CeilMode})";
}
