using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Transposed 2-D convolution (torch.nn.ConvTranspose2d): weight [C_in, C_out/groups, kH, kW], PyTorch's default
/// initialization (fan_in from weight.size(1)); each size an int or an (H, W) pair.
/// </summary>
public sealed class ConvTranspose2d : Module
{
    /// <summary>The kernel weights.</summary>
    public Parameter Weight { get; }
    /// <summary>The bias, or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }
    /// <summary>Output channels.</summary>
    public int OutChannels { get; }
    /// <summary>Kernel (height, width).</summary>
    public Size2 KernelSize { get; }
    /// <summary>Stride.</summary>
    public Size2 Stride { get; }
    /// <summary>Implicit zero padding removed from both sides of the output.</summary>
    public Size2 Padding { get; }
    /// <summary>Extra size added to one side of the output.</summary>
    public Size2 OutputPadding { get; }
    /// <summary>Number of channel groups.</summary>
    public int Groups { get; }
    /// <summary>Kernel dilation.</summary>
    public Size2 Dilation { get; }

    /// <summary>Creates the layer (PyTorch's argument order: kernel_size, stride, padding, output_padding, groups, bias, dilation).</summary>
    public ConvTranspose2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? outputPadding = null,
        int groups = 1, bool bias = true, Size2? dilation = null, Generator? generator = null)
    {
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"ConvTranspose2d: in_channels ({inChannels}) and out_channels ({outChannels}) must be divisible by groups ({groups})");
        (InChannels, OutChannels, KernelSize, Groups) = (inChannels, outChannels, kernelSize, groups);
        (Stride, Padding, OutputPadding, Dilation) = (stride ?? 1, padding ?? 0, outputPadding ?? 0, dilation ?? 1);
        // PyTorch computes fan_in from weight dim 1 (C_out/groups) for transposed convolutions
        double bound = 1 / Math.Sqrt(outChannels / groups * kernelSize.H * kernelSize.W);
        Weight = RegisterParameter("weight", Torch.Uniform(-bound, bound, [inChannels, outChannels / groups, kernelSize.H, kernelSize.W], generator: generator));
        Bias = bias ? RegisterParameter("bias", Torch.Uniform(-bound, bound, [outChannels], generator: generator)) : RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}"
        + (Padding != 0 ? $", padding={Padding}" : "") + (OutputPadding != 0 ? $", output_padding={OutputPadding}" : "")
        + (Dilation != 1 ? $", dilation={Dilation}" : "") + (Groups != 1 ? $", groups={Groups}" : "")
        + (Bias is null ? ", bias=False" : "");
}
