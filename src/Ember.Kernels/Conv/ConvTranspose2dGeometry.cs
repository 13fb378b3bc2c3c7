namespace Ember.Kernels.Conv;

/// <summary>
/// The sizes of a 2-D transposed convolution (torch.nn.functional.conv_transpose2d) on contiguous NCHW data:
/// input [N, C_in, H, W], weight [C_in, C_out/groups, kH, kW], bias [C_out], output [N, C_out, H_out, W_out] with
/// H_out = (H − 1)·strideH − 2·padH + dilationH·(kH − 1) + outputPadH + 1 (and likewise for W).
/// It is the gradient of the convolution <see cref="Conv"/> (from [N, C_out, H_out, W_out] to [N, C_in, H, W]) with
/// respect to that convolution's input, and its weight has exactly that convolution's weight layout.
/// </summary>
public readonly struct ConvTranspose2dGeometry
{
    /// <summary>Validates the sizes (output padding must be smaller than the stride or the dilation, as in PyTorch) and computes the output size.</summary>
    /// <exception cref="ArgumentException">A size is out of range or the output would be empty.</exception>
    public ConvTranspose2dGeometry(int batch, int inChannels, int inHeight, int inWidth, int outChannels, int kernelHeight, int kernelWidth,
        int strideHeight = 1, int strideWidth = 1, int padHeight = 0, int padWidth = 0, int outputPadHeight = 0, int outputPadWidth = 0,
        int dilationHeight = 1, int dilationWidth = 1, int groups = 1)
    {
        string sizes = $"input [{batch}, {inChannels}, {inHeight}, {inWidth}], {outChannels} output channels, kernel {kernelHeight}×{kernelWidth}, " +
            $"stride {strideHeight}×{strideWidth}, padding {padHeight}×{padWidth}, output padding {outputPadHeight}×{outputPadWidth}, " +
            $"dilation {dilationHeight}×{dilationWidth}, groups {groups}";
        if (batch < 0 || inChannels <= 0 || inHeight <= 0 || inWidth <= 0 || outChannels <= 0 || kernelHeight <= 0 || kernelWidth <= 0 ||
            strideHeight <= 0 || strideWidth <= 0 || dilationHeight <= 0 || dilationWidth <= 0 || padHeight < 0 || padWidth < 0 ||
            outputPadHeight < 0 || outputPadWidth < 0)
            throw new ArgumentException($"ConvTranspose2d: sizes must be positive (batch, padding and output padding may be 0); got {sizes}");
        if ((outputPadHeight >= strideHeight && outputPadHeight >= dilationHeight) || (outputPadWidth >= strideWidth && outputPadWidth >= dilationWidth))
            throw new ArgumentException($"ConvTranspose2d: output padding must be smaller than either stride or dilation; got {sizes}");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"ConvTranspose2d: in and out channels must both be divisible by groups; got {sizes}");
        long outH = ((long)inHeight - 1) * strideHeight - 2L * padHeight + (long)dilationHeight * (kernelHeight - 1) + outputPadHeight + 1;
        long outW = ((long)inWidth - 1) * strideWidth - 2L * padWidth + (long)dilationWidth * (kernelWidth - 1) + outputPadWidth + 1;
        if (outH <= 0 || outW <= 0)
            throw new ArgumentException($"ConvTranspose2d: the output would be {outH}×{outW}; got {sizes}");
        if (outH * outW * batch * outChannels > int.MaxValue)
            throw new ArgumentException($"ConvTranspose2d: tensors larger than 2^31 elements are not supported; got {sizes}");

        OutputPadHeight = outputPadHeight; OutputPadWidth = outputPadWidth;
        // H_out + 2p − d(k−1) − 1 = (H−1)s + outputPad ≥ 0, so the forward convolution from H_out always exists and has
        // H + floor(outputPad / s) ≥ H outputs; only the first H of them are the transposed input.
        Conv = new Conv2dGeometry(batch, outChannels, (int)outH, (int)outW, inChannels, kernelHeight, kernelWidth,
            strideHeight, strideWidth, padHeight, padWidth, dilationHeight, dilationWidth, groups).WithOutputSize(inHeight, inWidth);
    }

    /// <summary>The convolution whose input gradient this transposed convolution is: its input is our output and its output our input.</summary>
    public Conv2dGeometry Conv { get; }
    /// <summary>Extra rows added to one side of the output.</summary>
    public int OutputPadHeight { get; }
    /// <summary>Extra columns added to one side of the output.</summary>
    public int OutputPadWidth { get; }

    /// <summary>N.</summary>
    public int Batch => Conv.Batch;
    /// <summary>C_in of the transposed convolution (C_out of <see cref="Conv"/>).</summary>
    public int InChannels => Conv.OutChannels;
    /// <summary>H.</summary>
    public int InHeight => Conv.OutHeight;
    /// <summary>W.</summary>
    public int InWidth => Conv.OutWidth;
    /// <summary>C_out of the transposed convolution (C_in of <see cref="Conv"/>).</summary>
    public int OutChannels => Conv.InChannels;
    /// <summary>H_out = (H − 1)·strideH − 2·padH + dilationH·(kH − 1) + outputPadH + 1.</summary>
    public int OutHeight => Conv.InHeight;
    /// <summary>W_out = (W − 1)·strideW − 2·padW + dilationW·(kW − 1) + outputPadW + 1.</summary>
    public int OutWidth => Conv.InWidth;
    /// <summary>N · C_in · H · W.</summary>
    public int InputLength => Conv.OutputLength;
    /// <summary>N · C_out · H_out · W_out.</summary>
    public int OutputLength => Conv.InputLength;
    /// <summary>C_in · C_out/groups · kH · kW.</summary>
    public int WeightLength => Conv.WeightLength;

    /// <inheritdoc/>
    public override string ToString() =>
        $"ConvTranspose2d(input [{Batch}, {InChannels}, {InHeight}, {InWidth}] → [{Batch}, {OutChannels}, {OutHeight}, {OutWidth}], " +
        $"kernel {Conv.KernelHeight}×{Conv.KernelWidth}, stride {Conv.StrideHeight}×{Conv.StrideWidth}, padding {Conv.PadHeight}×{Conv.PadWidth}, " +
        $"output padding {OutputPadHeight}×{OutputPadWidth}, dilation {Conv.DilationHeight}×{Conv.DilationWidth}, groups {Conv.Groups})";
}
