using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
                        {
                            int ow = strideW == 2 ? GatherEven(s, offW, d, lo, hi) : lo;
                            for (; ow < hi; ow++) d[ow] = s[ow * strideW + offW];
                        }
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
                        {
                            int ow = strideW == 2 ? ScatterAddEven(s, d, offW, lo, hi) : lo;
                            for (; ow < hi; ow++) d[ow * strideW + offW] += s[ow];
                        }
                    }
                }
            }
        }
    }

    // Stride 2 (YOLOv5's downsampling convs and its 6×6 stem) moves every other element of an input row; eight at a time
    // with Vector256 permutes where they are fast (the scalar loops go on from the returned column). Bit-identical to the
    // scalar loops: the gather copies, and the scatter adds −0 (the exact identity of IEEE addition) to the lanes it skips.

    /// <summary>d[ow] = row[2·ow + offset] for ow from lo while 8 columns and their 16 source elements fit; returns the next ow.</summary>
    static int GatherEven<T>(ReadOnlySpan<T> row, int offset, Span<T> d, int lo, int hi)
    {
        if (typeof(T) != typeof(float) || !Vector256.IsHardwareAccelerated) return lo;
        ref float src = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(row));
        ref float dst = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(d));
        var evens = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        int ow = lo;
        for (; ow + 8 <= hi && 2 * ow + offset + 16 <= row.Length; ow += 8)
        {
            nuint at = (nuint)(2 * ow + offset);
            var a = Vector256.Shuffle(Vector256.LoadUnsafe(ref src, at), evens).GetLower();
            var b = Vector256.Shuffle(Vector256.LoadUnsafe(ref src, at + 8), evens).GetLower();
            Vector256.Create(a, b).StoreUnsafe(ref dst, (nuint)ow);
        }
        return ow;
    }

    /// <summary>d[2·ow + offset] += columns[ow] for ow from lo while 8 columns and their 16 target elements fit; returns the next ow.</summary>
    static int ScatterAddEven<T>(ReadOnlySpan<T> columns, Span<T> d, int offset, int lo, int hi)
    {
        if (typeof(T) != typeof(float) || !Vector256.IsHardwareAccelerated) return lo;
        ref float src = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(columns));
        ref float dst = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(d));
        var low = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
        var high = Vector256.Create(4, 4, 5, 5, 6, 6, 7, 7);
        var even = Vector256.Create(-1, 0, -1, 0, -1, 0, -1, 0).AsSingle();
        var negativeZero = Vector256.Create(-0f);
        int ow = lo;
        for (; ow + 8 <= hi && 2 * ow + offset + 16 <= d.Length; ow += 8)
        {
            var v = Vector256.LoadUnsafe(ref src, (nuint)ow);
            nuint at = (nuint)(2 * ow + offset);
            (Vector256.LoadUnsafe(ref dst, at) + Vector256.ConditionalSelect(even, Vector256.Shuffle(v, low), negativeZero)).StoreUnsafe(ref dst, at);
            (Vector256.LoadUnsafe(ref dst, at + 8) + Vector256.ConditionalSelect(even, Vector256.Shuffle(v, high), negativeZero)).StoreUnsafe(ref dst, at + 8);
        }
        return ow;
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
