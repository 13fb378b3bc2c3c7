using Ember.Ops;

namespace Ember.Nn.Functional;

public static partial class F
{
    /// <summary>Max pooling (torch.nn.functional.max_pool2d); stride defaults to the kernel size; padding counts as −∞.</summary>
    public static Tensor MaxPool2d(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        => PoolOps.MaxPool2dOutput(input, (kernelSize, kernelSize), (stride ?? kernelSize, stride ?? kernelSize), (padding, padding), (dilation, dilation), ceilMode);

    /// <summary>Rectangular max pooling: each argument an (H, W) pair, as PyTorch's tuples (torch.nn.functional.max_pool2d).</summary>
    public static Tensor MaxPool2d(Tensor input, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        (int H, int W)? dilation = null, bool ceilMode = false)
        => PoolOps.MaxPool2dOutput(input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), dilation ?? (1, 1), ceilMode);

    /// <summary>Max pooling returning the flat argmax index of each window within its H×W plane (return_indices=True).</summary>
    public static (Tensor Output, Tensor Indices) MaxPool2dWithIndices(Tensor input, (int H, int W) kernelSize, (int H, int W)? stride = null,
        (int H, int W)? padding = null, (int H, int W)? dilation = null, bool ceilMode = false)
        => PoolOps.MaxPool2d(input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), dilation ?? (1, 1), ceilMode);

    /// <summary>Average pooling (torch.nn.functional.avg_pool2d).</summary>
    public static Tensor AvgPool2d(Tensor input, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
        => PoolOps.AvgPool2d(input, (kernelSize, kernelSize), (stride ?? kernelSize, stride ?? kernelSize), (padding, padding), ceilMode, countIncludePad, divisorOverride);

    /// <summary>Rectangular average pooling: each argument an (H, W) pair (torch.nn.functional.avg_pool2d with tuples).</summary>
    public static Tensor AvgPool2d(Tensor input, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null,
        bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
        => PoolOps.AvgPool2d(input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), ceilMode, countIncludePad, divisorOverride);

    /// <summary>Adaptive average pooling to a square output size × size (torch.nn.functional.adaptive_avg_pool2d with an int).</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, int outputSize) => AdaptiveAvgPool2d(input, (outputSize, outputSize));

    /// <summary>Adaptive max pooling to a square output size × size (torch.nn.functional.adaptive_max_pool2d with an int).</summary>
    public static Tensor AdaptiveMaxPool2d(Tensor input, int outputSize) => AdaptiveMaxPool2d(input, (outputSize, outputSize));

    /// <summary>Adaptive average pooling to a fixed output size (torch.nn.functional.adaptive_avg_pool2d).</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, (int H, int W) outputSize)
        // PyTorch computes a 1×1 output as a mean over (H, W)
        => outputSize == (1, 1) ? Autograd.Recording.Named(PoolOps.AdaptiveAvgPool2d(input, outputSize), "MeanBackward1", input) : PoolOps.AdaptiveAvgPool2d(input, outputSize);

    /// <summary>Adaptive max pooling to a fixed output size (torch.nn.functional.adaptive_max_pool2d).</summary>
    public static Tensor AdaptiveMaxPool2d(Tensor input, (int H, int W) outputSize) => PoolOps.AdaptiveMaxPool2d(input, outputSize).Output;
}
