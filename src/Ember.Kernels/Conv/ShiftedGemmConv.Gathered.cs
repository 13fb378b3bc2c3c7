using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>
/// The forward on small images, with B panels gathered across the batch. On the shifted grid each image has its own
/// panels over H_out × W_p positions, so a 7×7 output (ResNet-18's last stage) fills 2 panels of 32 columns with 49 useful
/// ones and pays for 64: 31% more multiply-adds; and its weight (512×4608 floats, 9 MB) is streamed from memory for
/// every image, serving only those 2 panels. Here the columns are the batch's N·H_out·W_out output positions themselves,
/// without the padding columns and without a partial panel per image: each panel's K rows are copied once out of the
/// padded images into a K×NR block, and the multiply runs k-slice by k-slice with each weight sliver serving every
/// panel of a chunk (7 at 8×7×7). The copy costs K·NR moves per panel against M·K·NR multiply-adds.
/// </summary>
/// <remarks>
/// Each output element is the same chain of multiply-adds (the same k-slices, in order, through the same kernel) as on
/// the shifted grid, so the bits do not change, and they do not depend on how panels are cut between threads.
/// </remarks>
internal static unsafe partial class ShiftedGemmConv
{
    /// <summary>Keeps every forward on the per-image shifted grid (tests compare the two).</summary>
    internal static bool ForceShiftedGrid;

    /// <summary>
    /// Whether the forward of <paramref name="g"/> takes the gathered panels on the selected vector width: where they need
    /// at most 85% of the shifted grid's panels, for one group, several images and at least 64 output channels (to spread
    /// the copy). ResNet-18 at 8×224²: its 7×7 stage (13 panels instead of 16 with AVX-512, 25 instead of 32 with AVX2).
    /// Its 14×14 stage (49 instead of 56) measured slower gathered, one thread: 14.1-15.4 against 12.1-12.8 CPU ms per
    /// call (docs/bench-logs/2026-12-04-session13-s13-conv-ab.txt). Strided convolutions also gather (see
    /// <see cref="StridedFewImagesGather"/>).
    /// </summary>
    internal static bool UsesGatheredPanels<T>(in Conv2dGeometry g) where T : unmanaged
    {
        GemmIsa isa = GemmDriver.SelectedIsa;
        int nr = 2 * (isa == GemmIsa.Vector512 ? Vector512<T>.Count : isa == GemmIsa.Vector256 ? Vector256<T>.Count : Vector128<T>.Count);
        return ShiftedGemmConv.Applies(g) && ForwardPlan(g, 1, nr, KC, sizeof(T), 0).Gathered;
    }

    /// <summary>Keeps strided convolutions of few images on the shifted grid, as before session 31 (tests and A/B timings set it).</summary>
    internal static bool ForceStridedGridForFewImages;

    /// <summary>
    /// A strided convolution of fewer images than four per thread (YOLOv5s at batch 1) gathers its panels whatever they
    /// save, from 256 output channels, or from 128 where the image's phase images fit twice the L2: on the shifted grid the
    /// threads share each image's panels, panel by panel over B rows read at the tap offsets of the phase images, while
    /// gathered the B rows are contiguous and each weight sliver serves a chunk of panels. The gathering copies K·NR
    /// values per panel, spread over the output channels (and read from beyond the L2 where the phase images outgrow it).
    /// Measured per layer in CPU time (docs/bench-logs/2026-12-07-session31-s31-s2fwd-ab.txt): YOLOv5s's five such 3×3
    /// stride-2 convs at 320² 0-24% less on AVX-512 and 9-19% on AVX2; at 640² the 256- and 512-channel ones 2-36% less
    /// and YOLOv5n's 128-channel ones (phase images of 1.7 and 0.9 MB) 11-23%, while YOLOv5s's 128-channel ones (3.4 and
    /// 6.7 MB) read ~3% more, so they stay; 64 channels (the 160² → 80² conv) no better.
    /// ResNet-18's batch 8 (one image per task) is left to the rule above. The bits are those of the grid.
    /// </summary>
    static bool StridedFewImagesGather(in Conv2dGeometry g, in Plan plan, int elementSize) =>
        !ForceStridedGridForFewImages && (g.StrideHeight > 1 || g.StrideWidth > 1) && g.Batch < 4 * ParallelRange.MaxThreads
        && (plan.M >= 256 || plan.M >= 128 && (long)plan.PaddedLength * elementSize <= 2 * CacheSizes.L2);

    static bool GatheredPanelsPay(in Conv2dGeometry g, in Plan plan, int nr, int elementSize)
    {
        if (ForceShiftedGrid || g.Groups != 1 || plan.M < 64) return false;
        if (StridedFewImagesGather(g, plan, elementSize)) return true;
        if (g.Batch < 2) return false;
        long gathered = ((long)g.Batch * g.OutPlane + nr - 1) / nr;
        return gathered * 20 <= (long)g.Batch * plan.Panels * 17;
    }

