using Ember.Ops;

namespace Ember.Nn.Functional;

public static partial class F
{
    /// <summary>Max pooling (torch.nn.functional.max_pool2d); stride defaults to the kernel size; padding counts as −∞.</summary>
    public static Tensor MaxPool2d(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        => PoolOps.MaxPool2dOutput(input, (kernelSize, kernelSize), (stride ?? kernelSize, stride ?? kernelSize), (padding, padding), (dilation, dilation), ceilMode);

    /// <summary>Max pooling returning the flat argmax index of each window within its H×W plane (return_indices=True).</summary>
    public static (Tensor Output, Tensor Indices) MaxPool2dWithIndices(Tensor input, (int H, int W) kernelSize, (int H, int W)? stride = null,
        (int H, int W)? padding = null, (int H, int W)? dilation = null, bool ceilMode = false)
        => PoolOps.MaxPool2d(input, kernelSize, stride ?? kernelSize, padding ?? (0, 0), dilation ?? (1, 1), ceilMode);

    /// <summary>Average pooling (torch.nn.functional.avg_pool2d).</summary>
    public static Tensor AvgPool2d(Tensor input, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
        => PoolOps.AvgPool2d(input, (kernelSize, kernelSize), (stride ?? kernelSize, stride ?? kernelSize), (padding, padding), ceilMode, countIncludePad, divisorOverride);

    /// <summary>Adaptive average pooling to a fixed output size (torch.nn.functional.adaptive_avg_pool2d).</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, (int H, int W) outputSize)
        // PyTorch computes a 1×1 output as a mean over (H, W)
        => outputSize == (1, 1) ? Autograd.Recording.Named(PoolOps.AdaptiveAvgPool2d(input, outputSize), "MeanBackward1", input) : PoolOps.AdaptiveAvgPool2d(input, outputSize);

    /// <summary>Adaptive max pooling to a fixed output size (torch.nn.functional.adaptive_max_pool2d).</summary>
    public static Tensor AdaptiveMaxPool2d(Tensor input, (int H, int W) outputSize) => PoolOps.AdaptiveMaxPool2d(input, outputSize).Output;
}
