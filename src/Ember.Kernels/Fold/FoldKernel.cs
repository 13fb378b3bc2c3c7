using System.Numerics;

namespace Ember.Kernels.Fold;

/// <summary>
/// im2col and col2im for one image (torch.nn.functional.unfold / fold): row (c, i, j) of the [C·kH·kW, L] column matrix
/// holds, at block (bh, bw), image[c, bh·sH − pH + i·dH, bw·sW − pW + j·dW], zero outside the image. Fold is the adjoint:
/// it adds every column entry back onto the element it came from, so overlapping blocks sum.
/// </summary>
public static class FoldKernel
{
    /// <summary>Fills <paramref name="columns"/> [Rows, Blocks] from <paramref name="image"/> [C, H, W].</summary>
    public static void Unfold<T>(in FoldGeometry g, ReadOnlySpan<T> image, Span<T> columns) where T : unmanaged, INumberBase<T>
    {
        int bh = g.BlocksH, bw = g.BlocksW, blocks = bh * bw, row = 0;
        for (int c = 0; c < g.Channels; c++)
            for (int i = 0; i < g.KernelH; i++)
                for (int j = 0; j < g.KernelW; j++, row++)
                {
                    var dst = columns.Slice(row * blocks, blocks);
                    for (int oh = 0; oh < bh; oh++)
                    {
                        int y = oh * g.StrideH - g.PadH + i * g.DilationH;
                        bool rowInside = (uint)y < (uint)g.Height;
                        for (int ow = 0; ow < bw; ow++)
                        {
                            int x = ow * g.StrideW - g.PadW + j * g.DilationW;
                            dst[oh * bw + ow] = rowInside && (uint)x < (uint)g.Width ? image[(c * g.Height + y) * g.Width + x] : T.Zero;
                        }
                    }
                }
    }

    /// <summary>Adds the entries of <paramref name="columns"/> [Rows, Blocks] onto <paramref name="image"/> [C, H, W] (which the caller zeroes).</summary>
    public static void Fold<T>(in FoldGeometry g, ReadOnlySpan<T> columns, Span<T> image) where T : unmanaged, INumberBase<T>
    {
        int bh = g.BlocksH, bw = g.BlocksW, blocks = bh * bw, row = 0;
        for (int c = 0; c < g.Channels; c++)
            for (int i = 0; i < g.KernelH; i++)
                for (int j = 0; j < g.KernelW; j++, row++)
                {
                    var src = columns.Slice(row * blocks, blocks);
                    for (int oh = 0; oh < bh; oh++)
                    {
                        int y = oh * g.StrideH - g.PadH + i * g.DilationH;
                        if ((uint)y >= (uint)g.Height) continue;
                        for (int ow = 0; ow < bw; ow++)
                        {
                            int x = ow * g.StrideW - g.PadW + j * g.DilationW;
                            if ((uint)x < (uint)g.Width) image[(c * g.Height + y) * g.Width + x] += src[oh * bw + ow];
                        }
                    }
                }
    }
}
