using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>
/// The weight gradient of a 1×1 convolution with one group, gradWeight[co, ci] = Σ_n Σ_p gradOut[n, co, p] · x[n, ci, p],
/// as blocks of vector dot products (<see cref="WeightDots{T}"/>) over the planes where they lie. Both factors run along
/// the positions p, contiguous in memory, so nothing is packed; the GEMM per image that this replaces (M = C_out,
/// N = C_in, K = H·W) transposed both of them into panels, reading each row 1 KB at a time at a 16 KB stride, and ran
/// YOLOv5's 1×1 layers at 64² and 32² at 11-80 GFLOP per CPU-second.
/// </summary>
/// <remarks>
/// The positions are taken in equal blocks whose image rows (C_in of them) stay in the L2 while the blocks of output
/// channels sweep them; each block's dot products are added to the sums as scalars, block after block, then the
/// positions past the last whole vector one by one. The batch is cut into the chunks of
/// <see cref="Conv2dKernel.BackwardWeight{T}"/>, fixed by N, each summing its images in order, the chunks' partials
/// added in chunk order, so the result does not depend on the thread count. The order of the additions differs from the
/// GEMM's (sums over whole k-slices per element), so the bits do too; both are within float rounding of the float64 sum.
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

    /// <summary>gradWeight = Σ_n gradOut[n] · x[n]ᵀ over <paramref name="chunkCount"/> fixed chunks of the batch (see the remarks).</summary>
    public static void Run<T>(in Conv2dGeometry g, T* x, T* dy, T* dw, int chunkCount) where T : unmanaged, INumber<T>
    {
        GemmIsa isa = GemmDriver.SelectedIsa;
        int weightLength = g.WeightLength;
        int grain = (g.Batch + chunkCount - 1) / chunkCount;
        int chunks = (g.Batch + grain - 1) / grain;
        T[]? partials = chunks > 1 ? ArrayPool<T>.Shared.Rent((chunks - 1) * weightLength) : null;
        try
        {
            fixed (T* p = partials)
            {
                ParallelRange.For(g.Batch, grain, new ChunkAction<T>(g, x, dy, dw, p, grain, isa));
                var total = new Span<T>(dw, weightLength);
                for (int c = 1; c < chunks; c++)
                    TensorPrimitives.Add(total, new ReadOnlySpan<T>(p + (long)(c - 1) * weightLength, weightLength), total);
            }
        }
        finally
        {
            if (partials is not null) ArrayPool<T>.Shared.Return(partials);
        }
    }

    readonly struct ChunkAction<T>(Conv2dGeometry g, T* x, T* dy, T* dw, T* partials, int grain, GemmIsa isa) : IRangeAction
        where T : unmanaged, INumber<T>
    {
        public void Invoke(int start, int end)
        {
            int chunk = start / grain;
            int m = g.OutChannels, k = g.InChannels, plane = g.InPlane;
            int lanes = isa == GemmIsa.Vector512 ? Vector512<T>.Count : isa == GemmIsa.Vector256 ? Vector256<T>.Count : Vector128<T>.Count;
            // Each channel's planes of the chunk's images side by side, each zero-padded to whole vectors, in rows one
            // line longer than that: the planes at 64² are 16 KiB long, and rows a multiple of 4 KiB apart put the rows of
            // a dot block in one set of the L1, where they evict each other.
            int segment = (plane + lanes - 1) / lanes * lanes, length = (end - start) * segment, stride = length + 64 / sizeof(T);
            T* rows = GemmBuffers<T>.Rent((nint)(m + k) * stride);
            T* xRows = rows + (nint)m * stride;
            for (int n = start; n < end; n++)
            {
                nint at = (nint)(n - start) * segment;
                CopyRows(dy + (long)n * m * plane, plane, m, rows + at, stride, segment);
                CopyRows(x + (long)n * k * plane, plane, k, xRows + at, stride, segment);
            }
            int* offsets = stackalloc int[k];
            for (int ci = 0; ci < k; ci++) offsets[ci] = ci * stride;
            T* target = chunk == 0 ? dw : partials + (long)(chunk - 1) * g.WeightLength;
            new Span<T>(target, g.WeightLength).Clear();
            WeightDots<T>.Accumulate(isa, rows, stride, m, xRows, offsets, k, length, target);
        }

        static void CopyRows(T* src, int plane, int count, T* dst, int stride, int segment)
        {
            for (int r = 0; r < count; r++, src += plane, dst += stride)
            {
                Unsafe.CopyBlock(dst, src, (uint)(plane * sizeof(T)));
                new Span<T>(dst + plane, segment - plane).Clear();
            }
        }
    }
}
