using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Extracts sliding blocks [N, C, H, W] → [N, C·kH·kW, L] (torch.nn.Unfold); see <see cref="F.Unfold(Tensor, int, int, int, int)"/>.</summary>
public sealed class Unfold : Module
{
    /// <summary>Block size (H, W).</summary>
    public (int H, int W) KernelSize { get; }
    /// <summary>Spacing between block elements.</summary>
    public (int H, int W) Dilation { get; }
    /// <summary>Implicit zero padding on both sides.</summary>
    public (int H, int W) Padding { get; }
    /// <summary>Step between blocks.</summary>
    public (int H, int W) Stride { get; }

    /// <summary>Square blocks (torch.nn.Unfold with ints).</summary>
    public Unfold(int kernelSize, int dilation = 1, int padding = 0, int stride = 1)
        : this((kernelSize, kernelSize), (dilation, dilation), (padding, padding), (stride, stride)) { }

    /// <summary>Rectangular blocks (torch.nn.Unfold with tuples).</summary>
    public Unfold((int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null, (int H, int W)? stride = null)
    {
        KernelSize = kernelSize; Dilation = dilation ?? (1, 1); Padding = padding ?? (0, 0); Stride = stride ?? (1, 1);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.Unfold(input, KernelSize, Dilation, Padding, Stride);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"kernel_size={KernelSize}, dilation={Dilation}, padding={Padding}, stride={Stride}";
}
