using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>
/// 1×1 convolutions of small images as one GEMM over the whole batch: the images' channel rows side by side
/// (X as [C_in, N·H·W]), out = W·X ([C_out, N·H·W]) and each row moved to its image with the output pass on the way
/// (and the same for the input gradient, dx = Wᵀ·dY). Image by image, a 10×10 map gives the GEMM 100 columns (4
/// panels of 32 paid for 128) and every image packs the whole weight again (C_out·C_in moves against C_out·C_in·100
/// multiply-adds): YOLOv5s's 10×10 and 20×20 1×1 convs at batch 8, the w0.375 step's 8×8 and 16×16 ones at batch 16.
/// </summary>
/// <remarks>
/// The GEMM computes each output element with the same chain of multiply-adds as the per-image GEMM (its k-slices
/// depend on K only and its micro-kernel on M only), so the bits are those of the per-image path, whatever the thread count.
/// </remarks>
internal static unsafe class BatchedPointwiseConv
{
    /// <summary>Keeps every 1×1 convolution on one GEMM per image, as before (tests and A/B timings set it).</summary>
    internal static bool ForceImageGemms;

    /// <summary>
    /// Whether a 1×1 convolution of <paramref name="g"/> (forward or input gradient) runs as one GEMM over the batch: where
    /// one image's positions leave a fifth or more of its GEMM's column panels empty (10×10 and 7×7 with 32-column
    /// AVX-512 panels). Elsewhere the copies in and out cost more than the batch saves: measured in process, alternated
    /// (bench conv-pointwise --ab batched, docs/bench-logs/2026-12-07-session33-s33-yolo-ab.txt), YOLOv5s's 10×10 convs at
    /// batch 8 took 12-25% less CPU, its 20×20 ones (400 positions, 4% empty) and the w0.375 step's 8×8 and 16×16 ones at
    /// batch 16 (full panels) 0-40% more.
    /// </summary>
    public static bool Applies<T>(in Conv2dGeometry g) where T : unmanaged
    {
        if (ForceImageGemms || !g.IsPointwise || g.Groups != 1 || g.Batch < 2 || g.OutPlane <= 0 || g.InChannels < 2 || g.OutChannels < 2) return false;
        GemmIsa isa = GemmDriver.SelectedIsa;
        int nr = 2 * (isa == GemmIsa.Vector512 ? Vector512<T>.Count : isa == GemmIsa.Vector256 ? Vector256<T>.Count : Vector128<T>.Count);
        long paid = (g.OutPlane + nr - 1L) / nr * nr;
        return paid * 5 >= g.OutPlane * 6L;
    }

    /// <summary>
    /// y[n, co] = act(Σ_ci W[co, ci]·x[n, ci]·scale[co] + shift[co] (+ residual[n, co])), images imageStride apart in y;
    /// with <paramref name="biasOnly"/> shift is added as a plain bias (or nothing when null) and scale, activation and
    /// residual are unused.
    /// </summary>
    public static void Forward<T>(in Conv2dGeometry g, T* x, T* w, T* scale, T* shift, ConvActivation activation, T* y, T* residual, int imageStride, bool biasOnly)
        where T : unmanaged, IFloatingPointIeee754<T>
        => GatherMultiplyScatter(g, x, g.InChannels, w, transposeWeight: false, g.OutChannels,
            new ScatterAction<T>(null, y, g.Batch, g.OutChannels, g.OutPlane, imageStride, scale, shift, activation, residual, biasOnly));

    /// <summary>dx[n, ci] = Σ_co W[co, ci]·dy[n, co] (+ bias[ci] when not null), dense.</summary>
    public static void BackwardInput<T>(in Conv2dGeometry g, T* dy, T* w, T* bias, T* dx) where T : unmanaged, IFloatingPointIeee754<T>
        => GatherMultiplyScatter(g, dy, g.OutChannels, w, transposeWeight: true, g.InChannels,
            new ScatterAction<T>(null, dx, g.Batch, g.InChannels, g.OutPlane, g.InChannels * g.OutPlane, null, bias, ConvActivation.None, null, biasOnly: true));

