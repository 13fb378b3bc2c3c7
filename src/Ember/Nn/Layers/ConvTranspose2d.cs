using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Transposed 2-D convolution (torch.nn.ConvTranspose2d): weight [C_in, C_out/groups, kH, kW], PyTorch's default initialization (fan_in from weight.size(1)).</summary>
public sealed class ConvTranspose2d : Module
{
    /// <summary>The kernel weights.</summary>
    public Parameter Weight { get; }
    /// <summary>The bias, or null.</summary>
    public Parameter? Bias { get; }
    readonly int inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, dilation;

    /// <summary>Input channels.</summary>
    public int InChannels => inChannels;
    /// <summary>Output channels.</summary>
    public int OutChannels => outChannels;
    /// <summary>Kernel height and width.</summary>
    public int KernelSize => kernelSize;
    /// <summary>Stride (both spatial dims).</summary>
    public int Stride => stride;
    /// <summary>Implicit zero padding removed from both sides of the output (both spatial dims).</summary>
    public int Padding => padding;
    /// <summary>Extra size added to one side of the output (both spatial dims).</summary>
    public int OutputPadding => outputPadding;
    /// <summary>Number of channel groups.</summary>
    public int Groups => groups;
    /// <summary>Kernel dilation (both spatial dims).</summary>
    public int Dilation => dilation;

    /// <summary>Creates the layer.</summary>
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0,
        int groups = 1, bool bias = true, int dilation = 1, Generator? generator = null)
    {
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"ConvTranspose2d: in_channels ({inChannels}) and out_channels ({outChannels}) must be divisible by groups ({groups})");
        (this.inChannels, this.outChannels, this.kernelSize, this.stride, this.padding, this.outputPadding, this.groups, this.dilation)
            = (inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, dilation);
        // PyTorch computes fan_in from weight dim 1 (C_out/groups) for transposed convolutions
        double bound = 1 / Math.Sqrt(outChannels / groups * kernelSize * kernelSize);
        Weight = RegisterParameter("weight", Torch.Uniform(-bound, bound, [inChannels, outChannels / groups, kernelSize, kernelSize], generator: generator));
        Bias = bias ? RegisterParameter("bias", Torch.Uniform(-bound, bound, [outChannels], generator: generator)) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.ConvTranspose2d(input, Weight, Bias, (stride, stride), (padding, padding), (outputPadding, outputPadding), groups, (dilation, dilation));

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{inChannels}, {outChannels}, kernel_size=({kernelSize}, {kernelSize}), stride=({stride}, {stride})"
        + (padding != 0 ? $", padding=({padding}, {padding})" : "") + (outputPadding != 0 ? $", output_padding=({outputPadding}, {outputPadding})" : "")
        + (Bias is null ? ", bias=False" : "");
}
