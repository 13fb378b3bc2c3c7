using System.Numerics;
using System.Numerics.Tensors;

namespace Ember.Kernels.Conv;

/// <summary>
/// The im2col layout of one image and one group: row (c, i, j) of the [C_in/groups · kH · kW, H_out · W_out] matrix holds,
/// at column (oh, ow), input[c, oh·sH − pH + i·dH, ow·sW − pW + j·dW] (zero outside the input). The convolution is then
/// weight[C_out/groups, rows] · columns. <see cref="Accumulate{T}"/> is its adjoint (col2im): it adds every column entry
/// back onto the input element it was copied from.
/// </summary>
internal static class Im2Col
{
    /// <summary>Fills <paramref name="columns"/> from the group's input planes <paramref name="input"/> [C_in/groups, H, W].</summary>
    public static void Pack<T>(in Conv2dGeometry g, ReadOnlySpan<T> input, Span<T> columns) where T : unmanaged, INumberBase<T>
    {
        int h = g.InHeight, w = g.InWidth, outH = g.OutHeight, outW = g.OutWidth, plane = g.OutPlane;
        int strideW = g.StrideWidth;
        int row = 0;
        for (int c = 0; c < g.InChannelsPerGroup; c++)
        {
            ReadOnlySpan<T> src = input.Slice(c * h * w, h * w);
            for (int i = 0; i < g.KernelHeight; i++)
            {
                int offH = i * g.DilationHeight - g.PadHeight;
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    Span<T> dst = columns.Slice(row * plane, plane);
                    int offW = j * g.DilationWidth - g.PadWidth;
                    (int lo, int hi) = ValidRange(offW, strideW, w, outW);
                    for (int oh = 0; oh < outH; oh++)
                    {
                        Span<T> d = dst.Slice(oh * outW, outW);
                        int ih = oh * g.StrideHeight + offH;
                        if ((uint)ih >= (uint)h) { d.Clear(); continue; }
                        ReadOnlySpan<T> s = src.Slice(ih * w, w);
                        d[..lo].Clear();
                        d[hi..].Clear();
                        if (strideW == 1)
                            s.Slice(lo + offW, hi - lo).CopyTo(d[lo..hi]);
                        else
                            for (int ow = lo; ow < hi; ow++) d[ow] = s[ow * strideW + offW];
                    }
                }
            }
        }
    }

    /// <summary>Adds every entry of <paramref name="columns"/> onto <paramref name="input"/> [C_in/groups, H, W] at the position Pack read it from.</summary>
    public static void Accumulate<T>(in Conv2dGeometry g, ReadOnlySpan<T> columns, Span<T> input) where T : unmanaged, INumberBase<T>
    {
        int h = g.InHeight, w = g.InWidth, outH = g.OutHeight, outW = g.OutWidth, plane = g.OutPlane;
        int strideW = g.StrideWidth;
        int row = 0;
        for (int c = 0; c < g.InChannelsPerGroup; c++)
        {
            Span<T> dstPlane = input.Slice(c * h * w, h * w);
            for (int i = 0; i < g.KernelHeight; i++)
            {
                int offH = i * g.DilationHeight - g.PadHeight;
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    ReadOnlySpan<T> src = columns.Slice(row * plane, plane);
                    int offW = j * g.DilationWidth - g.PadWidth;
                    (int lo, int hi) = ValidRange(offW, strideW, w, outW);
                    if (lo == hi) continue;
                    for (int oh = 0; oh < outH; oh++)
                    {
                        int ih = oh * g.StrideHeight + offH;
                        if ((uint)ih >= (uint)h) continue;
                        ReadOnlySpan<T> s = src.Slice(oh * outW, outW);
                        Span<T> d = dstPlane.Slice(ih * w, w);
                        if (strideW == 1)
                        {
                            Span<T> target = d.Slice(lo + offW, hi - lo);
                            TensorPrimitives.Add(target, s[lo..hi], target);
                        }
                        else
                            for (int ow = lo; ow < hi; ow++) d[ow * strideW + offW] += s[ow];
                    }
                }
            }
        }
    }

    /// <summary>The output columns [lo, hi) whose input column ow·stride + offset lies inside [0, width).</summary>
    internal static (int Lo, int Hi) ValidRange(int offset, int stride, int width, int outWidth)
    {
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int hi = width - 1 - offset >= 0 ? (width - 1 - offset) / stride + 1 : 0;
        hi = Math.Min(hi, outWidth);
        lo = Math.Min(lo, hi);
        return (lo, hi);
    }
}
