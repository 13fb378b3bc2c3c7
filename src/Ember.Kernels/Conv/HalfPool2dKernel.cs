using Ember.Kernels.Numerics;

namespace Ember.Kernels.Conv;

/// <summary>
/// Max and average pooling on float16/bfloat16 NCHW spans (autocast runs pooling in its input's dtype): the float32
/// kernels run a few images at a time on a widened float32 chunk and their results are rounded into the half output, so
/// no float32 copy of the whole input or output is made. Pooling works plane by plane, so the results are bit for bit
/// those of widening the whole input, pooling in float32 and rounding (see <see cref="HalfConv2dKernel"/>).
/// </summary>
public static class HalfPool2dKernel
{
    /// <summary><see cref="MaxPool2dKernel.Forward{T}"/> on half input and output; indices as there (empty when not needed).</summary>
    public static void MaxForward<THalf>(in Pool2dGeometry g, ReadOnlySpan<THalf> input, Span<THalf> output, Span<long> indices) where THalf : unmanaged
    {
        const string kernel = "MaxPool2d forward (half)";
        PlaneLoop.Require(kernel, g, input.Length, g.InputLength, nameof(input));
        PlaneLoop.Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        if (!indices.IsEmpty) PlaneLoop.Require(kernel, g, indices.Length, g.OutputLength, nameof(indices));
        Chunked(g, g.Channels * g.InPlane, g.Channels * g.OutPlane, input, output, new MaxForwardChunk(indices));
    }

    /// <summary><see cref="MaxPool2dKernel.Backward{T}"/> on half gradOutput and gradInput.</summary>
    public static void MaxBackward<THalf>(in Pool2dGeometry g, ReadOnlySpan<THalf> gradOutput, ReadOnlySpan<long> indices, Span<THalf> gradInput) where THalf : unmanaged
    {
        const string kernel = "MaxPool2d backward (half)";
        PlaneLoop.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        PlaneLoop.Require(kernel, g, indices.Length, g.OutputLength, nameof(indices));
        PlaneLoop.Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        Chunked(g, g.Channels * g.OutPlane, g.Channels * g.InPlane, gradOutput, gradInput, new MaxBackwardChunk(indices));
    }

    /// <summary><see cref="AvgPool2dKernel.Forward{T}"/> on half input and output.</summary>
    public static void AvgForward<THalf>(in Pool2dGeometry g, ReadOnlySpan<THalf> input, Span<THalf> output, bool countIncludePad = true, int? divisorOverride = null)
        where THalf : unmanaged
    {
        const string kernel = "AvgPool2d forward (half)";
        PlaneLoop.Require(kernel, g, input.Length, g.InputLength, nameof(input));
        PlaneLoop.Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        Chunked(g, g.Channels * g.InPlane, g.Channels * g.OutPlane, input, output, new AvgChunk(false, countIncludePad, divisorOverride));
    }

    /// <summary><see cref="AvgPool2dKernel.Backward{T}"/> on half gradOutput and gradInput.</summary>
    public static void AvgBackward<THalf>(in Pool2dGeometry g, ReadOnlySpan<THalf> gradOutput, Span<THalf> gradInput, bool countIncludePad = true, int? divisorOverride = null)
        where THalf : unmanaged
    {
        const string kernel = "AvgPool2d backward (half)";
        PlaneLoop.Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        PlaneLoop.Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        Chunked(g, g.Channels * g.OutPlane, g.Channels * g.InPlane, gradOutput, gradInput, new AvgChunk(true, countIncludePad, divisorOverride));
    }

    /// <summary>A float32 pooling kernel run on images [n0, n0 + g.Batch): src and dst are that slice, widened.</summary>
    interface IChunkKernel
    {
        void Run(in Pool2dGeometry g, int n0, ReadOnlySpan<float> src, Span<float> dst);
    }

    static void Chunked<THalf, TKernel>(in Pool2dGeometry g, int srcImage, int dstImage, ReadOnlySpan<THalf> src, Span<THalf> dst, TKernel kernel)
        where THalf : unmanaged where TKernel : struct, IChunkKernel, allows ref struct
    {
        int per = HalfConv2dKernel.ImagesPerChunk(srcImage + dstImage, g.Batch);
        float[] a = HalfConv2dKernel.Scratch.First(per * srcImage), b = HalfConv2dKernel.Scratch.Second(per * dstImage);
        for (int n0 = 0; n0 < g.Batch; n0 += per)
        {
            int count = Math.Min(per, g.Batch - n0);
            var s = a.AsSpan(0, count * srcImage); var d = b.AsSpan(0, count * dstImage);
            HalfConv2dKernel.Widen(src.Slice(n0 * srcImage, count * srcImage), s);
            d.Clear(); // the backward kernels add into a zeroed gradient, as the float32 op's zeroed tensor
            kernel.Run(g.WithBatch(count), n0, s, d);
            HalfConv2dKernel.Round<THalf>(d, dst.Slice(n0 * dstImage, count * dstImage));
        }
    }

    ref struct MaxForwardChunk(Span<long> indices) : IChunkKernel
    {
        readonly Span<long> indices = indices;
        public readonly void Run(in Pool2dGeometry g, int n0, ReadOnlySpan<float> src, Span<float> dst)
            => MaxPool2dKernel.Forward(g, src, dst, indices.IsEmpty ? default : indices.Slice(n0 * g.Channels * g.OutPlane, g.OutputLength));
    }

    ref struct MaxBackwardChunk(ReadOnlySpan<long> indices) : IChunkKernel
    {
        readonly ReadOnlySpan<long> indices = indices;
        public readonly void Run(in Pool2dGeometry g, int n0, ReadOnlySpan<float> src, Span<float> dst)
            => MaxPool2dKernel.Backward(g, src, indices.Slice(n0 * g.Channels * g.OutPlane, g.OutputLength), dst);
    }

    readonly struct AvgChunk(bool backward, bool countIncludePad, int? divisorOverride) : IChunkKernel
    {
        public void Run(in Pool2dGeometry g, int n0, ReadOnlySpan<float> src, Span<float> dst)
        {
            if (backward) AvgPool2dKernel.Backward(g, src, dst, countIncludePad, divisorOverride);
            else AvgPool2dKernel.Forward(g, src, dst, countIncludePad, divisorOverride);
        }
    }
}
