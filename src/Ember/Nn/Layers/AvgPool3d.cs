using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>3-d average pooling layer over [N, C, D, H, W] (torch.nn.AvgPool3d).</summary>
public sealed class AvgPool3d : Module
{
    /// <summary>Window size (D, H, W).</summary>
    public (int D, int H, int W) KernelSize { get; }
    /// <summary>Step between windows (defaults to the kernel size).</summary>
    public (int D, int H, int W) Stride { get; }
    /// <summary>Implicit zero padding on both sides.</summary>
    public (int D, int H, int W) Padding { get; }
    /// <summary>Whether the output size rounds up.</summary>
    public bool CeilMode { get; }
    /// <summary>Whether padded zeros count in the divisor.</summary>
    public bool CountIncludePad { get; }
    /// <summary>A fixed divisor replacing the window size, or null.</summary>
    public int? DivisorOverride { get; }

    /// <summary>A cubic window (torch.nn.AvgPool3d with ints).</summary>
    public AvgPool3d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
        : this((kernelSize, kernelSize, kernelSize), stride is { } s ? (s, s, s) : null, (padding, padding, padding), ceilMode, countIncludePad, divisorOverride) { }

    /// <summary>A (D, H, W) window (torch.nn.AvgPool3d with tuples).</summary>
    public AvgPool3d((int D, int H, int W) kernelSize, (int D, int H, int W)? stride = null, (int D, int H, int W)? padding = null,
        bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
    {
        KernelSize = kernelSize; Stride = stride ?? kernelSize; Padding = padding ?? (0, 0, 0);
        CeilMode = ceilMode; CountIncludePad = countIncludePad; DivisorOverride = divisorOverride;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.AvgPool3d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad, DivisorOverride);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}";
}
