using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>
/// The weight gradient's tiles for a weight larger than a quarter of the L2 (YOLOv5's deep 3×3 convs at width 0.375:
/// 384×1728 floats, 2.6 MB). The batch's chunks each sum into a per-thread copy of the whole weight's tiles, written out
/// as a partial and added up at the end: with 8 chunks of 2 images that is some 200 MB of memory traffic per call at 2.6
/// MB, more than the multiply-adds take. Here the work is cut by input channels instead: an item takes a range of
/// channels (its taps, every output channel), runs every chunk in order into sums that stay in the L2, and keeps the
/// running total of the chunks beside them; its part of the result is written once. The output gradient is transposed
/// once per image up front and shared by the items.
/// </summary>
/// <remarks>
/// Each (output channel, tap) is the same chain of multiply-adds as on the chunk path (the chunk's images, rows and
/// columns in order, through the same tile), and the chunks' sums are added in chunk order as the chunk path adds its
/// partials, so the bits are the same; items only decide which thread computes which weights.
/// </remarks>
internal static unsafe partial class ShiftedGemmConv
{
    /// <summary>Keeps every weight gradient on the chunk path, as before items (tests and A/B timings set it).</summary>
    internal static bool ForceWeightChunks;

    /// <summary>Sends every tiled weight gradient to the items, for tests (items on small weights).</summary>
    internal static bool ForceWeightItems;

    /// <summary>
    /// Whether the weight gradient takes the items: its tiles (all groups) take more than a quarter of the L2, and the
    /// transposed output gradient of the whole batch (shared by the items) at most 4 L2s.
    /// </summary>
    static bool WeightItemsPay<T>(in Conv2dGeometry g, in Plan plan, int width) where T : unmanaged
    {
        if (ForceWeightChunks) return false;
        if (ForceWeightItems) return true;
        long lanes = (long)(plan.M + width - 1) / width * width * g.Groups;
        return lanes * plan.K * sizeof(T) > CacheSizes.L2 / 4 && lanes * g.Batch * g.OutPlane * sizeof(T) <= 4L * CacheSizes.L2;
    }

