using Ember.Nn.Functional;

namespace Ember.Ops;

/// <summary>
/// affine_grid and 2-d grid_sample (spatial transformer networks), composed from differentiable ops in ATen's steps:
/// unnormalize the grid to pixel coordinates, apply the padding rule to the coordinates, then gather the corner pixels
/// and weight them. Gradients flow to the input through the gather and to the grid through the weights (and the
/// clamp/reflection of the coordinates), as in ATen's grid_sampler_2d_backward; nearest gives the grid no gradient.
/// Bicubic (4-D) follows ATen too: the coordinate is only unnormalized, and the padding rule applies to each of the 16
/// integer taps. 5-D input (volumetric, [N, C, D, H, W] with grid [..., 3] of (x, y, z)) takes trilinear or nearest.
/// </summary>
internal static class GridSampleOps
{
    /// <summary>
    /// θ [N, 2, 3] → grid [N, H, W, 2] of (x, y) in [−1, 1] for output size [N, C, H, W]; θ [N, 3, 4] → grid
    /// [N, D, H, W, 3] of (x, y, z) for size [N, C, D, H, W].
    /// </summary>
    public static Tensor AffineGrid(Tensor theta, int[] size, bool alignCorners)
    {
        const string op = "affine_grid";
        if (size.Length is not (4 or 5))
            throw new NotSupportedException($"{op}: only 2-D and 3-D affine grids (size [N, C, H, W] or [N, C, D, H, W]) are supported, got size of length {size.Length}");
        int dims = size.Length - 2;
        if (theta.Rank != 3 || theta.shape[1] != dims || theta.shape[2] != dims + 1)
            throw new ArgumentException($"{op}: Expected a batch of {dims}D affine matrices of shape Nx{dims}x{dims + 1} for size [{string.Join(", ", size)}]. Got {theta.Shape}.");
        if (theta.shape[0] != size[0])
            throw new ArgumentException($"{op}: theta has batch {theta.shape[0]} but size asks for {size[0]}");
        if (!theta.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: expected a floating-point theta, got {theta.DType.TorchName()}");
        int n = size[0], w = size[^1], h = size[^2];
        if (dims == 3)
        {
            int d = size[2];
            var x3 = Steps(w, alignCorners, theta.DType).Reshape(1, 1, w).Expand(d, h, w);
            var y3 = Steps(h, alignCorners, theta.DType).Reshape(1, h, 1).Expand(d, h, w);
            var z3 = Steps(d, alignCorners, theta.DType).Reshape(d, 1, 1).Expand(d, h, w);
            var base3 = Torch.Stack([x3, y3, z3, Torch.Ones([d, h, w], theta.DType)], -1).Reshape(1, d * h * w, 4);   // (x, y, z, 1)
            return base3.MatMul(theta.MT).Reshape(n, d, h, w, 3);
        }
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

    /// <summary>input [N, C, H, W], grid [N, Ho, Wo, 2] of (x, y) → [N, C, Ho, Wo]; or 5-D input with grid [N, Do, Ho, Wo, 3].</summary>
    public static Tensor GridSample(Tensor input, Tensor grid, GridSampleMode mode, GridSamplePadding padding, bool alignCorners)
    {
        const string op = "grid_sample";
        if (input.Rank is not (4 or 5)) throw new ArgumentException($"{op}: expected 4-D [N, C, H, W] or 5-D [N, C, D, H, W] input, got shape {input.Shape}");
        int dims = input.Rank - 2;
        if (grid.Rank != input.Rank || grid.shape[^1] != dims)
            throw new ArgumentException($"{op}: expected grid of shape [N, {(dims == 3 ? "D_out, " : "")}H_out, W_out, {dims}] for {input.Rank}-D input, got {grid.Shape}");
        if (grid.shape[0] != input.shape[0])
            throw new ArgumentException($"{op}: expected grid and input to have same batch size, but got input with sizes {input.Shape} and grid with sizes {grid.Shape}");
        if (input.DType != grid.DType)
            throw new ArgumentException($"{op}: expected input and grid to have the same dtype, but input has {input.DType.TorchName()} and grid has {grid.DType.TorchName()}");
        if (!input.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: expected floating-point input, got {input.DType.TorchName()}");
        if (dims == 3) return GridSample3d(input, grid, mode, padding, alignCorners);
        int n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3], ho = grid.shape[1], wo = grid.shape[2];
        var flat = input.Reshape(n, c, h * w);
        if (mode == GridSampleMode.Bicubic) return Bicubic(flat, grid, h, w, padding, alignCorners).Reshape(n, c, ho, wo);
        var ix = SourceIndex(grid.Select(3, 0), w, padding, alignCorners);     // [N, Ho, Wo]
        var iy = SourceIndex(grid.Select(3, 1), h, padding, alignCorners);
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

    // ATen's bicubic: unnormalize only, then Σ_j w_j(ty)·Σ_i w_i(tx)·tap(x0 − 1 + i, y0 − 1 + j), each tap's integer
    // coordinates passed through the padding rule (get_value_bounded), so the grid's gradient comes from the weights alone
    static Tensor Bicubic(Tensor flat, Tensor grid, int h, int w, GridSamplePadding padding, bool alignCorners)
    {
        int n = flat.shape[0], c = flat.shape[1];
        var ix = Unnormalize(grid.Select(3, 0), w, alignCorners);
        var iy = Unnormalize(grid.Select(3, 1), h, alignCorners);
        Tensor x0, y0;
        using (Torch.NoGrad()) { x0 = ix.Detach().Floor(); y0 = iy.Detach().Floor(); }
        var wx = CubicWeights(ix - x0); var wy = CubicWeights(iy - y0);
        Tensor? result = null;
        for (int j = 0; j < 4; j++)
        {
            Tensor? row = null;
            for (int i = 0; i < 4; i++)
            {
                Tensor px, py;
                using (Torch.NoGrad()) { px = PadTap(x0 + (i - 1.0), w, padding, alignCorners); py = PadTap(y0 + (j - 1.0), h, padding, alignCorners); }
                var term = Corner(flat, px, py, h, w, c) * wx[i].Reshape(n, 1, -1);
                row = row is null ? term : row + term;
            }
            var weighted = row! * wy[j].Reshape(n, 1, -1);
            result = result is null ? weighted : result + weighted;
        }
        return result!;
    }

    // ATen's get_cubic_upsample_coefficients with A = −0.75: taps at distances 1 + t, t, 1 − t, 2 − t
    static Tensor[] CubicWeights(Tensor t)
    {
        const double A = -0.75;
        static Tensor Near(Tensor x) => ((A + 2) * x - (A + 3)) * x * x + 1.0;          // |x| ≤ 1
        static Tensor Far(Tensor x) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;       // 1 < |x| < 2
        var u = 1.0 - t;
        return [Far(t + 1.0), Near(t), Near(u), Far(u + 1.0)];
    }

    // ATen's compute_coordinates on an integer tap: border clips, reflection reflects then clips, zeros leaves it
    static Tensor PadTap(Tensor x, int size, GridSamplePadding padding, bool alignCorners)
    {
        if (padding == GridSamplePadding.Border) return x.Clamp(0, size - 1);
        if (padding == GridSamplePadding.Reflection)
            return (alignCorners ? Reflect(x, 0, 2 * (size - 1)) : Reflect(x, -1, 2 * size - 1)).Clamp(0, size - 1).Trunc();
        return x;
    }

    static Tensor Unnormalize(Tensor coord, int size, bool alignCorners)
        => alignCorners ? (coord + 1.0) * ((size - 1) / 2.0) : ((coord + 1.0) * size - 1.0) / 2.0;

    // 5-D: input [N, C, D, H, W], grid [N, Do, Ho, Wo, 3] of (x, y, z); trilinear (mode Bilinear, as PyTorch names it) or nearest
    static Tensor GridSample3d(Tensor input, Tensor grid, GridSampleMode mode, GridSamplePadding padding, bool alignCorners)
    {
        if (mode == GridSampleMode.Bicubic)
            throw new ArgumentException("grid_sample: bicubic interpolation only supports 4D input");
        int n = input.shape[0], c = input.shape[1], d = input.shape[2], h = input.shape[3], w = input.shape[4];
        int dOut = grid.shape[1], ho = grid.shape[2], wo = grid.shape[3];
        var flat = input.Reshape(n, c, d * h * w);
        var ix = SourceIndex(grid.Select(4, 0), w, padding, alignCorners);
        var iy = SourceIndex(grid.Select(4, 1), h, padding, alignCorners);
        var iz = SourceIndex(grid.Select(4, 2), d, padding, alignCorners);
        if (mode == GridSampleMode.Nearest)
        {
            Tensor rx, ry, rz;
            using (Torch.NoGrad()) { rx = ix.Detach().Round(); ry = iy.Detach().Round(); rz = iz.Detach().Round(); }
            return Voxel(flat, rx, ry, rz, d, h, w, c).Reshape(n, c, dOut, ho, wo);
        }
        Tensor x0, y0, z0;
        using (Torch.NoGrad()) { x0 = ix.Detach().Floor(); y0 = iy.Detach().Floor(); z0 = iz.Detach().Floor(); }
        var tx = ix - x0; var ty = iy - y0; var tz = iz - z0;
        Tensor? result = null;
        for (int corner = 0; corner < 8; corner++)
        {
            int dx = corner & 1, dy = (corner >> 1) & 1, dz = corner >> 2;
            var weight = (dx == 1 ? tx : 1.0 - tx) * (dy == 1 ? ty : 1.0 - ty) * (dz == 1 ? tz : 1.0 - tz);
            var term = Voxel(flat, x0 + dx, y0 + dy, z0 + dz, d, h, w, c) * weight.Reshape(n, 1, -1);
            result = result is null ? term : result + term;
        }
        return result!.Reshape(n, c, dOut, ho, wo);
    }

    /// <summary>input[:, :, z, y, x] for integer-valued coordinates, 0 outside the volume → [N, C, Do·Ho·Wo].</summary>
    static Tensor Voxel(Tensor flat, Tensor x, Tensor y, Tensor z, int d, int h, int w, int c)
    {
        int n = flat.shape[0];
        Tensor index, inside;
        using (Torch.NoGrad())
        {
            inside = (x >= 0.0).LogicalAnd(x <= w - 1.0).LogicalAnd(y >= 0.0).LogicalAnd(y <= h - 1.0)
                .LogicalAnd(z >= 0.0).LogicalAnd(z <= d - 1.0).Reshape(n, 1, -1);
            var linear = ((z.Clamp(0, d - 1) * h + y.Clamp(0, h - 1)) * w + x.Clamp(0, w - 1)).To(DType.Int64).Reshape(n, 1, -1);
            index = linear.Expand(n, c, linear.shape[2]);
        }
        return flat.Gather(2, index).MaskedFill(inside.LogicalNot().Expand(n, c, inside.shape[2]), 0.0);
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
