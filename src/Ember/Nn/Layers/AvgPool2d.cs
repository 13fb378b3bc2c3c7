using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>Average pooling layer (torch.nn.AvgPool2d); each size an int or an (H, W) pair; stride defaults to the kernel size.</summary>
public sealed class AvgPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) : Module
{
    /// <summary>Window size (kH, kW).</summary>
    public Size2 KernelSize { get; } = kernelSize;
    /// <summary>Step between windows (defaults to the kernel size).</summary>
    public Size2 Stride { get; } = stride ?? kernelSize;
    /// <summary>Implicit zero padding on both sides.</summary>
    public Size2 Padding { get; } = padding ?? 0;
    /// <summary>Whether the output size rounds up.</summary>
    public bool CeilMode { get; } = ceilMode;
    /// <summary>Whether padded zeros count in the divisor.</summary>
    public bool CountIncludePad { get; } = countIncludePad;
    /// <summary>A fixed divisor replacing the window size, or null.</summary>
    public int? DivisorOverride { get; } = divisorOverride;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AvgPool2d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad, DivisorOverride);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"kernel_size={MaxPool2d.Repr(KernelSize)}, stride={MaxPool2d.Repr(Stride)}, padding={MaxPool2d.Repr(Padding)}";
}
