using Ember.Autograd;
using Ember.Kernels.Fold;

namespace Ember.Ops;

/// <summary>
/// unfold (im2col) and fold (col2im) as ops (torch.nn.functional.unfold / fold). Each is the other's adjoint, so each
/// backward is the other op and higher-order gradients come for free.
/// </summary>
internal static class FoldOps
{
    public readonly record struct Blocks((int H, int W) Kernel, (int H, int W) Dilation, (int H, int W) Padding, (int H, int W) Stride);

    static void CheckBlocks(string op, Blocks b)
    {
        if (b.Kernel.H <= 0 || b.Kernel.W <= 0) throw new ArgumentException($"{op}: kernel_size must be positive, got ({b.Kernel.H}, {b.Kernel.W})");
        if (b.Dilation.H <= 0 || b.Dilation.W <= 0) throw new ArgumentException($"{op}: dilation must be positive, got ({b.Dilation.H}, {b.Dilation.W})");
        if (b.Padding.H < 0 || b.Padding.W < 0) throw new ArgumentException($"{op}: padding must be non-negative, got ({b.Padding.H}, {b.Padding.W})");
        if (b.Stride.H <= 0 || b.Stride.W <= 0) throw new ArgumentException($"{op}: stride must be positive, got ({b.Stride.H}, {b.Stride.W})");
    }

    static FoldGeometry Geometry(int channels, int h, int w, Blocks b)
        => new(channels, h, w, b.Kernel.H, b.Kernel.W, b.Dilation.H, b.Dilation.W, b.Padding.H, b.Padding.W, b.Stride.H, b.Stride.W);

    /// <summary>[N, C, H, W] (or [C, H, W]) → [N, C·kH·kW, L] (or [C·kH·kW, L]).</summary>
    public static Tensor Unfold(Tensor input, Blocks b)
    {
        const string op = "unfold";
        CheckBlocks(op, b);
        if (input.Rank is not (3 or 4))
            throw new ArgumentException($"{op}: expected a 3-D (unbatched) or 4-D (batched) input, got shape {input.Shape}");
        if (!input.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: expected a floating-point input, got {input.DType.TorchName()}");
        bool unbatched = input.Rank == 3;
        var x = unbatched ? input.Unsqueeze(0) : input;
        int n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var g = Geometry(c, h, w, b);
        if (g.BlocksH <= 0 || g.BlocksW <= 0)
            throw new ArgumentException($"{op}: the kernel ({b.Kernel.H}, {b.Kernel.W}) with dilation ({b.Dilation.H}, {b.Dilation.W}) does not fit the padded input {h + 2 * b.Padding.H}x{w + 2 * b.Padding.W} (input shape {input.Shape})");
        var src = x.Detach().Contiguous();
        var y = Torch.Empty([n, g.Rows, g.Blocks], x.DType);
        int plane = c * h * w, cols = g.Rows * g.Blocks;
        for (int i = 0; i < n; i++)
        {
            if (x.DType == DType.Float32) FoldKernel.Unfold(g, src.Span<float>().Slice(i * plane, plane), y.Span<float>().Slice(i * cols, cols));
            else FoldKernel.Unfold(g, src.Span<double>().Slice(i * plane, plane), y.Span<double>().Slice(i * cols, cols));
        }
        y = Recording.Unary(y, "Im2ColBackward0", x, grad => Fold(grad, (h, w), b));
        return unbatched ? y.Squeeze(0) : y;
    }

    /// <summary>[N, C·kH·kW, L] (or [C·kH·kW, L]) → [N, C, outH, outW] (or [C, outH, outW]), overlapping blocks summed.</summary>
    public static Tensor Fold(Tensor input, (int H, int W) outputSize, Blocks b)
    {
        const string op = "fold";
        CheckBlocks(op, b);
        if (input.Rank is not (2 or 3))
            throw new ArgumentException($"{op}: expected a 2-D (unbatched) or 3-D (batched) input, got shape {input.Shape}");
        if (!input.DType.IsFloatingPoint()) throw new ArgumentException($"{op}: expected a floating-point input, got {input.DType.TorchName()}");
        bool unbatched = input.Rank == 2;
        var x = unbatched ? input.Unsqueeze(0) : input;
        int n = x.shape[0], rows = x.shape[1], kk = b.Kernel.H * b.Kernel.W;
        if (rows % kk != 0)
            throw new ArgumentException($"{op}: Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size(1)={rows} and kernel_size=({b.Kernel.H}, {b.Kernel.W}) (input shape {input.Shape})");
        var g = Geometry(rows / kk, outputSize.H, outputSize.W, b);
        if (g.BlocksH <= 0 || g.BlocksW <= 0 || x.shape[2] != g.Blocks)
            throw new ArgumentException($"{op}: Given output_size=({outputSize.H}, {outputSize.W}), kernel_size=({b.Kernel.H}, {b.Kernel.W}), dilation=({b.Dilation.H}, {b.Dilation.W}), padding=({b.Padding.H}, {b.Padding.W}), stride=({b.Stride.H}, {b.Stride.W}), expected size of input's dimension 2 to match the calculated number of sliding blocks {Math.Max(g.BlocksH, 0)} * {Math.Max(g.BlocksW, 0)} = {Math.Max(g.BlocksH, 0) * Math.Max(g.BlocksW, 0)}, but got input.size(2)={x.shape[2]}.");
        var src = x.Detach().Contiguous();
        var y = Torch.Zeros([n, g.Channels, outputSize.H, outputSize.W], x.DType);
        int plane = g.Channels * outputSize.H * outputSize.W, cols = rows * g.Blocks;
        for (int i = 0; i < n; i++)
        {
            if (x.DType == DType.Float32) FoldKernel.Fold(g, src.Span<float>().Slice(i * cols, cols), y.Span<float>().Slice(i * plane, plane));
            else FoldKernel.Fold(g, src.Span<double>().Slice(i * cols, cols), y.Span<double>().Slice(i * plane, plane));
        }
        y = Recording.Unary(y, "Col2ImBackward0", x, grad => Unfold(grad, b));
        return unbatched ? y.Squeeze(0) : y;
    }
}
