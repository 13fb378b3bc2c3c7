using System.Buffers;
using System.Numerics.Tensors;
using Ember.Kernels.Numerics;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>
/// <see cref="Conv2dKernel"/> for float16/bfloat16 activations (autocast): the float32 kernels run on a few images at a
/// time, widened into a float32 scratch of a few megabytes, and their results are rounded into the half output chunk by
/// chunk, so no float32 copy of a whole activation or result exists. Widening is exact and every image's result is
/// computed the same way whatever the batch around it, so the results are bit for bit those of widening the whole
/// tensors and running the float32 kernel. Weights and biases are float32 (they are small; the op widens them).
/// </summary>
public static class HalfConv2dKernel
{
    // Floats of scratch a chunk of images aims at (8 MiB): few enough kernel calls that their per-call work (weight
    // packing, fork-join) stays small, a fraction of an activation's size.
    const int ChunkFloats = 1 << 21;

    /// <summary>The forward of <see cref="Conv2dKernel.Forward{T}"/> on half input and output.</summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C_in, H, W].</param>
    /// <param name="weight">[C_out, C_in/groups, kH, kW].</param>
    /// <param name="bias">[C_out], or empty for no bias.</param>
    /// <param name="output">[N, C_out, H_out, W_out], overwritten.</param>
    public static void Forward<THalf>(in Conv2dGeometry g, ReadOnlySpan<THalf> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<THalf> output)
        where THalf : unmanaged
    {
        const string kernel = "Conv2d forward (half)";
        Conv2dKernel.Require(kernel, g, input.Length, g.InputLength, nameof(input));
        Conv2dKernel.Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        int inImage = g.InChannels * g.InPlane, outImage = g.OutChannels * g.OutPlane;
        int per = ImagesPerChunk(inImage + outImage, g.Batch);
        float[] xs = Scratch.First(per * inImage), ys = Scratch.Second(per * outImage);
        for (int n0 = 0; n0 < g.Batch; n0 += per)
        {
            int count = Math.Min(per, g.Batch - n0);
            var x = xs.AsSpan(0, count * inImage); var y = ys.AsSpan(0, count * outImage);
            Widen(input.Slice(n0 * inImage, count * inImage), x);
            Conv2dKernel.Forward(g.WithBatch(count), x, weight, bias, y);
            Round<THalf>(y, output.Slice(n0 * outImage, count * outImage));
        }
    }

    /// <summary>
    /// The input gradient (<see cref="Conv2dKernel.BackwardInput{T}"/>, which is also the transposed convolution's forward)
    /// on half gradOutput and gradInput, plus an optional per-input-channel bias on the result (the transposed convolution's).
    /// </summary>
    /// <param name="g">Sizes of the forward convolution.</param>
    /// <param name="gradOutput">[N, C_out, H_out, W_out].</param>
    /// <param name="weight">[C_out, C_in/groups, kH, kW].</param>
    /// <param name="bias">[C_in], or empty.</param>
    /// <param name="gradInput">[N, C_in, H, W], overwritten.</param>
    public static void BackwardInput<THalf>(in Conv2dGeometry g, ReadOnlySpan<THalf> gradOutput, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<THalf> gradInput)
        where THalf : unmanaged
    {
        const string kernel = "Conv2d backward (input, half)";
        Conv2dKernel.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        Conv2dKernel.Require(kernel, g, weight.Length, g.WeightLength, nameof(weight));
        Conv2dKernel.Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        int inImage = g.InChannels * g.InPlane, outImage = g.OutChannels * g.OutPlane;
        int per = ImagesPerChunk(inImage + outImage, g.Batch);
        float[] dys = Scratch.First(per * outImage), dxs = Scratch.Second(per * inImage);
        for (int n0 = 0; n0 < g.Batch; n0 += per)
        {
            int count = Math.Min(per, g.Batch - n0);
            var dy = dys.AsSpan(0, count * outImage); var dx = dxs.AsSpan(0, count * inImage);
            Widen(gradOutput.Slice(n0 * outImage, count * outImage), dy);
            Conv2dKernel.BackwardInputCore<float>(g.WithBatch(count), dy, weight, bias, dx);
            Round<THalf>(dx, gradInput.Slice(n0 * inImage, count * inImage));
        }
    }

