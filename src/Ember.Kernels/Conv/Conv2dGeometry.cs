namespace Ember.Kernels.Conv;

/// <summary>
/// The sizes of a 2-D convolution (torch.nn.functional.conv2d) on contiguous NCHW data:
/// input [N, C_in, H, W], weight [C_out, C_in/groups, kH, kW], bias [C_out], output [N, C_out, H_out, W_out] with
/// H_out = floor((H + 2·padH − dilationH·(kH − 1) − 1) / strideH) + 1 (and likewise for W).
/// Conv1d is the case H = kH = 1.
/// </summary>
public readonly struct Conv2dGeometry
{
    /// <summary>Validates the sizes and computes the output size with PyTorch's formula.</summary>
    /// <exception cref="ArgumentException">A size is out of range, the channels do not divide by the groups, or the output would be empty.</exception>
    public Conv2dGeometry(int batch, int inChannels, int inHeight, int inWidth, int outChannels, int kernelHeight, int kernelWidth,
        int strideHeight = 1, int strideWidth = 1, int padHeight = 0, int padWidth = 0,
        int dilationHeight = 1, int dilationWidth = 1, int groups = 1)
    {
        string sizes = $"input [{batch}, {inChannels}, {inHeight}, {inWidth}], {outChannels} output channels, kernel {kernelHeight}×{kernelWidth}, " +
            $"stride {strideHeight}×{strideWidth}, padding {padHeight}×{padWidth}, dilation {dilationHeight}×{dilationWidth}, groups {groups}";
        if (batch < 0 || inChannels <= 0 || inHeight <= 0 || inWidth <= 0 || outChannels <= 0)
            throw new ArgumentException($"Conv2d: sizes must be positive (batch may be 0); got {sizes}");
        if (kernelHeight <= 0 || kernelWidth <= 0 || strideHeight <= 0 || strideWidth <= 0 || dilationHeight <= 0 || dilationWidth <= 0)
            throw new ArgumentException($"Conv2d: kernel, stride and dilation must be positive; got {sizes}");
        if (padHeight < 0 || padWidth < 0)
            throw new ArgumentException($"Conv2d: padding must be non-negative; got {sizes}");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: in and out channels must both be divisible by groups; got {sizes}");
        long outH = ((long)inHeight + 2L * padHeight - (long)dilationHeight * (kernelHeight - 1) - 1) / strideHeight + 1;
        long outW = ((long)inWidth + 2L * padWidth - (long)dilationWidth * (kernelWidth - 1) - 1) / strideWidth + 1;
        // The numerator can be negative; C# division truncates toward zero, so test it directly instead of the quotient.
        if ((long)inHeight + 2L * padHeight < (long)dilationHeight * (kernelHeight - 1) + 1 ||
            (long)inWidth + 2L * padWidth < (long)dilationWidth * (kernelWidth - 1) + 1)
            throw new ArgumentException($"Conv2d: the dilated kernel is larger than the padded input; got {sizes}");
        if ((long)batch * inChannels * inHeight * inWidth > int.MaxValue || (long)batch * outChannels * outH * outW > int.MaxValue ||
            (long)inChannels / groups * kernelHeight * kernelWidth * outH * outW > int.MaxValue)
            throw new ArgumentException($"Conv2d: tensors larger than 2^31 elements are not supported; got {sizes}");

        Batch = batch; InChannels = inChannels; InHeight = inHeight; InWidth = inWidth; OutChannels = outChannels;
        KernelHeight = kernelHeight; KernelWidth = kernelWidth; StrideHeight = strideHeight; StrideWidth = strideWidth;
        PadHeight = padHeight; PadWidth = padWidth; DilationHeight = dilationHeight; DilationWidth = dilationWidth; Groups = groups;
        OutHeight = (int)outH; OutWidth = (int)outW;
    }

    // Used by ConvTranspose2d: with output_padding ≥ stride (allowed when < dilation) the formula gives more outputs
    // than the transposed input has; the extra positions simply do not exist, so the kernels visit fewer of them.
    Conv2dGeometry(in Conv2dGeometry g, int outHeight, int outWidth)
    {
        this = g;
        OutHeight = outHeight; OutWidth = outWidth;
    }

    /// <summary>N.</summary>
    public int Batch { get; }
    /// <summary>C_in.</summary>
    public int InChannels { get; }
    /// <summary>H.</summary>
    public int InHeight { get; }
    /// <summary>W.</summary>
    public int InWidth { get; }
    /// <summary>C_out.</summary>
    public int OutChannels { get; }
    /// <summary>kH.</summary>
    public int KernelHeight { get; }
    /// <summary>kW.</summary>
    public int KernelWidth { get; }
    /// <summary>Vertical stride.</summary>
    public int StrideHeight { get; }
    /// <summary>Horizontal stride.</summary>
    public int StrideWidth { get; }
    /// <summary>Zero padding added above and below.</summary>
    public int PadHeight { get; }
    /// <summary>Zero padding added left and right.</summary>
    public int PadWidth { get; }
    /// <summary>Vertical spacing between kernel taps.</summary>
    public int DilationHeight { get; }
    /// <summary>Horizontal spacing between kernel taps.</summary>
    public int DilationWidth { get; }
    /// <summary>Number of groups; groups == C_in is a depthwise convolution.</summary>
    public int Groups { get; }
    /// <summary>H_out = floor((H + 2·padH − dilationH·(kH − 1) − 1) / strideH) + 1.</summary>
    public int OutHeight { get; }
    /// <summary>W_out = floor((W + 2·padW − dilationW·(kW − 1) − 1) / strideW) + 1.</summary>
    public int OutWidth { get; }

    /// <summary>C_in / groups.</summary>
    public int InChannelsPerGroup => InChannels / Groups;
    /// <summary>C_out / groups.</summary>
    public int OutChannelsPerGroup => OutChannels / Groups;
    /// <summary>Rows of the im2col matrix of one group: C_in/groups · kH · kW (the GEMM's inner dimension).</summary>
    public int ColumnRows => InChannelsPerGroup * KernelHeight * KernelWidth;
    /// <summary>H · W.</summary>
    public int InPlane => InHeight * InWidth;
    /// <summary>H_out · W_out (the GEMM's column count).</summary>
    public int OutPlane => OutHeight * OutWidth;
    /// <summary>N · C_in · H · W.</summary>
    public int InputLength => Batch * InChannels * InPlane;
    /// <summary>N · C_out · H_out · W_out.</summary>
    public int OutputLength => Batch * OutChannels * OutPlane;
    /// <summary>C_out · C_in/groups · kH · kW.</summary>
    public int WeightLength => OutChannels * ColumnRows;

    /// <summary>True when the im2col matrix is the input itself (1×1 kernel, stride 1, no padding), so no copy is needed.</summary>
    internal bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1 && PadHeight == 0 && PadWidth == 0
        && OutHeight == InHeight && OutWidth == InWidth;

    internal Conv2dGeometry WithOutputSize(int outHeight, int outWidth) => new(this, outHeight, outWidth);

    /// <summary>The same convolution over <paramref name="batch"/> images (a slice of the batch).</summary>
    internal Conv2dGeometry WithBatch(int batch) => new(this, batch);

    Conv2dGeometry(in Conv2dGeometry g, int batch)
    {
        this = g;
        Batch = batch;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"Conv2d(input [{Batch}, {InChannels}, {InHeight}, {InWidth}] → [{Batch}, {OutChannels}, {OutHeight}, {OutWidth}], kernel {KernelHeight}×{KernelWidth}, " +
        $"stride {StrideHeight}×{StrideWidth}, padding {PadHeight}×{PadWidth}, dilation {DilationHeight}×{DilationWidth}, groups {Groups})";
}
