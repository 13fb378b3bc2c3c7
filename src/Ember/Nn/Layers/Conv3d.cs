using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// 3-d convolution layer (torch.nn.Conv3d) over [N, C, D, H, W]: weight [C_out, C_in/groups, kD, kH, kW] and bias [C_out],
/// both initialized U(−1/√fan_in, 1/√fan_in) with fan_in = C_in/groups·kD·kH·kW, as PyTorch's default.
/// </summary>
public sealed class Conv3d : Module
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
    /// <summary>Padding.</summary>
    public ConvPadding3d Padding { get; }
    /// <summary>(dD, dH, dW).</summary>
    public (int D, int H, int W) Dilation { get; }
    /// <summary>Groups (C_in for depthwise).</summary>
    public int Groups { get; }
    /// <summary>How the border is filled.</summary>
    public PaddingMode PaddingMode { get; }

    /// <summary>A cubic-kernel convolution (torch.nn.Conv3d with ints).</summary>
    public Conv3d(int inChannels, int outChannels, int kernelSize, int stride = 1, ConvPadding3d padding = default, int dilation = 1,
        int groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Constant, Generator? generator = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize, kernelSize), (stride, stride, stride), padding, (dilation, dilation, dilation),
            groups, bias, paddingMode, generator) { }

    /// <summary>A convolution with per-dimension sizes (torch.nn.Conv3d with tuples).</summary>
    public Conv3d(int inChannels, int outChannels, (int D, int H, int W) kernelSize, (int D, int H, int W) stride, ConvPadding3d padding,
        (int D, int H, int W) dilation, int groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Constant, Generator? generator = null)
    {
        if (inChannels <= 0 || outChannels <= 0) throw new ArgumentException($"Conv3d: channels must be positive, got in_channels={inChannels}, out_channels={outChannels}");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv3d: in_channels ({inChannels}) and out_channels ({outChannels}) must be divisible by groups ({groups})");
        if (kernelSize.D <= 0 || kernelSize.H <= 0 || kernelSize.W <= 0) throw new ArgumentException($"Conv3d: kernel_size must be positive, got {kernelSize}");
        if (padding.IsSame && stride != (1, 1, 1)) throw new ArgumentException($"Conv3d: padding='same' is not supported for strided convolutions (stride {stride})");
        InChannels = inChannels; OutChannels = outChannels; KernelSize = kernelSize; Stride = stride; Padding = padding;
        Dilation = dilation; Groups = groups; PaddingMode = paddingMode;
        int fanIn = inChannels / groups * kernelSize.D * kernelSize.H * kernelSize.W;
        double bound = 1 / Math.Sqrt(fanIn);
        Weight = RegisterParameter("weight", Torch.Uniform(-bound, bound, [outChannels, inChannels / groups, kernelSize.D, kernelSize.H, kernelSize.W], generator: generator));
        Bias = bias ? RegisterParameter("bias", Torch.Uniform(-bound, bound, [outChannels], generator: generator)) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Conv3d(input, Weight, Bias, Stride, Padding, Dilation, Groups, PaddingMode);

    /// <inheritdoc/>
    protected override string ExtraRepr()
    {
        var s = $"{InChannels}, {OutChannels}, kernel_size=({KernelSize.D}, {KernelSize.H}, {KernelSize.W}), stride=({Stride.D}, {Stride.H}, {Stride.W})";
        if (Padding.IsSame) s += ", padding=same";
        else if (Padding != ConvPadding3d.Valid) s += $", padding=({Padding.D}, {Padding.H}, {Padding.W})";
        if (Dilation != (1, 1, 1)) s += $", dilation=({Dilation.D}, {Dilation.H}, {Dilation.W})";
        if (Groups != 1) s += $", groups={Groups}";
        if (Bias is null) s += ", bias=False";
        if (PaddingMode != PaddingMode.Constant) s += $", padding_mode={PaddingMode.ToString().ToLowerInvariant()}";
        return s;
    }
}
