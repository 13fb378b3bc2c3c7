using Ember.Ops;

namespace Ember.Nn.Functional;

// Spatial transformer sampling: affine_grid and grid_sample.
public static partial class F
{
    /// <summary>
    /// The sampling grid [N, H, W, 2] of an affine transform θ [N, 2, 3] for an output of size [N, C, H, W]
    /// (torch.nn.functional.affine_grid; alignCorners false is PyTorch's default).
    /// </summary>
    public static Tensor AffineGrid(Tensor theta, int[] size, bool alignCorners = false) => GridSampleOps.AffineGrid(theta, size, alignCorners);

    /// <summary>
    /// Samples input [N, C, H, W] at the (x, y) ∈ [−1, 1] positions of grid [N, Ho, Wo, 2] → [N, C, Ho, Wo]
    /// (torch.nn.functional.grid_sample, 4-D input). Differentiable in both the input and the grid (bilinear).
    /// </summary>
    public static Tensor GridSample(Tensor input, Tensor grid, GridSampleMode mode = GridSampleMode.Bilinear,
        GridSamplePadding paddingMode = GridSamplePadding.Zeros, bool alignCorners = false)
        => GridSampleOps.GridSample(input, grid, mode, paddingMode, alignCorners);
}
