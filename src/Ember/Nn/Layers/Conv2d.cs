using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// 2-D convolution layer (torch.nn.Conv2d): weight [C_out, C_in/groups, kH, kW] and bias [C_out], both initialized
/// U(−1/√fan_in, 1/√fan_in) with fan_in = C_in/groups·kH·kW, as PyTorch's default (kaiming_uniform with a = √5).
/// </summary>
public sealed class Conv2d : Module
{
    /// <summary>The kernel weights.</summary>
    public Parameter Weight { get; }
    /// <summary>The per-channel bias, or null.</summary>
    public Parameter? Bias { get; }
    /// <summary>Input channels.</summary>
    public int InChannels { get; }
    /// <summary>Output channels.</summary>
    public int OutChannels { get; }
    /// <summary>(kH, kW).</summary>
    public (int H, int W) KernelSize { get; }
    /// <summary>(sH, sW).</summary>
    public (int H, int W) Stride { get; }
    /// <summary>Padding.</summary>
    public ConvPadding Padding { get; }
    /// <summary>(dH, dW).</summary>
    public (int H, int W) Dilation { get; }
    /// <summary>Groups (C_in for depthwise).</summary>
    public int Groups { get; }
    /// <summary>How the border is filled.</summary>
    public PaddingMode PaddingMode { get; }

    /// <summary>
    /// A convolution (PyTorch's argument order); kernel size, stride and dilation are each an int or an (H, W) pair;
    /// stride and dilation default to 1.
    /// </summary>
    public Conv2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, ConvPadding padding = default, Size2? dilation = null,
        int groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Constant, Generator? generator = null)
    {
        if (inChannels <= 0 || outChannels <= 0) throw new ArgumentException($"Conv2d: channels must be positive, got in_channels={inChannels}, out_channels={outChannels}");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: in_channels ({inChannels}) and out_channels ({outChannels}) must be divisible by groups ({groups})");
        (int H, int W) s = stride ?? 1;
        if (padding.IsSame && s != (1, 1)) throw new ArgumentException($"Conv2d: padding='same' is not supported for strided convolutions (stride {s})");
        InChannels = inChannels; OutChannels = outChannels; KernelSize = kernelSize; Stride = s; Padding = padding;
        Dilation = dilation ?? 1; Groups = groups; PaddingMode = paddingMode;
        int fanIn = inChannels / groups * kernelSize.H * kernelSize.W;
        double bound = 1 / Math.Sqrt(fanIn);
        Weight = RegisterParameter("weight", Torch.Uniform(-bound, bound, [outChannels, inChannels / groups, kernelSize.H, kernelSize.W], generator: generator));
        Bias = bias ? RegisterParameter("bias", Torch.Uniform(-bound, bound, [outChannels], generator: generator)) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups, PaddingMode);

    /// <inheritdoc/>
    protected override string ExtraRepr()
    {
        var s = $"{InChannels}, {OutChannels}, kernel_size=({KernelSize.H}, {KernelSize.W}), stride=({Stride.H}, {Stride.W})";
        if (Padding.IsSame) s += ", padding=same";
        else if (Padding.H != 0 || Padding.W != 0) s += $", padding=({Padding.H}, {Padding.W})";
        if (Dilation != (1, 1)) s += $", dilation=({Dilation.H}, {Dilation.W})";
        if (Groups != 1) s += $", groups={Groups}";
        if (Bias is null) s += ", bias=False";
        if (PaddingMode != PaddingMode.Constant) s += $", padding_mode={PaddingMode.ToString().ToLowerInvariant()}";
        return s;
    }
}
