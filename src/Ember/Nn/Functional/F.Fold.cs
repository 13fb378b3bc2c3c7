using Ember.Ops;

namespace Ember.Nn.Functional;

// Sliding blocks: unfold (im2col) and fold (col2im).
public static partial class F
{
    /// <summary>
    /// Extracts sliding blocks (torch.nn.functional.unfold, im2col): [N, C, H, W] → [N, C·kH·kW, L], L the number of
    /// blocks; a 3-D input is one unbatched image. Argument order as PyTorch: kernel, dilation, padding, stride.
    /// </summary>
    public static Tensor Unfold(Tensor input, int kernelSize, int dilation = 1, int padding = 0, int stride = 1)
        => Unfold(input, (kernelSize, kernelSize), (dilation, dilation), (padding, padding), (stride, stride));

    /// <summary>Unfold with (H, W) pairs, as PyTorch's tuples.</summary>
    public static Tensor Unfold(Tensor input, (int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null,
        (int H, int W)? stride = null)
        => FoldOps.Unfold(input, new(kernelSize, dilation ?? (1, 1), padding ?? (0, 0), stride ?? (1, 1)));

    /// <summary>
    /// Sums sliding blocks back into an image (torch.nn.functional.fold, col2im): [N, C·kH·kW, L] → [N, C, outH, outW];
    /// overlapping blocks add up. A 2-D input is unbatched.
    /// </summary>
    public static Tensor Fold(Tensor input, int outputSize, int kernelSize, int dilation = 1, int padding = 0, int stride = 1)
        => Fold(input, (outputSize, outputSize), (kernelSize, kernelSize), (dilation, dilation), (padding, padding), (stride, stride));

    /// <summary>Fold with (H, W) pairs, as PyTorch's tuples.</summary>
    public static Tensor Fold(Tensor input, (int H, int W) outputSize, (int H, int W) kernelSize, (int H, int W)? dilation = null,
        (int H, int W)? padding = null, (int H, int W)? stride = null)
        => FoldOps.Fold(input, outputSize, new(kernelSize, dilation ?? (1, 1), padding ?? (0, 0), stride ?? (1, 1)));
}