    /// <summary>
    /// Both directions: the batch's <paramref name="sourceChannels"/> rows side by side, one GEMM with the [C_out, C_in]
    /// weight (transposed for the input gradient) giving <paramref name="productChannels"/> rows, each scattered to its
    /// image by <paramref name="scatter"/>.
    /// </summary>
    static void GatherMultiplyScatter<T>(in Conv2dGeometry g, T* source, int sourceChannels, T* w, bool transposeWeight, int productChannels, ScatterAction<T> scatter)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = g.OutPlane, width = g.Batch * plane;
        T[] columns = ArrayPool<T>.Shared.Rent(sourceChannels * width), product = ArrayPool<T>.Shared.Rent(productChannels * width);
        try
        {
            fixed (T* b = columns, c = product)
            {
                ParallelRange.For(sourceChannels, RowGrain(width), new GatherAction<T>(source, b, g.Batch, sourceChannels, plane));
                ConvGemm.Multiply(transposeWeight, false, productChannels, width, sourceChannels, new ReadOnlySpan<T>(w, g.OutChannels * g.InChannels), g.InChannels,
                    new ReadOnlySpan<T>(b, sourceChannels * width), width, false, new Span<T>(c, productChannels * width), width);
                ParallelRange.For(g.Batch * productChannels, PlaneGrain(plane), scatter.From(c));
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(columns);
            ArrayPool<T>.Shared.Return(product);
        }
    }

    // About 16K elements a task.
    static int RowGrain(int width) => Math.Max(1, 16384 / Math.Max(1, width));

    static int PlaneGrain(int plane) => Math.Max(1, 16384 / Math.Max(1, plane));

    /// <summary>dst[c, n·plane + p] = src[n, c, p] for channels [start, end).</summary>
    readonly struct GatherAction<T>(T* src, T* dst, int batch, int channels, int plane) : IRangeAction where T : unmanaged
    {
        public void Invoke(int start, int end)
        {
            long width = (long)batch * plane;
            for (int c = start; c < end; c++)
                for (int n = 0; n < batch; n++)
                    new ReadOnlySpan<T>(src + ((long)n * channels + c) * plane, plane).CopyTo(new Span<T>(dst + c * width + (long)n * plane, plane));
        }
    }

    /// <summary>Planes [start, end) of (n, c): product[c, n·plane ..] to y[n·imageStride + c·plane ..], with the output pass.</summary>
    readonly struct ScatterAction<T>(T* product, T* y, int batch, int channels, int plane, int imageStride, T* scale, T* shift,
        ConvActivation activation, T* residual, bool biasOnly) : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The same scatter, from <paramref name="from"/> (the GEMM's product, known once it is pinned).</summary>
        public ScatterAction<T> From(T* from) => new(from, y, batch, channels, plane, imageStride, scale, shift, activation, residual, biasOnly);

        public void Invoke(int start, int end)
        {
            long width = (long)batch * plane;
            for (int index = start; index < end; index++)
            {
                int n = index / channels, c = index % channels;
                T* src = product + c * width + (long)n * plane;
                T* dst = y + (long)n * imageStride + (long)c * plane;
                if (biasOnly)
                {
                    // The per-image path's bias add (TensorPrimitives.Add after the GEMM), for the same bits.
                    if (shift == null) new ReadOnlySpan<T>(src, plane).CopyTo(new Span<T>(dst, plane));
                    else TensorPrimitives.Add(new ReadOnlySpan<T>(src, plane), shift[c], new Span<T>(dst, plane));
                }
                else
                    ConvEpilogue.Apply(src, dst, plane, scale == null ? T.One : scale[c], shift == null ? T.Zero : shift[c], activation,
                        residual == null ? null : residual + (long)index * plane);
            }
        }
    }
}