    // Panels of the batch's positions in the same number of chunks per thread, as few as keep a chunk's KC×NR slices in
    // half the L2 (16 panels of 32 floats at KC 256): each chunk streams the whole weight once, each weight sliver
    // serving all its panels. The cut changes no bits (see the remarks above).
    static void ForwardGathered<T, TKernel>(in Conv2dGeometry g, in Plan plan, T* shared, T* packedWeight, int* offsets, int* rows, Epilogue<T> epilogue, T* y)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        int nr = TKernel.NR;
        for (int k = 0; k < plan.K; k++) rows[k] = k * nr;
        long positions = (long)g.Batch * g.OutPlane;
        int panels = (int)((positions + nr - 1) / nr);
        int threads = ParallelRange.MaxThreads;
        int budget = ForcedChunkPanels > 0 ? ForcedChunkPanels : (int)Math.Max(1, CacheSizes.L2 / 2 / ((long)plan.SliceDepth * nr * sizeof(T)));
        int perThread = (panels + threads * budget - 1) / (threads * budget);
        int grain = Math.Max(1, (panels + threads * perThread - 1) / (threads * perThread));
        ParallelRange.For(panels, grain, new GatheredAction<T, TKernel>(g, plan, shared, packedWeight, offsets, rows, positions, epilogue, y));
    }

    /// <summary>Panels [start, end) of the batch's positions: gather their rows, multiply, write them to the output.</summary>
    readonly struct GatheredAction<T, TKernel>(Conv2dGeometry g, Plan plan, T* shared, T* packedWeight, int* offsets, int* rows, long positions, Epilogue<T> epilogue, T* y) : IRangeAction
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        public void Invoke(int start, int end)
        {
            int nr = TKernel.NR, count = end - start;
            long panelLength = (long)plan.K * nr;
            T* panels = Pin(Scratch<T>.Panels((int)(count * panelLength)));
            T* grid = Pin(Scratch<T>.Grid(plan.M * count * nr));
            T* tile = GemmBuffers<T>.Rent(TKernel.MR * nr);
            int* runs = stackalloc int[3 * nr];
            for (int jp = start; jp < end; jp++)
                Gather(jp, panels + (jp - start) * panelLength, runs);
            Multiply<T, TKernel>(plan, panels, (nint)panelLength, rows, positions, packedWeight, start, end, grid, tile, sliceOuter: true);
            Crop(grid, count * nr, (long)start * nr, (long)end * nr);
        }

        // dst[k, j] = padded image n at offsets[k] + oh·Wp + ow for the panel's column j at position (n, oh, ow), zero past
        // the last position. The columns are runs along output rows (at most NR): found once, then copied for every k.
        void Gather(int jp, T* dst, int* runs)
        {
            int nr = TKernel.NR, plane = g.OutPlane, ow = plan.OutWidth, used = 0, count = 0;
            for (long q = (long)jp * nr, qEnd = Math.Min(q + nr, positions); q < qEnd;)
            {
                int n = (int)(q / plane), r = (int)(q - (long)n * plane), oh = r / ow, col = r - oh * ow;
                int length = (int)Math.Min(ow - col, qEnd - q);
                runs[3 * count] = n * plan.PaddedLength + oh * plan.PaddedWidth + col;
                runs[3 * count + 1] = used;
                runs[3 * count + 2] = length;
                count++;
                used += length;
                q += length;
            }
            for (int k = 0; k < plan.K; k++, dst += nr)
            {
                T* src = shared + offsets[k];
                for (int i = 0; i < count; i++)
                    ConvVectors.CopyShort(src + runs[3 * i], dst + runs[3 * i + 1], runs[3 * i + 2]);
                for (int j = used; j < nr; j++) dst[j] = T.Zero;
            }
        }

        // Grid positions [q0, q1) of the batch to the output, with the epilogue: out[n, co, oh, ow] =
        // act(grid[co, q − q0]·scale[co] + shift[co] (+ residual)) for q = n·H_out·W_out + oh·W_out + ow.
        void Crop(T* grid, int ldc, long q0, long q1)
        {
            int plane = g.OutPlane;
            q1 = Math.Min(q1, positions);
            bool plain = epilogue.IsBiasOnly;
            for (int co = 0; co < plan.M; co++)
            {
                T* src = grid + (long)co * ldc - q0;
                T scale = epilogue.Scale == null ? T.One : epilogue.Scale[co], shift = epilogue.Shift == null ? T.Zero : epilogue.Shift[co];
                for (long q = q0; q < q1;)
                {
                    long n = q / plane, at = (n * g.OutChannels + co) * plane + (q - n * plane);
                    int count = (int)(Math.Min(q1, (n + 1) * plane) - q);
                    if (!plain)
                        ConvEpilogue.Apply(src + q, y + at, count, scale, shift, epilogue.Activation, epilogue.Residual == null ? null : epilogue.Residual + at);
                    else if (epilogue.Shift == null) ConvVectors.CopyShort(src + q, y + at, count);
                    else ConvVectors.AddShort(src + q, shift, y + at, count);
                    q += count;
                }
            }
        }
    }
}