    /// <summary>
    /// <see cref="Conv2dKernel.BackwardWeight{T}"/> on half input and gradOutput, with a float32 result. Where the
    /// shifted-GEMM weight gradient applies, each of its fixed batch chunks is widened on its own (one chunk per thread
    /// at a time) and summed exactly as there, so the result has the float32 kernel's bits; elsewhere the whole
    /// tensors are widened (the im2col path's chunks of images share one thread's GEMMs).
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C_in, H, W].</param>
    /// <param name="gradOutput">[N, C_out, H_out, W_out].</param>
    /// <param name="gradWeight">[C_out, C_in/groups, kH, kW], overwritten.</param>
    public static unsafe void BackwardWeight<THalf>(in Conv2dGeometry g, ReadOnlySpan<THalf> input, ReadOnlySpan<THalf> gradOutput, Span<float> gradWeight)
        where THalf : unmanaged
    {
        const string kernel = "Conv2d backward (weight, half)";
        Conv2dKernel.Require(kernel, g, input.Length, g.InputLength, nameof(input));
        Conv2dKernel.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        Conv2dKernel.Require(kernel, g, gradWeight.Length, g.WeightLength, nameof(gradWeight));
        int weightLength = g.WeightLength;
        gradWeight = gradWeight[..weightLength];
        if (g.Batch == 0) { gradWeight.Clear(); return; }
        if (!ShiftedGemmConv.AppliesToWeightGradient(g))
        {
            float[] x = ArrayPool<float>.Shared.Rent(g.InputLength), dy = ArrayPool<float>.Shared.Rent(g.OutputLength);
            try
            {
                Widen(input[..g.InputLength], x.AsSpan(0, g.InputLength));
                Widen(gradOutput[..g.OutputLength], dy.AsSpan(0, g.OutputLength));
                Conv2dKernel.BackwardWeight<float>(g, x.AsSpan(0, g.InputLength), dy.AsSpan(0, g.OutputLength), gradWeight);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(x); ArrayPool<float>.Shared.Return(dy);
            }
            return;
        }
        // The float32 kernel's chunking (Conv2dKernel.WeightChunks): chunk c sums its images in order into its own target.
        int grain = (g.Batch + Conv2dKernel.WeightChunks - 1) / Conv2dKernel.WeightChunks;
        int chunks = (g.Batch + grain - 1) / grain;
        float[]? partials = chunks > 1 ? ArrayPool<float>.Shared.Rent((chunks - 1) * weightLength) : null;
        try
        {
            fixed (THalf* x = input, dy = gradOutput)
            fixed (float* dw = gradWeight, p = partials)
            {
                ParallelRange.For(chunks, 1, new WeightChunkAction<THalf>(g, x, dy, dw, p, grain));
                Conv2dKernel.AddChunkPartials(dw, p, chunks, weightLength);
            }
        }
        finally
        {
            if (partials is not null) ArrayPool<float>.Shared.Return(partials);
        }
    }

    /// <summary>
    /// <see cref="Conv2dKernel.BackwardBias{T}"/> on a half gradOutput, with a float32 result: each channel summed image
    /// by image in order, each plane widened on its own into the thread's scratch and summed as the float32 kernel sums
    /// it, so the bits are the float32 kernel's on the widened tensor, without that whole float32 copy.
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="gradOutput">[N, C_out, H_out, W_out].</param>
    /// <param name="gradBias">[C_out], overwritten.</param>
    public static unsafe void BackwardBias<THalf>(in Conv2dGeometry g, ReadOnlySpan<THalf> gradOutput, Span<float> gradBias)
        where THalf : unmanaged
    {
        const string kernel = "Conv2d backward (bias, half)";
        Conv2dKernel.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        Conv2dKernel.Require(kernel, g, gradBias.Length, g.OutChannels, nameof(gradBias));
        int batch = g.Batch, channels = g.OutChannels, plane = g.OutPlane;
        fixed (THalf* d = gradOutput)
        fixed (float* sums = gradBias)
            ParallelRange.For(channels, Math.Max(1, 65536 / Math.Max(1, batch * plane)), new ChannelSumAction<THalf>(batch, channels, plane, d, sums));
    }

    unsafe readonly struct ChannelSumAction<THalf>(int batch, int channels, int plane, THalf* data, float* sums) : IRangeAction
        where THalf : unmanaged
    {
        public void Invoke(int start, int end)
        {
            var widened = Scratch.First(plane).AsSpan(0, plane);
            for (int c = start; c < end; c++)
            {
                float sum = 0f;
                for (int n = 0; n < batch; n++)
                {
                    HalfConversion.ToSingle(new ReadOnlySpan<THalf>(data + ((long)n * channels + c) * plane, plane), widened);
                    sum += TensorPrimitives.Sum<float>(widened);
                }
                sums[c] = sum;
            }
        }
    }

    /// <summary>Images per chunk when above 0, for tests (several chunks on small batches); 0 sizes chunks by <see cref="ChunkFloats"/>.</summary>
    internal static int ForcedImagesPerChunk;

    /// <summary>
    /// Images per chunk: about <see cref="ChunkFloats"/> floats of scratch, and at least four images per thread, so the
    /// shifted GEMM gives each thread whole images (with fewer it splits images' panels between threads, which costs more).
    /// </summary>
    internal static int ImagesPerChunk(long floatsPerImage, int batch)
        => ForcedImagesPerChunk > 0 ? ForcedImagesPerChunk : (int)Math.Clamp(ChunkFloats / Math.Max(1, floatsPerImage), Math.Min(batch, 4 * ParallelRange.MaxThreads), Math.Max(1, batch));

    /// <summary>Widens a chunk, split between the threads as the whole-tensor casts are (the conversion is memory-bound).</summary>
    internal static unsafe void Widen<THalf>(ReadOnlySpan<THalf> source, Span<float> destination) where THalf : unmanaged
    {
        fixed (THalf* s = source)
        fixed (float* d = destination)
            ParallelRange.For(source.Length, ConversionGrain(source.Length), new ConvertAction<THalf>(s, d, true));
    }

    /// <summary>Rounds a chunk into the half output, split between the threads.</summary>
    internal static unsafe void Round<THalf>(ReadOnlySpan<float> source, Span<THalf> destination) where THalf : unmanaged
    {
        fixed (float* s = source)
        fixed (THalf* d = destination)
            ParallelRange.For(source.Length, ConversionGrain(source.Length), new ConvertAction<THalf>(d, s, false));
    }

    static int ConversionGrain(int length) => Math.Max(1 << 15, (length + ParallelRange.MaxThreads - 1) / ParallelRange.MaxThreads);

    unsafe readonly struct ConvertAction<THalf>(THalf* half, float* single, bool widen) : IRangeAction where THalf : unmanaged
    {
        public void Invoke(int start, int end)
        {
            var h = new Span<THalf>(half + start, end - start); var f = new Span<float>(single + start, end - start);
            if (widen) HalfConversion.ToSingle<THalf>(h, f);
            else HalfConversion.FromSingle<THalf>(f, h);
        }
    }

    unsafe readonly struct WeightChunkAction<THalf>(Conv2dGeometry g, THalf* x, THalf* dy, float* dw, float* partials, int grain) : IRangeAction
        where THalf : unmanaged
    {
        public void Invoke(int start, int end)
        {
            int inImage = g.InChannels * g.InPlane, outImage = g.OutChannels * g.OutPlane;
            float[] xs = Scratch.First(grain * inImage), dys = Scratch.Second(grain * outImage);
            {
                fixed (float* xp = xs, dyp = dys)
                    for (int c = start; c < end; c++)
                    {
                        int n0 = c * grain, count = Math.Min(grain, g.Batch - n0);
                        HalfConversion.ToSingle(new ReadOnlySpan<THalf>(x + (long)n0 * inImage, count * inImage), xs.AsSpan(0, count * inImage));
                        HalfConversion.ToSingle(new ReadOnlySpan<THalf>(dy + (long)n0 * outImage, count * outImage), dys.AsSpan(0, count * outImage));
                        float* target = c == 0 ? dw : partials + (long)(c - 1) * g.WeightLength;
                        // One chunk: the images summed in order into target, as the whole-batch call sums this chunk.
                        ShiftedGemmConv.BackwardWeight(g.WithBatch(count), xp, dyp, target, 1);
                    }
            }
        }
    }

    /// <summary>
    /// Each thread's two chunk buffers, grown as needed and kept: a step converts the same chunk sizes again and again,
    /// and fresh multi-megabyte arrays would be page-faulted in on every call.
    /// </summary>
    internal static class Scratch
    {
        [ThreadStatic] static float[]? first, second;
        public static float[] First(int length) => Grow(ref first, length);
        public static float[] Second(int length) => Grow(ref second, length);

        static float[] Grow(ref float[]? buffer, int length)
        {
            if (buffer is null || buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(length);
            return buffer;
        }
    }
}
