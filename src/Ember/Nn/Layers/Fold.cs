using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Sums sliding blocks back into images [N, C·kH·kW, L] → [N, C, H, W] (torch.nn.Fold); see <see cref="F.Fold(Tensor, int, int, int, int, int)"/>.</summary>
public sealed class Fold : Module
{
    /// <summary>The output's spatial size (H, W).</summary>
    public (int H, int W) OutputSize { get; }
    /// <summary>Block size (H, W).</summary>
    public (int H, int W) KernelSize { get; }
    /// <summary>Spacing between block elements.</summary>
    public (int H, int W) Dilation { get; }
    /// <summary>Implicit zero padding on both sides.</summary>
    public (int H, int W) Padding { get; }
    /// <summary>Step between blocks.</summary>
    public (int H, int W) Stride { get; }

    /// <summary>Square output and blocks (torch.nn.Fold with ints).</summary>
    public Fold(int outputSize, int kernelSize, int dilation = 1, int padding = 0, int stride = 1)
        : this((outputSize, outputSize), (kernelSize, kernelSize), (dilation, dilation), (padding, padding), (stride, stride)) { }

    /// <summary>Rectangular output and blocks (torch.nn.Fold with tuples).</summary>
    public Fold((int H, int W) outputSize, (int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null, (int H, int W)? stride = null)
    {
        OutputSize = outputSize; KernelSize = kernelSize; Dilation = dilation ?? (1, 1); Padding = padding ?? (0, 0); Stride = stride ?? (1, 1);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Fold(input, OutputSize, KernelSize, Dilation, Padding, Stride);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"output_size={OutputSize}, kernel_size={KernelSize}, dilation={Dilation}, padding={Padding}, stride={Stride}";
}
