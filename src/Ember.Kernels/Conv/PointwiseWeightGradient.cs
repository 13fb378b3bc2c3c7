using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>
/// The weight gradient of a 1×1 convolution with one group, gradWeight[co, ci] = Σ_n Σ_p gradOut[n, co, p] · x[n, ci, p],
/// as blocks of vector dot products (<see cref="WeightDots{T}"/>) along the positions p, where both factors are
/// contiguous: no transposing pack. The GEMM per image that this replaces (M = C_out, N = C_in, K = H·W) transposed
/// both factors into panels, reading rows 16 KiB apart 1 KiB at a time, and ran YOLOv5's 1×1 layers at 64² and 32² at
/// 11-80 GFLOP per CPU-second (docs/bench-logs/2026-12-06-session24-s24-conv-ab.txt).
/// </summary>
/// <remarks>
/// The batch is cut into the fixed chunks of <see cref="Conv2dKernel.BackwardWeight{T}"/>. A chunk copies its planes
/// side by side (<see cref="Layout"/>) and runs the dot blocks over all of them at once: each block's lane sums are added
/// to the chunk's sums once per piece, and a longer run per sum measured faster than L2-sized pieces with more sums.
/// The chunks' partials are added in chunk order, so the result does not depend on the thread count. The order of the
/// additions differs from the GEMM's (whole k-slices per element), so the bits do too; both are within float rounding of
/// the float64 sum.
/// </remarks>
internal static unsafe class PointwiseWeightGradient
{
    /// <summary>
    /// Positions per plane from which the dot products take the place of the GEMM: below it the planes are short, the
    /// GEMM's transposes are cheap, and the lane sums of each block would weigh more.
    /// </summary>
    internal const int MinimumPlane = 1024;

    /// <summary>Sends every 1×1 weight gradient through the GEMM per image, as before this path (tests and A/B timings set it).</summary>
    internal static bool ForceGemm;

    /// <summary>A 1×1, stride-1, unpadded convolution with one group and planes of at least <see cref="MinimumPlane"/> positions.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        !ForceGemm && g.IsPointwise && g.Groups == 1 && g.OutPlane >= MinimumPlane
        && (GemmDriver.SelectedIsa != GemmIsa.Vector128 || Vector128.IsHardwareAccelerated);

    /// <summary>Bytes of a thread's copied rows (the positions per piece follow from the channels), when above 0: for tests.</summary>
    internal static long ForcedScratchBytes;

    /// <summary>
    /// Bytes that one thread's copied rows may take: a chunk's images go side by side up to this, longer planes are cut
    /// into pieces (the buffer is kept per thread, so it must not grow with the image size).
    /// </summary>
    const long ScratchBytes = 4L << 20;