    /// <summary>The items' weight gradient: chunks of <paramref name="grain"/> images, channel ranges over the threads.</summary>
    static void BackwardWeightItems<T>(in Conv2dGeometry g, in Plan plan, T* x, T* dy, T* dw, int* offsets, int grain, GemmIsa isa)
        where T : unmanaged, INumber<T>
    {
        var (width, tileRows) = TileShape<T>(isa, plan.M);
        int tiles = (plan.M + width - 1) / width, taps = g.KernelHeight * g.KernelWidth, inG = plan.InChannels;
        long imageLength = (long)tiles * g.OutPlane * width;
        T[] transposed = ArrayPool<T>.Shared.Rent((int)(g.Batch * g.Groups * imageLength));
        // Channels per item: its sums and running total take a quarter of the L2 together; at least 8 items per group
        // (fewer only with fewer channels), so that two threads share them evenly.
        long channelBytes = (long)tiles * width * taps * sizeof(T);
        int perItem = (int)Math.Clamp(CacheSizes.L2 / 8 / channelBytes, 1, inG);
        int ranges = Math.Max((inG + perItem - 1) / perItem, Math.Min(inG, 8));
        perItem = (inG + ranges - 1) / ranges;
        ranges = (inG + perItem - 1) / perItem;
        try
        {
            fixed (T* t = transposed)
            {
                ParallelRange.For(g.Batch * g.Groups, 1, new TransposeAction<T>(g, plan.M, dy, t, width, tiles));
                ParallelRange.For(g.Groups * ranges, 1, new WeightItemAction<T>(g, plan, x, t, dw, offsets, grain, isa, width, tileRows, ranges, perItem));
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(transposed);
        }
    }

    /// <summary>Image and group i's output gradient by tiles of channels: transposed[i, t, q, j] = dy[i·M + t·width + j, q].</summary>
    readonly struct TransposeAction<T>(Conv2dGeometry g, int m, T* dy, T* transposed, int width, int tiles) : IRangeAction where T : unmanaged, INumber<T>
    {
        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++)
                TransposeGradient(dy + (long)i * m * g.OutPlane, g.OutPlane, transposed + (long)i * tiles * g.OutPlane * width, m, g.OutPlane, width, tiles);
        }
    }

    /// <summary>Item (group, channel range): every chunk's sums over its taps, the chunks' running total, then its part of dW.</summary>
    readonly struct WeightItemAction<T>(Conv2dGeometry g, Plan plan, T* x, T* transposed, T* dw, int* offsets, int grain, GemmIsa isa,
        int width, int tileRows, int ranges, int perItem) : IRangeAction
        where T : unmanaged, INumber<T>
    {
        public void Invoke(int start, int end)
        {
            int m = plan.M, k = plan.K, taps = g.KernelHeight * g.KernelWidth, tiles = (m + width - 1) / width, plane = g.OutPlane;
            int rowsPerPass = Math.Clamp(CacheSizes.L1 * 3 / 4 / Math.Max(1, plan.OutWidth * width * sizeof(T)), 1, Math.Max(1, plan.OutHeight));
            int chunks = (g.Batch + grain - 1) / grain;
            Span<int> itemOffsets = stackalloc int[(perItem * taps + tileRows - 1) / tileRows * tileRows];
            for (int item = start; item < end; item++)
            {
                int grp = item / ranges, c0 = item % ranges * perItem, c1 = Math.Min(plan.InChannels, c0 + perItem);
                int count = c1 - c0, kLength = count * taps, paddedK = (kLength + tileRows - 1) / tileRows * tileRows;
                // The item's channels alone, from channel 0 of the buffer: the plan's length less the other channels.
                int paddedLength = plan.PaddedLength - (plan.InChannels - count) * plan.ChannelLength;
                long tileLength = (long)paddedK * width, sumsLength = tiles * tileLength;
                T* padded = Pin(Scratch<T>.Padded(paddedLength));
                T* sums = Pin(Scratch<T>.Sums((int)sumsLength));
                T* total = Pin(Scratch<T>.Totals((int)sumsLength));
                // The item's taps in its buffer; the last block repeats the last tap and drops its sums.
                int shift = c0 * plan.ChannelLength;
                for (int kk = 0; kk < paddedK; kk++) itemOffsets[kk] = offsets[c0 * taps + Math.Min(kk, kLength - 1)] - shift;
                fixed (int* off = itemOffsets)
                    for (int chunk = 0; chunk < chunks; chunk++)
                    {
                        new Span<T>(sums, (int)sumsLength).Clear();
                        for (int n = chunk * grain, nEnd = Math.Min(g.Batch, n + grain); n < nEnd; n++)
                        {
                            T* image = transposed + ((long)n * g.Groups + grp) * tiles * plane * width;
                            for (int oh0 = 0; oh0 < g.OutHeight; oh0 += plan.OutHeight)
                            {
                                int bandRows = Math.Min(plan.OutHeight, g.OutHeight - oh0);
                                PadChannels(plan, x + ((long)n * g.InChannels + (long)grp * plan.InChannels + c0) * g.InPlane, padded, 0, count, oh0);
                                new Span<T>(padded + (long)count * plan.ChannelLength, paddedLength - count * plan.ChannelLength).Clear();
                                for (int t = 0; t < tiles; t++)
                                    AccumulateBand(plan, isa, width, tileRows, paddedK, padded, off, bandRows, rowsPerPass,
                                        image + ((long)t * plane + (long)oh0 * plan.OutWidth) * width, sums + t * tileLength);
                            }
                        }
                        // The chunks' partials in chunk order, as the chunk path adds them.
                        var done = new Span<T>(sums, (int)sumsLength);
                        if (chunk == 0) done.CopyTo(new Span<T>(total, (int)sumsLength));
                        else TensorPrimitives.Add(new ReadOnlySpan<T>(total, (int)sumsLength), done, new Span<T>(total, (int)sumsLength));
                    }
                // dW[grp·M + t·width + j, c0·taps + kk] = total[t, kk, j]
                for (int t = 0; t < tiles; t++)
                {
                    T* c = total + t * tileLength;
                    int first = t * width, channels = Math.Min(width, m - first);
                    T* dst = dw + (long)(grp * m + first) * k + (long)c0 * taps;
                    for (int j = 0; j < channels; j++, dst += k)
                        for (int kk = 0; kk < kLength; kk++) dst[kk] = c[(long)kk * width + j];
                }
            }
        }
    }
}
