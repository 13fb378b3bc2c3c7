using Ember.Ops;

namespace Ember.Nn.Functional;

// Spatial transformer sampling: affine_grid and grid_sample.
public static partial class F
{
    /// <summary>
    /// The sampling grid [N, H, W, 2] of an affine transform θ [N, 2, 3] for an output of size [N, C, H, W], or
    /// [N, D, H, W, 3] of θ [N, 3, 4] for size [N, C, D, H, W] (torch.nn.functional.affine_grid; alignCorners false is
    /// PyTorch's default).
    /// </summary>
    public static Tensor AffineGrid(Tensor theta, int[] size, bool alignCorners = false) => GridSampleOps.AffineGrid(theta, size, alignCorners);

    /// <summary>
    /// Samples input [N, C, H, W] at the (x, y) ∈ [−1, 1] positions of grid [N, Ho, Wo, 2] → [N, C, Ho, Wo], or 5-D
    /// input [N, C, D, H, W] at the (x, y, z) of grid [N, Do, Ho, Wo, 3] → [N, C, Do, Ho, Wo] (trilinear for Bilinear,
    /// as PyTorch) (torch.nn.functional.grid_sample). Bicubic takes 4-D input. Differentiable in both the input and the
    /// grid (bilinear, bicubic); nearest gives the grid no gradient.
    /// </summary>
    public static Tensor GridSample(Tensor input, Tensor grid, GridSampleMode mode = GridSampleMode.Bilinear,
        GridSamplePadding paddingMode = GridSamplePadding.Zeros, bool alignCorners = false)
        => GridSampleOps.GridSample(input, grid, mode, paddingMode, alignCorners);
}
