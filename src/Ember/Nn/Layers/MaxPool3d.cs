using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>3-d max pooling layer over [N, C, D, H, W] (torch.nn.MaxPool3d); stride defaults to the kernel size.</summary>
public sealed class MaxPool3d : Module
{
    /// <summary>Window size (D, H, W).</summary>
    public (int D, int H, int W) KernelSize { get; }
    /// <summary>Step between windows.</summary>
    public (int D, int H, int W) Stride { get; }
    /// <summary>Implicit −∞ padding on both sides.</summary>
    public (int D, int H, int W) Padding { get; }
    /// <summary>Spacing between window elements.</summary>
    public (int D, int H, int W) Dilation { get; }
    /// <summary>Whether the output size rounds up.</summary>
    public bool CeilMode { get; }

    /// <summary>A cubic window (torch.nn.MaxPool3d with ints).</summary>
    public MaxPool3d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        : this((kernelSize, kernelSize, kernelSize), stride is { } s ? (s, s, s) : null, (padding, padding, padding), (dilation, dilation, dilation), ceilMode) { }

    /// <summary>A (D, H, W) window (torch.nn.MaxPool3d with tuples).</summary>
    public MaxPool3d((int D, int H, int W) kernelSize, (int D, int H, int W)? stride = null, (int D, int H, int W)? padding = null,
        (int D, int H, int W)? dilation = null, bool ceilMode = false)
    {
        KernelSize = kernelSize; Stride = stride ?? kernelSize; Padding = padding ?? (0, 0, 0); Dilation = dilation ?? (1, 1, 1); CeilMode = ceilMode;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => F.MaxPool3d(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}, dilation={Dilation}, ceil_mode={(CeilMode ? "True" : "False")}";
}
