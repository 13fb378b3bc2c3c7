using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Transposed 3-d convolution layer (torch.nn.ConvTranspose3d) over [N, C, D, H, W]: weight [C_in, C_out/groups, kD, kH, kW] and
/// bias [C_out], both U(−1/√fan_in, 1/√fan_in) with fan_in from weight dim 1 (C_out/groups·kD·kH·kW), as PyTorch's default.
/// </summary>
public sealed class ConvTranspose3d : Module
{
    /// <summary>The kernel weights.</summary>
    public Parameter Weight { get; }
    /// <summary>The per-channel bias, or null.</summary>
    public Parameter? Bias { get; }
    /// <summary>Input channels.</summary>
    public int InChannels { get; }
    /// <summary>Output channels.</summary>
    public int OutChannels { get; }
    /// <summary>(kD, kH, kW).</summary>
    public (int D, int H, int W) KernelSize { get; }
    /// <summary>(sD, sH, sW).</summary>
    public (int D, int H, int W) Stride { get; }
    /// <summary>Cropped from both ends of every spatial dim.</summary>
    public (int D, int H, int W) Padding { get; }
    /// <summary>Added at the far end of every spatial dim (smaller than the stride or the dilation).</summary>
    public (int D, int H, int W) OutputPadding { get; }
    /// <summary>Groups.</summary>
    public int Groups { get; }
    /// <summary>(dD, dH, dW).</summary>
    public (int D, int H, int W) Dilation { get; }

    /// <summary>A cubic-kernel transposed convolution (torch.nn.ConvTranspose3d with ints, in its argument order).</summary>
    public ConvTranspose3d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0,
        int groups = 1, bool bias = true, int dilation = 1, Generator? generator = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize, kernelSize), (stride, stride, stride), (padding, padding, padding),
            (outputPadding, outputPadding, outputPadding), groups, bias, (dilation, dilation, dilation), generator) { }

    /// <summary>A transposed convolution with per-dimension sizes (torch.nn.ConvTranspose3d with tuples).</summary>
    public ConvTranspose3d(int inChannels, int outChannels, (int D, int H, int W) kernelSize, (int D, int H, int W) stride, (int D, int H, int W) padding,
        (int D, int H, int W) outputPadding, int groups = 1, bool bias = true, (int D, int H, int W)? dilation = null, Generator? generator = null)
    {
        if (inChannels <= 0 || outChannels <= 0) throw new ArgumentException($"ConvTranspose3d: channels must be positive, got in_channels={inChannels}, out_channels={outChannels}");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"ConvTranspose3d: in_channels ({inChannels}) and out_channels ({outChannels}) must be divisible by groups ({groups})");
        if (kernelSize.D <= 0 || kernelSize.H <= 0 || kernelSize.W <= 0) throw new ArgumentException($"ConvTranspose3d: kernel_size must be positive, got {kernelSize}");
        InChannels = inChannels; OutChannels = outChannels; KernelSize = kernelSize; Stride = stride; Padding = padding;
        OutputPadding = outputPadding; Groups = groups; Dilation = dilation ?? (1, 1, 1);
        double bound = 1 / Math.Sqrt(outChannels / groups * kernelSize.D * kernelSize.H * kernelSize.W);
        Weight = RegisterParameter("weight", Torch.Uniform(-bound, bound, [inChannels, outChannels / groups, kernelSize.D, kernelSize.H, kernelSize.W], generator: generator));
        Bias = bias ? RegisterParameter("bias", Torch.Uniform(-bound, bound, [outChannels], generator: generator)) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.ConvTranspose3d(input, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation);

    /// <inheritdoc/>
    protected override string ExtraRepr()
    {
        var s = $"{InChannels}, {OutChannels}, kernel_size=({KernelSize.D}, {KernelSize.H}, {KernelSize.W}), stride=({Stride.D}, {Stride.H}, {Stride.W})";
        if (Padding != (0, 0, 0)) s += $", padding=({Padding.D}, {Padding.H}, {Padding.W})";
        if (OutputPadding != (0, 0, 0)) s += $", output_padding=({OutputPadding.D}, {OutputPadding.H}, {OutputPadding.W})";
        if (Dilation != (1, 1, 1)) s += $", dilation=({Dilation.D}, {Dilation.H}, {Dilation.W})";
        if (Groups != 1) s += $", groups={Groups}";
        if (Bias is null) s += ", bias=False";
        return s;
    }
}
