using Ember.Ops;

namespace Ember.Nn.Functional;

public static partial class F
{
    /// <summary>
    /// Max pooling (torch.nn.functional.max_pool2d); each size an int or an (H, W) pair; stride defaults to the kernel size;
    /// padding counts as −∞.
    /// </summary>
    public static Tensor MaxPool2d(Tensor input, Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? dilation = null, bool ceilMode = false)
        => PoolOps.MaxPool2dOutput(input, kernelSize, stride ?? kernelSize, padding ?? 0, dilation ?? 1, ceilMode);

    /// <summary>Max pooling returning the flat argmax index of each window within its H×W plane (return_indices=True).</summary>
    public static (Tensor Output, Tensor Indices) MaxPool2dWithIndices(Tensor input, Size2 kernelSize, Size2? stride = null,
        Size2? padding = null, Size2? dilation = null, bool ceilMode = false)
        => PoolOps.MaxPool2d(input, kernelSize, stride ?? kernelSize, padding ?? 0, dilation ?? 1, ceilMode);

    /// <summary>Average pooling (torch.nn.functional.avg_pool2d); each size an int or an (H, W) pair; stride defaults to the kernel size.</summary>
    public static Tensor AvgPool2d(Tensor input, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
        => PoolOps.AvgPool2d(input, kernelSize, stride ?? kernelSize, padding ?? 0, ceilMode, countIncludePad, divisorOverride);

    /// <summary>Adaptive average pooling to a fixed output size, an int (square) or an (H, W) pair (torch.nn.functional.adaptive_avg_pool2d).</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, Size2 outputSize)
        // PyTorch computes a 1×1 output as a mean over (H, W)
        => outputSize == 1 ? Autograd.Recording.Named(PoolOps.AdaptiveAvgPool2d(input, outputSize), "MeanBackward1", input) : PoolOps.AdaptiveAvgPool2d(input, outputSize);

    /// <summary>Adaptive max pooling to a fixed output size, an int (square) or an (H, W) pair (torch.nn.functional.adaptive_max_pool2d).</summary>
    public static Tensor AdaptiveMaxPool2d(Tensor input, Size2 outputSize) => PoolOps.AdaptiveMaxPool2d(input, outputSize).Output;
}
