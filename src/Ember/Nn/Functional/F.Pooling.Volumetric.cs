using Ember.Ops;

namespace Ember.Nn.Functional;

// 1-d and 3-d max and average pooling (torch.nn.functional.max_pool1d / avg_pool1d / max_pool3d / avg_pool3d).
public static partial class F
{
    /// <summary>Max pooling over [N, C, L] or [C, L] (torch.nn.functional.max_pool1d); stride defaults to the kernel size.</summary>
    public static Tensor MaxPool1d(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        => VolumetricPoolOps.MaxPool1d(input, kernelSize, stride ?? kernelSize, padding, dilation, ceilMode).Output;

    /// <summary>1-d max pooling and the argmax position along L of each window (return_indices=True).</summary>
    public static (Tensor Output, Tensor Indices) MaxPool1dWithIndices(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        => VolumetricPoolOps.MaxPool1d(input, kernelSize, stride ?? kernelSize, padding, dilation, ceilMode);

    /// <summary>Average pooling over [N, C, L] or [C, L] (torch.nn.functional.avg_pool1d, which has no divisor_override).</summary>
    public static Tensor AvgPool1d(Tensor input, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
        => VolumetricPoolOps.AvgPool1d(input, kernelSize, stride ?? kernelSize, padding, ceilMode, countIncludePad);

    /// <summary>Max pooling over [N, C, D, H, W] or [C, D, H, W] with a cubic window (torch.nn.functional.max_pool3d).</summary>
    public static Tensor MaxPool3d(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        => MaxPool3d(input, Cube(kernelSize), Cube(stride ?? kernelSize), Cube(padding), Cube(dilation), ceilMode);

    /// <summary>3-d max pooling with (D, H, W) triples, as PyTorch's tuples.</summary>
    public static Tensor MaxPool3d(Tensor input, (int D, int H, int W) kernelSize, (int D, int H, int W)? stride = null, (int D, int H, int W)? padding = null,
        (int D, int H, int W)? dilation = null, bool ceilMode = false)
        => MaxPool3dWithIndices(input, kernelSize, stride, padding, dilation, ceilMode).Output;

    /// <summary>3-d max pooling and the flat argmax index d·H·W + h·W + w of each window (return_indices=True).</summary>
    public static (Tensor Output, Tensor Indices) MaxPool3dWithIndices(Tensor input, (int D, int H, int W) kernelSize, (int D, int H, int W)? stride = null,
        (int D, int H, int W)? padding = null, (int D, int H, int W)? dilation = null, bool ceilMode = false)
        => VolumetricPoolOps.MaxPool3d(input, kernelSize, stride ?? kernelSize, padding ?? (0, 0, 0), dilation ?? (1, 1, 1), ceilMode);

    /// <summary>Average pooling over [N, C, D, H, W] or [C, D, H, W] with a cubic window (torch.nn.functional.avg_pool3d).</summary>
    public static Tensor AvgPool3d(Tensor input, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
        => AvgPool3d(input, Cube(kernelSize), Cube(stride ?? kernelSize), Cube(padding), ceilMode, countIncludePad, divisorOverride);

    /// <summary>3-d average pooling with (D, H, W) triples, as PyTorch's tuples.</summary>
    public static Tensor AvgPool3d(Tensor input, (int D, int H, int W) kernelSize, (int D, int H, int W)? stride = null, (int D, int H, int W)? padding = null,
        bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
        => VolumetricPoolOps.AvgPool3d(input, kernelSize, stride ?? kernelSize, padding ?? (0, 0, 0), ceilMode, countIncludePad, divisorOverride);

    static (int D, int H, int W) Cube(int v) => (v, v, v);
}