    /// <summary>gradWeight = Σ_n gradOut[n] · x[n]ᵀ over <paramref name="chunkCount"/> fixed chunks of the batch (see the remarks).</summary>
    public static void Run<T>(in Conv2dGeometry g, T* x, T* dy, T* dw, int chunkCount) where T : unmanaged, INumber<T>
    {
        GemmIsa isa = GemmDriver.SelectedIsa;
        int weightLength = g.WeightLength;
        int grain = (g.Batch + chunkCount - 1) / chunkCount;
        int chunks = (g.Batch + grain - 1) / grain;
        var layout = new Layout(g, grain, isa == GemmIsa.Vector512 ? Vector512<T>.Count : isa == GemmIsa.Vector256 ? Vector256<T>.Count : Vector128<T>.Count,
            sizeof(T), ForcedScratchBytes > 0 ? ForcedScratchBytes : ScratchBytes);
        T[]? partials = chunks > 1 ? ArrayPool<T>.Shared.Rent((chunks - 1) * weightLength) : null;
        int[] offsets = ArrayPool<int>.Shared.Rent(g.InChannels);
        try
        {
            for (int ci = 0; ci < g.InChannels; ci++) offsets[ci] = ci * layout.Stride;
            fixed (T* p = partials)
            fixed (int* off = offsets)
            {
                ParallelRange.For(g.Batch, grain, new ChunkAction<T>(g, layout, x, dy, dw, p, off, grain, isa));
                Conv2dKernel.AddChunkPartials(dw, p, chunks, weightLength);
            }
        }
        finally
        {
            if (partials is not null) ArrayPool<T>.Shared.Return(partials);
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    /// <summary>
    /// How a chunk's positions are copied: each plane zero-padded to whole vectors (<see cref="Segment"/>), then either
    /// <see cref="Images"/> images side by side per piece, or (a plane longer than a piece) each plane in equal pieces of
    /// <see cref="Block"/> positions; rows <see cref="Stride"/> apart, one cache line longer than a piece: the planes at
    /// 64² are 16 KiB long, and rows a multiple of 4 KiB apart put the rows of a dot block in one set of the L1, where
    /// they evict each other. Fixed by the geometry, so every chunk sums in the same pieces.
    /// </summary>
    readonly struct Layout
    {
        public readonly int Segment, Images, Block, Stride;

        public Layout(in Conv2dGeometry g, int grain, int lanes, int elementSize, long scratchBytes)
        {
            Segment = (g.InPlane + lanes - 1) / lanes * lanes;
            long most = Math.Max(lanes, scratchBytes / ((long)(g.OutChannels + g.InChannels) * elementSize) / lanes * lanes);
            if (Segment <= most)
            {
                Images = (int)Math.Min(grain, most / Segment);
                Block = Segment;
                Stride = Images * Segment + 64 / elementSize;
            }
            else
            {
                Images = 1;
                int pieces = (int)((Segment + most - 1) / most);
                Block = (Segment / lanes + pieces - 1) / pieces * lanes;
                Stride = Block + 64 / elementSize;
            }
        }
    }

    readonly struct ChunkAction<T>(Conv2dGeometry g, Layout layout, T* x, T* dy, T* dw, T* partials, int* offsets, int grain, GemmIsa isa) : IRangeAction
        where T : unmanaged, INumber<T>
    {
        public void Invoke(int start, int end)
        {
            int chunk = start / grain;
            int m = g.OutChannels, k = g.InChannels, plane = g.InPlane, stride = layout.Stride;
            T* rows = GemmBuffers<T>.Rent((nint)(m + k) * stride);
            T* xRows = rows + (nint)m * stride;
            T* target = chunk == 0 ? dw : partials + (long)(chunk - 1) * g.WeightLength;
            new Span<T>(target, g.WeightLength).Clear();
            for (int n0 = start; n0 < end; n0 += layout.Images)
            {
                int n1 = Math.Min(end, n0 + layout.Images);
                for (int p0 = 0; p0 < layout.Segment; p0 += layout.Block)
                {
                    int length = Math.Min(layout.Block, layout.Segment - p0);
                    for (int n = n0; n < n1; n++)
                    {
                        nint at = (nint)(n - n0) * layout.Segment;
                        CopyRows(dy + (long)n * m * plane + p0, plane, m, rows + at, stride, Math.Clamp(plane - p0, 0, length), length);
                        CopyRows(x + (long)n * k * plane + p0, plane, k, xRows + at, stride, Math.Clamp(plane - p0, 0, length), length);
                    }
                    WeightDots<T>.Accumulate(isa, rows, stride, m, xRows, offsets, k, (n1 - n0) * length, target);
                }
            }
        }

        // count rows of plane-long source rows into rows stride apart: the first valid positions, zeros up to length.
        static void CopyRows(T* src, int plane, int count, T* dst, int stride, int valid, int length)
        {
            for (int r = 0; r < count; r++, src += plane, dst += stride)
            {
                Unsafe.CopyBlock(dst, src, (uint)(valid * sizeof(T)));
                new Span<T>(dst + valid, length - valid).Clear();
            }
        }
    }
}
