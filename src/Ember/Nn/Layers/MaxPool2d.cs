using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Max pooling layer (torch.nn.MaxPool2d); each size an int or an (H, W) pair; stride defaults to the kernel size.</summary>
public sealed class MaxPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? dilation = null, bool ceilMode = false) : Module
{
    /// <summary>Window size (kH, kW).</summary>
    public Size2 KernelSize { get; } = kernelSize;
    /// <summary>Step between windows.</summary>
    public Size2 Stride { get; } = stride ?? kernelSize;
    /// <summary>Implicit −∞ padding on both sides.</summary>
    public Size2 Padding { get; } = padding ?? 0;
    /// <summary>Spacing between window elements.</summary>
    public Size2 Dilation { get; } = dilation ?? 1;
    /// <summary>Whether the output size rounds up.</summary>
    public bool CeilMode { get; } = ceilMode;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"kernel_size={Repr(KernelSize)}, stride={Repr(Stride)}, padding={Repr(Padding)}, dilation={Repr(Dilation)}, ceil_mode={(CeilMode ? "True" : "False")}";

    // PyTorch prints the argument as given; a square size prints as the int most code passes
    internal static string Repr(Size2 s) => s.IsSquare ? s.H.ToString(System.Globalization.CultureInfo.InvariantCulture) : s.ToString();
}
