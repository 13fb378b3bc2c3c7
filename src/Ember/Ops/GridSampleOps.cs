using Ember.Nn.Functional;

namespace Ember.Ops;

/// <summary>
/// affine_grid and 2-d grid_sample (spatial transformer networks), composed from differentiable ops in ATen's steps:
/// unnormalize the grid to pixel coordinates, apply the padding rule to the coordinates, then gather the corner pixels
/// and weight them. Gradients flow to the input through the gather and to the grid through the weights (and the
/// clamp/reflection of the coordinates), as in ATen's grid_sampler_2d_backward; nearest gives the grid no gradient.
/// </summary>
internal static class GridSampleOps
{
    /// <summary>θ [N, 2, 3] → grid [N, H, W, 2] of (x, y) in [−1, 1] for output size [N, C, H, W].</summary>
    public static Tensor AffineGrid(Tensor theta, int[] size, bool alignCorners)
    {
        const string op = "affine_grid";
        if (size.Length != 4)
            throw new NotSupportedException($"{op}: only 2-D affine grids (size [N, C, H, W]) are implemented, got size of length {size.Length}");
        if (theta.Rank != 3 || theta.shape[1] != 2 || theta.shape[2] != 3)
            throw new ArgumentException($"{op}: Expected a batch of 2D affine matrices of shape Nx2x3 for size [{string.Join(", ", size)}]. Got {theta.Shape}.");
        if (theta.shape[0] != size[0])
            throw new ArgumentException($"{op}: theta has batch {theta.shape[0]} but size asks for {size[0]}");
        if (!theta.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: expected a floating-point theta, got {theta.DType.TorchName()}");
        int n = size[0], h = size[2], w = size[3];
        var xs = Steps(w, alignCorners, theta.DType).Reshape(1, w).Expand(h, w);
        var ys = Steps(h, alignCorners, theta.DType).Reshape(h, 1).Expand(h, w);
        var baseGrid = Torch.Stack([xs, ys, Torch.Ones([h, w], theta.DType)], -1).Reshape(1, h * w, 3);   // (x, y, 1)
        return baseGrid.MatMul(theta.MT).Reshape(n, h, w, 2);
    }

    // ATen's linspace_from_neg_one: −1 … 1, or the pixel centres (2i + 1)/n − 1 without align_corners
    static Tensor Steps(int count, bool alignCorners, DType dtype)
    {
        if (count <= 1) return Torch.Zeros([count], dtype);
        var steps = Torch.Linspace(-1, 1, count, dtype);
        return alignCorners ? steps : steps * ((count - 1) / (double)count);
    }

    /// <summary>input [N, C, H, W], grid [N, Ho, Wo, 2] of (x, y) → [N, C, Ho, Wo].</summary>
    public static Tensor GridSample(Tensor input, Tensor grid, GridSampleMode mode, GridSamplePadding padding, bool alignCorners)
    {
        const string op = "grid_sample";
        if (input.Rank != 4) throw new NotSupportedException($"{op}: only 4-D input [N, C, H, W] is implemented, got shape {input.Shape}");
        if (grid.Rank != 4 || grid.shape[3] != 2)
            throw new ArgumentException($"{op}: expected grid of shape [N, H_out, W_out, 2] for 4-D input, got {grid.Shape}");
        if (grid.shape[0] != input.shape[0])
            throw new ArgumentException($"{op}: expected grid and input to have same batch size, but got input with sizes {input.Shape} and grid with sizes {grid.Shape}");
        if (input.DType != grid.DType)
            throw new ArgumentException($"{op}: expected input and grid to have the same dtype, but input has {input.DType.TorchName()} and grid has {grid.DType.TorchName()}");
        if (!input.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: expected floating-point input, got {input.DType.TorchName()}");
        int n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3], ho = grid.shape[1], wo = grid.shape[2];
        var ix = SourceIndex(grid.Select(3, 0), w, padding, alignCorners);     // [N, Ho, Wo]
        var iy = SourceIndex(grid.Select(3, 1), h, padding, alignCorners);
        var flat = input.Reshape(n, c, h * w);
        if (mode == GridSampleMode.Nearest)
        {
            Tensor rx, ry;
            using (Torch.NoGrad()) { rx = ix.Detach().Round(); ry = iy.Detach().Round(); }
            return Corner(flat, rx, ry, h, w, c).Reshape(n, c, ho, wo);
        }
        Tensor x0, y0;
        using (Torch.NoGrad()) { x0 = ix.Detach().Floor(); y0 = iy.Detach().Floor(); }
        var tx = ix - x0; var ty = iy - y0;                                    // weights of the far corners
        var result = Corner(flat, x0, y0, h, w, c) * ((1.0 - tx) * (1.0 - ty)).Reshape(n, 1, -1)
            + Corner(flat, x0 + 1.0, y0, h, w, c) * (tx * (1.0 - ty)).Reshape(n, 1, -1)
            + Corner(flat, x0, y0 + 1.0, h, w, c) * ((1.0 - tx) * ty).Reshape(n, 1, -1)
            + Corner(flat, x0 + 1.0, y0 + 1.0, h, w, c) * (tx * ty).Reshape(n, 1, -1);
        return result.Reshape(n, c, ho, wo);
    }

    /// <summary>input[:, :, y, x] for integer-valued coordinates [N, Ho, Wo], 0 outside the image → [N, C, Ho·Wo].</summary>
    static Tensor Corner(Tensor flat, Tensor x, Tensor y, int h, int w, int c)
    {
        int n = flat.shape[0];
        Tensor index, inside;
        using (Torch.NoGrad())
        {
            inside = (x >= 0.0).LogicalAnd(x <= w - 1.0).LogicalAnd(y >= 0.0).LogicalAnd(y <= h - 1.0).Reshape(n, 1, -1);
            var linear = (y.Clamp(0, h - 1) * w + x.Clamp(0, w - 1)).To(DType.Int64).Reshape(n, 1, -1);
            index = linear.Expand(n, c, linear.shape[2]);
        }
        return flat.Gather(2, index).MaskedFill(inside.LogicalNot().Expand(n, c, inside.shape[2]), 0.0);
    }

    // ATen's grid_sampler_compute_source_index: unnormalize, then clip (border) or reflect and clip (reflection)
    static Tensor SourceIndex(Tensor coord, int size, GridSamplePadding padding, bool alignCorners)
    {
        var pixel = alignCorners ? (coord + 1.0) * ((size - 1) / 2.0) : ((coord + 1.0) * size - 1.0) / 2.0;
        if (padding == GridSamplePadding.Border) return pixel.Clamp(0, size - 1);
        if (padding == GridSamplePadding.Reflection)
        {
            pixel = alignCorners ? Reflect(pixel, 0, 2 * (size - 1)) : Reflect(pixel, -1, 2 * size - 1);
            return pixel.Clamp(0, size - 1);
        }
        return pixel;
    }

    // ATen's reflect_coordinates: fold the line at min and min + span, an even number of flips keeping the direction
    static Tensor Reflect(Tensor x, int twiceLow, int twiceHigh)
    {
        if (twiceLow == twiceHigh) return x * 0.0;
        double min = twiceLow / 2.0, span = (twiceHigh - twiceLow) / 2.0;
        Tensor below, flipsOdd, floorPart;
        using (Torch.NoGrad())
        {
            below = x.Detach() < min;
            var distance = Torch.Where(below, min - x.Detach(), x.Detach() - min);
            var flips = (distance / span).Floor();
            floorPart = flips * span;
            flipsOdd = flips.Remainder(2.0).Eq(1.0);
        }
        var d = Torch.Where(below, min - x, x - min);          // |x − min| with ATen's sign choice at x = min
        var extra = d - floorPart;
        return Torch.Where(flipsOdd, span - extra + min, extra + min);
    }
}
