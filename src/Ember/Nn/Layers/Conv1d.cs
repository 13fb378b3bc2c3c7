using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>1-D convolution layer (torch.nn.Conv1d) over [N, C, L]; weight [C_out, C_in/groups, k], PyTorch's default initialization.</summary>
public sealed class Conv1d : Module
{
    /// <summary>The kernel weights.</summary>
    public Parameter Weight { get; }
    /// <summary>The bias, or null.</summary>
    public Parameter? Bias { get; }
    readonly int inChannels, outChannels, kernelSize, stride, dilation, groups;
    readonly ConvPadding padding;
    readonly PaddingMode paddingMode;

    /// <summary>Creates the layer.</summary>
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, ConvPadding padding = default, int dilation = 1,
        int groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Constant, Generator? generator = null)
    {
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv1d: in_channels ({inChannels}) and out_channels ({outChannels}) must be divisible by groups ({groups})");
        (this.inChannels, this.outChannels, this.kernelSize, this.stride, this.padding, this.dilation, this.groups, this.paddingMode)
            = (inChannels, outChannels, kernelSize, stride, padding, dilation, groups, paddingMode);
        double bound = 1 / Math.Sqrt(inChannels / groups * kernelSize);
        Weight = RegisterParameter("weight", Torch.Uniform(-bound, bound, [outChannels, inChannels / groups, kernelSize], generator: generator));
        Bias = bias ? RegisterParameter("bias", Torch.Uniform(-bound, bound, [outChannels], generator: generator)) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Conv1d(input, Weight, Bias, stride, padding, dilation, groups, paddingMode);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{inChannels}, {outChannels}, kernel_size=({kernelSize},), stride=({stride},)"
        + (padding.IsSame ? ", padding=same" : padding.H != 0 ? $", padding=({padding.H},)" : "") + (Bias is null ? ", bias=False" : "");
}
