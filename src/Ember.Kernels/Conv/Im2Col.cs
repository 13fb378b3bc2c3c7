using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>
    /// Adds every entry of <paramref name="columns"/> onto <paramref name="input"/> [C_in/groups, H, W] at the position Pack
    /// read it from. With <paramref name="rowCount"/> &gt; 0 the columns are those of output rows [firstRow, firstRow +
    /// rowCount) only, rowCount·W_out per matrix row: a band. Each input element takes its entries in kernel-tap order;
    /// the taps of the later output rows come first, so bands added from the last to the first keep that order and give
    /// the whole matrix's bits. Matrix rows start <paramref name="rowStride"/> elements apart (0: rowCount·W_out, dense),
    /// so that one image's columns can be read out of a matrix that holds several images side by side.
    /// </summary>
    public static void Accumulate<T>(in Conv2dGeometry g, ReadOnlySpan<T> columns, Span<T> input, int firstRow = 0, int rowCount = 0, int rowStride = 0)
        where T : unmanaged, INumberBase<T>
    {
        int h = g.InHeight, w = g.InWidth, outH = rowCount > 0 ? rowCount : g.OutHeight, outW = g.OutWidth;
        int pitch = rowStride > 0 ? rowStride : outH * outW;
        int strideW = g.StrideWidth;
        int row = 0;
        for (int c = 0; c < g.InChannelsPerGroup; c++)
        {
            Span<T> dstPlane = input.Slice(c * h * w, h * w);
            for (int i = 0; i < g.KernelHeight; i++)
            {
                int offH = firstRow * g.StrideHeight + i * g.DilationHeight - g.PadHeight;
                if (ThreeTapsStrideTwo<T>(g))
                {
                    // the row's three taps in one pass per input row (YOLOv5's 3×3 stride-2 convs)
                    for (int oh = 0; oh < outH; oh++)
                    {
                        int ih = oh * g.StrideHeight + offH;
                        if ((uint)ih >= (uint)h) continue;
                        AddThreeTaps(columns.Slice(row * pitch + oh * outW, outW), columns.Slice((row + 1) * pitch + oh * outW, outW),
                            columns.Slice((row + 2) * pitch + oh * outW, outW), dstPlane.Slice(ih * w, w));
                    }
                    row += 3;
                    continue;
                }
                for (int j = 0; j < g.KernelWidth; j++, row++)
                {
                    ReadOnlySpan<T> src = columns.Slice(row * pitch, outH * outW);
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

    /// <summary>Cleared: <see cref="Accumulate{T}"/> adds the three taps in three passes, as before (tests compare the two).</summary>
    internal static bool FuseThreeTaps = true;

    /// <summary>Float rows of a 3-wide kernel at stride 2 and padding 1 across, on hardware with 256-bit permutes: <see cref="AddThreeTaps{T}"/>.</summary>
    static bool ThreeTapsStrideTwo<T>(in Conv2dGeometry g) => FuseThreeTaps && typeof(T) == typeof(float) && Avx2.IsSupported
        && g.KernelWidth == 3 && g.StrideWidth == 2 && g.PadWidth == 1 && g.DilationWidth == 1;

    /// <summary>
    /// d[2·ow + j − 1] += tap_j[ow] for the taps j = 0, 1, 2 of one kernel row (stride 2, padding 1) in one pass over the
    /// input row: even columns 2q take tap 1 at q; odd columns 2q + 1 take tap 0 at q + 1, then tap 2 at q. Each element
    /// gets the additions of the three separate passes in their order (j = 0, 1, 2) and nothing else (those passes add −0
    /// to the lanes they skip, the exact identity), so the result is bit for bit theirs.
    /// </summary>
    static void AddThreeTaps<T>(ReadOnlySpan<T> tap0, ReadOnlySpan<T> tap1, ReadOnlySpan<T> tap2, Span<T> d) where T : struct
    {
        ReadOnlySpan<float> t0 = MemoryMarshal.Cast<T, float>(tap0), t1 = MemoryMarshal.Cast<T, float>(tap1), t2 = MemoryMarshal.Cast<T, float>(tap2);
        Span<float> row = MemoryMarshal.Cast<T, float>(d);
        int width = row.Length, outW = t1.Length;
        // The q where all three contributions exist: 2q < width (tap 1), q + 1 < outW and 2q + 1 < width (taps 0 and 2).
        int vectorEnd = Math.Min(outW - 1, (width - 1) / 2);
        int q = 0;
        ref float r = ref MemoryMarshal.GetReference(row);
        ref float a0 = ref MemoryMarshal.GetReference(t0), a1 = ref MemoryMarshal.GetReference(t1), a2 = ref MemoryMarshal.GetReference(t2);
        var negativeZero = Vector256.Create(-0f);
        for (; q + 8 <= vectorEnd; q += 8)
        {
            var even = Vector256.LoadUnsafe(ref a1, (nuint)q);
            var odd0 = Vector256.LoadUnsafe(ref a0, (nuint)q + 1);
            var odd2 = Vector256.LoadUnsafe(ref a2, (nuint)q);
            // first addends (tap 1 | tap 0) and second addends (−0 | tap 2), interleaved into the row's order
            var firstLow = Avx.UnpackLow(even, odd0);
            var firstHigh = Avx.UnpackHigh(even, odd0);
            var secondLow = Avx.UnpackLow(negativeZero, odd2);
            var secondHigh = Avx.UnpackHigh(negativeZero, odd2);
            nuint at = (nuint)(2 * q);
            (Vector256.LoadUnsafe(ref r, at) + Avx.Permute2x128(firstLow, firstHigh, 0x20) + Avx.Permute2x128(secondLow, secondHigh, 0x20)).StoreUnsafe(ref r, at);
            (Vector256.LoadUnsafe(ref r, at + 8) + Avx.Permute2x128(firstLow, firstHigh, 0x31) + Avx.Permute2x128(secondLow, secondHigh, 0x31)).StoreUnsafe(ref r, at + 8);
        }
        // the rest element by element, each tap where it exists, in tap order
        for (int x = 2 * q; x < width; x++)
        {
            float v = row[x];
            if ((x & 1) == 1)
            {
                int ow0 = (x + 1) / 2, ow2 = (x - 1) / 2;
                if (ow0 < outW) v += t0[ow0];
                if (ow2 < outW) v += t2[ow2];
            }
            else if (x / 2 < outW) v += t1[x / 2];
            row[x] = v;
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
