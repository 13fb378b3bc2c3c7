using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>
/// 2-D convolution on contiguous NCHW spans (torch.nn.functional.conv2d and its gradients), lowered to GEMM:
/// for every image n and group g, out[n, g] = W[g] · im2col(x[n, g]) + bias, with W[g] the [C_out/groups, C_in/groups·kH·kW]
/// slice of the weight. Images are processed in parallel; every result is computed in an order that does not depend on
/// the thread count, so results are bit-identical for any <see cref="ParallelRange.MaxThreads"/>.
/// Convolutions with one input channel per group (depthwise, or C_in = 1) use direct row kernels instead of GEMM.
/// </summary>
public static unsafe class Conv2dKernel
{
    /// <summary>
    /// out[n, co, oh, ow] = bias[co] + Σ_{ci ∈ group(co), i, j} W[co, ci, i, j] · x[n, ci, oh·sH − pH + i·dH, ow·sW − pW + j·dW]
    /// (x is zero outside the input).
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C_in, H, W].</param>
    /// <param name="weight">[C_out, C_in/groups, kH, kW].</param>
    /// <param name="bias">[C_out], or empty for no bias.</param>
    /// <param name="output">[N, C_out, H_out, W_out], overwritten.</param>
    public static void Forward<T>(in Conv2dGeometry g, ReadOnlySpan<T> input, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, Span<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Conv2d forward";
        Require(kernel, g, input.Length, g.InputLength, nameof(input));
        Require(kernel, g, weight.Length, g.WeightLength, nameof(weight));
        if (!bias.IsEmpty) Require(kernel, g, bias.Length, g.OutChannels, nameof(bias));
        Require(kernel, g, output.Length, g.OutputLength, nameof(output));
        fixed (T* x = input, w = weight, b = bias, y = output)
        {
            if (g.InChannelsPerGroup == 1) DepthwiseConv2d.Forward(g, x, w, bias.IsEmpty ? null : b, y);
            else if (typeof(T) == typeof(float) && WinogradConv.Applies(g))
                WinogradConv.Forward(g, (float*)x, (float*)w, null, bias.IsEmpty ? null : (float*)b, ConvActivation.None, (float*)y, null, g.OutChannels * g.OutPlane);
            else if (ShiftedGemmConv.Applies(g)) ShiftedGemmConv.Forward(g, x, w, bias.IsEmpty ? null : b, y);
            else if (BatchedPointwiseConv.Applies<T>(g))
                BatchedPointwiseConv.Forward(g, x, w, null, bias.IsEmpty ? null : b, ConvActivation.None, y, null, g.OutChannels * g.OutPlane, biasOnly: true);
            else ParallelRange.For(g.Batch, 1, new ForwardAction<T>(g, x, w, null, bias.IsEmpty ? null : b, ConvActivation.None, y, null, g.OutChannels * g.OutPlane));
        }
    }

    /// <summary>
    /// out[n, co] = act(conv2d(x, W)[n, co]·scale[co] + shift[co]): the convolution with its output pass fused, for an
    /// eval-mode Conv → BatchNorm → activation (scale = γ/√(var + ε), shift = β − mean·scale) or a conv with bias and an
    /// activation (scale empty, shift = bias). The epilogue runs on each part of the output while it is still in cache;
    /// the result matches the unfused ops to float rounding (one fused multiply-add instead of a multiply and an add).
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C_in, H, W].</param>
    /// <param name="weight">[C_out, C_in/groups, kH, kW].</param>
    /// <param name="scale">[C_out], or empty for 1.</param>
    /// <param name="shift">[C_out], or empty for 0.</param>
    /// <param name="activation">Applied last.</param>
    /// <param name="output">[N, C_out, H_out, W_out], overwritten.</param>
    /// <param name="residual">[N, C_out, H_out, W_out] added before the activation (ResNet's shortcut), or empty.</param>
    /// <param name="outputImageStride">
    /// Elements from one image's output to the next, at least C_out·H_out·W_out (0: exactly that, a dense output): a
    /// channel slice of a wider tensor, so that a convolution whose result is concatenated writes it in place.
    /// </param>
    public static void ForwardFused<T>(in Conv2dGeometry g, ReadOnlySpan<T> input, ReadOnlySpan<T> weight, ReadOnlySpan<T> scale, ReadOnlySpan<T> shift,
        ConvActivation activation, Span<T> output, ReadOnlySpan<T> residual = default, int outputImageStride = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Conv2d fused forward";
        Require(kernel, g, input.Length, g.InputLength, nameof(input));
        Require(kernel, g, weight.Length, g.WeightLength, nameof(weight));
        if (!scale.IsEmpty) Require(kernel, g, scale.Length, g.OutChannels, nameof(scale));
        if (!shift.IsEmpty) Require(kernel, g, shift.Length, g.OutChannels, nameof(shift));
        int dense = g.OutChannels * g.OutPlane;
        if (outputImageStride != 0 && outputImageStride < dense)
            throw new ArgumentException($"{kernel}: outputImageStride {outputImageStride} is less than one image's output ({dense} elements) for {g}", nameof(outputImageStride));
        int imageStride = outputImageStride == 0 ? dense : outputImageStride;
        Require(kernel, g, output.Length, g.Batch == 0 ? 0 : (g.Batch - 1) * imageStride + dense, nameof(output));
        if (!residual.IsEmpty) Require(kernel, g, residual.Length, g.OutputLength, nameof(residual));
        if (typeof(T) == typeof(float) && WinogradConv.Applies(g))
        {
            fixed (T* x = input, w = weight, s = scale, b = shift, y = output, r = residual)
                WinogradConv.Forward(g, (float*)x, (float*)w, scale.IsEmpty ? null : (float*)s, shift.IsEmpty ? null : (float*)b, activation, (float*)y,
                    residual.IsEmpty ? null : (float*)r, imageStride);
            return;
        }
        if (imageStride != dense && g.Batch > 1 && (g.InChannelsPerGroup == 1 || ShiftedGemmConv.Applies(g)))
        {
            // These kernels write whole images back to back: run them into a dense scratch and move each image to its place.
            T[] scratch = ArrayPool<T>.Shared.Rent(g.OutputLength);
            try
            {
                ForwardFused(g, input, weight, scale, shift, activation, scratch.AsSpan(0, g.OutputLength), residual);
                fixed (T* src = scratch, dst = output)
                    ParallelRange.For(g.Batch, 1, new ImageCopyAction<T>(src, dst, dense, imageStride));
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratch);
            }
            return;
        }
        fixed (T* x = input, w = weight, s = scale, b = shift, y = output, r = residual)
        {
            T* sp = scale.IsEmpty ? null : s, bp = shift.IsEmpty ? null : b, rp = residual.IsEmpty ? null : r;
            if (g.InChannelsPerGroup == 1)
            {
                DepthwiseConv2d.Forward(g, x, w, null, y);
                ParallelRange.For(g.Batch * g.OutChannels, Math.Max(1, 16384 / Math.Max(1, g.OutPlane)), new EpilogueAction<T>(g, sp, bp, activation, y, rp, imageStride));
            }
            else if (ShiftedGemmConv.Applies(g)) ShiftedGemmConv.Forward(g, x, w, sp, bp, activation, y, rp);
            else if (BatchedPointwiseConv.Applies<T>(g))
                BatchedPointwiseConv.Forward(g, x, w, sp, bp, activation, y, rp, imageStride, biasOnly: sp == null && rp == null && activation == ConvActivation.None);
            else if (g.Batch >= ParallelRange.MaxThreads) ParallelRange.For(g.Batch, 1, new ForwardAction<T>(g, x, w, sp, bp, activation, y, rp, imageStride));
            else
            {
                // Fewer images than threads: the images run one by one (each GEMM uses every thread), so the output pass
                // goes after them, over channel planes in parallel, instead of on one thread per image.
                ParallelRange.For(g.Batch, 1, new ForwardAction<T>(g, x, w, null, null, ConvActivation.None, y, null, imageStride));
                ParallelRange.For(g.Batch * g.OutChannels, Math.Max(1, 16384 / Math.Max(1, g.OutPlane)), new EpilogueAction<T>(g, sp, bp, activation, y, rp, imageStride));
            }
        }
    }

    /// <summary>
    /// gradInput = ∂(Σ gradOut·out)/∂x: for every image and group, col2im(W[g]ᵀ · gradOut[n, g]); at stride 1 as a stride-1
    /// convolution and at larger strides as one per phase of the input (see ShiftedGemmConv), where those apply.
    /// This is also the forward of the transposed convolution (see <see cref="ConvTranspose2dKernel"/>).
    /// </summary>
    /// <param name="g">Sizes of the forward convolution.</param>
    /// <param name="gradOutput">[N, C_out, H_out, W_out].</param>
    /// <param name="weight">[C_out, C_in/groups, kH, kW].</param>
    /// <param name="gradInput">[N, C_in, H, W], overwritten.</param>
    public static void BackwardInput<T>(in Conv2dGeometry g, ReadOnlySpan<T> gradOutput, ReadOnlySpan<T> weight, Span<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Conv2d backward (input)";
        Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        Require(kernel, g, weight.Length, g.WeightLength, nameof(weight));
        Require(kernel, g, gradInput.Length, g.InputLength, nameof(gradInput));
        BackwardInputCore(g, gradOutput, weight, default, gradInput);
    }

    /// <summary>
    /// gradWeight[co, ci, i, j] = Σ_n Σ_{oh, ow} gradOut[n, co, oh, ow] · x[n, ci, oh·sH − pH + i·dH, ow·sW − pW + j·dW],
    /// i.e. Σ_n gradOut[n, g] · im2col(x[n, g])ᵀ. The batch is cut into at most 8 chunks whose boundaries depend only on N;
    /// each chunk sums its images in order and the chunk partials are added in chunk order, so the sum is deterministic.
    /// </summary>
    /// <param name="g">Sizes.</param>
    /// <param name="input">[N, C_in, H, W].</param>
    /// <param name="gradOutput">[N, C_out, H_out, W_out].</param>
    /// <param name="gradWeight">[C_out, C_in/groups, kH, kW], overwritten.</param>
    public static void BackwardWeight<T>(in Conv2dGeometry g, ReadOnlySpan<T> input, ReadOnlySpan<T> gradOutput, Span<T> gradWeight)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Conv2d backward (weight)";
        Require(kernel, g, input.Length, g.InputLength, nameof(input));
        Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        Require(kernel, g, gradWeight.Length, g.WeightLength, nameof(gradWeight));
        int weightLength = g.WeightLength;
        gradWeight = gradWeight[..weightLength];
        if (g.Batch == 0) { gradWeight.Clear(); return; }
        if (typeof(T) == typeof(float) && WinogradWeightGradient.Applies(g))
        {
            fixed (T* x = input, dy = gradOutput, dw = gradWeight)
                WinogradWeightGradient.Run(g, (float*)x, (float*)dy, (float*)dw);
            return;
        }
        if (ShiftedGemmConv.AppliesToWeightGradient(g) || StridedShiftedWeightGradient(g))
        {
            fixed (T* x = input, dy = gradOutput, dw = gradWeight)
                ShiftedGemmConv.BackwardWeight(g, x, dy, dw, WeightChunks);
            return;
        }
        if (g.InChannelsPerGroup == 1)
        {
            fixed (T* x = input, dy = gradOutput, dw = gradWeight)
                DepthwiseConv2d.BackwardWeight(g, x, dy, dw);
            return;
        }
        if (PointwiseWeightGradient.Applies(g))
        {
            fixed (T* x = input, dy = gradOutput, dw = gradWeight)
                PointwiseWeightGradient.Run(g, x, dy, dw, WeightChunks);
            return;
        }

        int grain = (g.Batch + WeightChunks - 1) / WeightChunks;
        int chunks = (g.Batch + grain - 1) / grain;
        T[]? partials = chunks > 1 ? ArrayPool<T>.Shared.Rent((chunks - 1) * weightLength) : null;
        try
        {
            fixed (T* x = input, dy = gradOutput, dw = gradWeight, p = partials)
            {
                ParallelRange.For(g.Batch, grain, new WeightAction<T>(g, x, dy, dw, p, grain));
                AddChunkPartials(dw, p, chunks, weightLength);
            }
        }
        finally
        {
            if (partials is not null) ArrayPool<T>.Shared.Return(partials);
        }
    }

    /// <summary>gradBias[co] = Σ_n Σ_{oh, ow} gradOut[n, co, oh, ow], summed image by image in order.</summary>
    /// <param name="g">Sizes.</param>
    /// <param name="gradOutput">[N, C_out, H_out, W_out].</param>
    /// <param name="gradBias">[C_out], overwritten.</param>
    public static void BackwardBias<T>(in Conv2dGeometry g, ReadOnlySpan<T> gradOutput, Span<T> gradBias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string kernel = "Conv2d backward (bias)";
        Require(kernel, g, gradOutput.Length, g.OutputLength, nameof(gradOutput));
        Require(kernel, g, gradBias.Length, g.OutChannels, nameof(gradBias));
        ChannelSums(g.Batch, g.OutChannels, g.OutPlane, gradOutput, gradBias);
    }

    /// <summary>
    /// Strided convolutions whose forward takes the phase-split shifted GEMM (YOLOv5's 3×3 stride-2 convs and 6×6 stem):
    /// their weight gradient runs on the same phase images as dot products, without im2col's copy of every tap.
    /// </summary>
    static bool StridedShiftedWeightGradient(in Conv2dGeometry g) =>
        (g.StrideHeight > 1 || g.StrideWidth > 1) && g.Groups == 1 && ShiftedGemmConv.Applies(g)
        && (GemmDriver.SelectedIsa != GemmIsa.Vector128 || System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated);

    /// <summary>Chunks of the batch for the weight gradient: few enough that the partials stay small, fixed so sums are deterministic.</summary>
    internal const int WeightChunks = 8;

    /// <summary>
    /// dw += the partial sums of chunks 1 to <paramref name="chunks"/> − 1 (<paramref name="weightLength"/> values each,
    /// back to back in <paramref name="partials"/>), in chunk order: the fixed reduction of the weight-gradient kernels,
    /// whose chunk 0 writes straight into dw. Each element is ((dw + p₁) + p₂) + …, the bits of one whole-array add per
    /// chunk, but in one pass over slices of the weight shared by the threads: the adds one after another on one thread
    /// read and wrote dw once per chunk while the other threads waited (YOLOv5's deep layers: 7 partials of up to 2.6 MB).
    /// </summary>
    internal static void AddChunkPartials<T>(T* dw, T* partials, int chunks, int weightLength) where T : unmanaged, INumber<T>
    {
        if (chunks > 1)
            ParallelRange.For(weightLength, PartialSlice, new PartialSumAction<T>(dw, partials, chunks, weightLength));
    }

    /// <summary>Weight elements per task of <see cref="AddChunkPartials{T}"/>: 64 KiB of float32, smaller weights stay on one thread.</summary>
    const int PartialSlice = 16384;

    readonly struct PartialSumAction<T>(T* dw, T* partials, int chunks, int weightLength) : IRangeAction where T : unmanaged, INumber<T>
    {
        public void Invoke(int start, int end)
        {
            int i = start;
            if (Vector.IsHardwareAccelerated)
                for (; i + Vector<T>.Count <= end; i += Vector<T>.Count)
                {
                    Vector<T> sum = Vector.Load(dw + i);
                    for (int c = 1; c < chunks; c++) sum += Vector.Load(partials + (long)(c - 1) * weightLength + i);
                    sum.Store(dw + i);
                }
            for (; i < end; i++)
            {
                T sum = dw[i];
                for (int c = 1; c < chunks; c++) sum += partials[(long)(c - 1) * weightLength + i];
                dw[i] = sum;
            }
        }
    }

    /// <summary>col2im(Wᵀ·gradOut) per image, plus an optional per-channel bias on the result (the transposed convolution's bias).</summary>
    internal static void BackwardInputCore<T>(in Conv2dGeometry g, ReadOnlySpan<T> gradOutput, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias, Span<T> gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.InChannelsPerGroup > 1 && g.Batch > 0 && ShiftedGemmConv.TryInputGradientGeometry(g, out Conv2dGeometry adjoint))
        {
            // A stride-1 input gradient is itself a stride-1 convolution: no im2col and no col2im.
            T[] flipped = ArrayPool<T>.Shared.Rent(g.WeightLength);
            try
            {
                ShiftedGemmConv.FlipTranspose(g, weight, flipped);
                fixed (T* dy = gradOutput, w = flipped, b = bias, dx = gradInput)
                {
                    if (typeof(T) == typeof(float) && WinogradConv.AppliesToInputGradient(adjoint))
                        WinogradConv.Forward(adjoint, (float*)dy, (float*)w, null, bias.IsEmpty ? null : (float*)b, ConvActivation.None, (float*)dx, null, adjoint.OutChannels * adjoint.OutPlane);
                    else ShiftedGemmConv.Forward(adjoint, dy, w, bias.IsEmpty ? null : b, dx);
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(flipped);
            }
            return;
        }
        fixed (T* dy = gradOutput, w = weight, b = bias, dx = gradInput)
        {
            if (ShiftedGemmConv.AppliesToStridedInputGradient<T>(g))
            {
                // Strided: one stride-1 product per phase of the input, no column matrix and no col2im.
                ShiftedGemmConv.BackwardInputStrided(g, dy, w, dx);
                if (!bias.IsEmpty)
                    for (int plane = 0; plane < g.Batch * g.InChannels; plane++)
                    {
                        var row = gradInput.Slice(plane * g.InPlane, g.InPlane);
                        TensorPrimitives.Add(row, bias[plane % g.InChannels], row);
                    }
            }
            else if (g.InChannelsPerGroup == 1) DepthwiseConv2d.BackwardInput(g, dy, w, bias.IsEmpty ? null : b, dx);
            else if (BatchedPointwiseConv.Applies<T>(g)) BatchedPointwiseConv.BackwardInput(g, dy, w, bias.IsEmpty ? null : b, dx);
            else
            {
                int images = ColumnImages<T>(g);
                ParallelRange.For(g.Batch, images, new InputAction<T>(g, dy, w, bias.IsEmpty ? null : b, dx, images));
            }
        }
    }

    /// <summary>sums[c] = Σ_n Σ_p data[n, c, p]; channels in parallel, each summed in a fixed order.</summary>
    internal static void ChannelSums<T>(int batch, int channels, int plane, ReadOnlySpan<T> data, Span<T> sums)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* d = data, s = sums)
            ParallelRange.For(channels, Math.Max(1, 65536 / Math.Max(1, batch * plane)), new ChannelSumAction<T>(batch, channels, plane, d, s));
    }

    internal static void Require(string kernel, in Conv2dGeometry g, int actual, int needed, string name)
    {
        if (actual < needed)
            throw new ArgumentException($"{kernel}: {name} has {actual} elements but {needed} are needed for {g}", name);
    }

    /// <summary>
    /// The fused output pass over whole planes, for convolutions whose kernel has no cropping pass (depthwise), or after
    /// the GEMMs of fewer images than threads; images <paramref name="imageStride"/> apart in y, the residual dense.
    /// </summary>
    readonly struct EpilogueAction<T>(Conv2dGeometry g, T* scale, T* shift, ConvActivation activation, T* y, T* residual, int imageStride) : IRangeAction
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int start, int end)
        {
            for (int plane = start; plane < end; plane++)
            {
                int n = plane / g.OutChannels, co = plane % g.OutChannels;
                T* row = y + (long)n * imageStride + (long)co * g.OutPlane;
                ConvEpilogue.Apply(row, row, g.OutPlane, scale == null ? T.One : scale[co], shift == null ? T.Zero : shift[co], activation,
                    residual == null ? null : residual + (long)plane * g.OutPlane);
            }
        }
    }

    /// <summary>Image by image: im2col (unless pointwise), the GEMM, the output pass; outputs imageStride apart, the residual dense.</summary>
    readonly struct ForwardAction<T> : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        readonly Conv2dGeometry g;
        readonly T* x, w, s, b, y, r;
        readonly ConvActivation activation;
        readonly int imageStride;
        public ForwardAction(Conv2dGeometry g, T* x, T* w, T* s, T* b, ConvActivation activation, T* y, T* r, int imageStride)
        { this.g = g; this.x = x; this.w = w; this.s = s; this.b = b; this.activation = activation; this.y = y; this.r = r; this.imageStride = imageStride; }

        public void Invoke(int start, int end)
        {
            int rows = g.ColumnRows, plane = g.OutPlane, inG = g.InChannelsPerGroup, outG = g.OutChannelsPerGroup;
            int inGroupLength = inG * g.InPlane;
            Span<T> columns = g.IsPointwise ? default : ConvScratch<T>.Columns(rows * plane);
            for (int n = start; n < end; n++)
            {
                T* yn = y + (long)n * imageStride;
                T* rn = r == null ? null : r + (long)n * g.OutChannels * plane;
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    var xg = new ReadOnlySpan<T>(x + ((long)n * g.InChannels + grp * inG) * g.InPlane, inGroupLength);
                    ReadOnlySpan<T> cols = xg;
                    if (!g.IsPointwise) { Im2Col.Pack(g, xg, columns); cols = columns; }
                    ConvGemm.Multiply(false, false, outG, plane, rows, new ReadOnlySpan<T>(w + (long)grp * outG * rows, outG * rows), rows,
                        cols, plane, false, new Span<T>(yn + (long)grp * outG * plane, outG * plane), plane);
                }
                if (s != null || r != null || activation != ConvActivation.None)
                    for (int co = 0; co < g.OutChannels; co++)
                    {
                        T* row = yn + (long)co * plane;
                        ConvEpilogue.Apply(row, row, plane, s == null ? T.One : s[co], b == null ? T.Zero : b[co], activation,
                            rn == null ? null : rn + (long)co * plane);
                    }
                else if (b != null)
                    for (int co = 0; co < g.OutChannels; co++)
                    {
                        var row = new Span<T>(yn + (long)co * plane, plane);
                        TensorPrimitives.Add(row, b[co], row);
                    }
            }
        }
    }

    /// <summary>Moves each dense image of src to its place, imageStride elements apart, in dst.</summary>
    readonly struct ImageCopyAction<T>(T* src, T* dst, int imageLength, int imageStride) : IRangeAction where T : unmanaged
    {
        public void Invoke(int start, int end)
        {
            for (int n = start; n < end; n++)
                new ReadOnlySpan<T>(src + (long)n * imageLength, imageLength).CopyTo(new Span<T>(dst + (long)n * imageStride, imageLength));
        }
    }

    /// <summary>Columns (output positions) of the narrowest band of the input gradient's column matrix.</summary>
    const int MinimumBandColumns = 512;

    /// <summary>Builds every input gradient's column matrix whole, as before bands (tests and A/B timings set it).</summary>
    internal static bool ForceWholeColumns;

    /// <summary>Output rows per column band when above 0, for tests (bands on small images); 0 sizes bands by the L2.</summary>
    internal static int ForcedColumnBandRows;

    /// <summary>
    /// Output rows per band of the input gradient's column matrix: the whole image where the matrix fits the L2 (or the
    /// input gradient's planes do), otherwise bands of half the L2, so that col2im reads what the GEMM has just written,
    /// and adds into the input rows it touches, in the L2 instead of memory (YOLOv5's first 3×3 stride-2 conv at 256², 24→48 channels at 64² out: 216 rows × 4096 columns, 3.5 MB whole). A
    /// band keeps at least <see cref="MinimumBandColumns"/> columns, or the matrix stays whole: each band's GEMM packs
    /// the weight again, and narrow bands of a deep layer (2304 rows at 640², 2 rows of 20 columns) measured 1.5× slower.
    /// </summary>
    static int ColumnBandRows<T>(in Conv2dGeometry g) where T : unmanaged
    {
        if (ForceWholeColumns) return g.OutHeight;
        if (ForcedColumnBandRows > 0) return Math.Min(ForcedColumnBandRows, g.OutHeight);
        long rowBytes = (long)g.ColumnRows * g.OutWidth * sizeof(T);
        // Where the input gradient's planes fit the L2 col2im adds into them there anyway: the bands measured slower
        // (48 channels at 64², 32 at 80²: 7.75 -> 8.04 and 5.63 -> 7.07 ms).
        if (rowBytes * g.OutHeight <= CacheSizes.L2 || (long)g.InChannelsPerGroup * g.InPlane * sizeof(T) <= CacheSizes.L2) return g.OutHeight;
        int rows = (int)Math.Clamp(Math.Max(CacheSizes.L2 / 2 / rowBytes, (MinimumBandColumns + g.OutWidth - 1) / g.OutWidth), 1, g.OutHeight);
        // Equal bands, none narrower than the estimate: its rows shared out over as many bands as it fits.
        int bands = Math.Max(1, g.OutHeight / rows);
        rows = (g.OutHeight + bands - 1) / bands;
        return rows * rowBytes > CacheSizes.L2 ? g.OutHeight : rows;
    }

    /// <summary>Images per column-matrix GEMM of the input gradient when above 0 (tests and A/B timings; 1: one image a GEMM, as before).</summary>
    internal static int ForcedColumnImages;

    /// <summary>Output positions that one column-matrix GEMM of the input gradient takes over several small images.</summary>
    const int ColumnImagePositions = 256;

    /// <summary>
    /// Images whose input-gradient column matrices one GEMM computes side by side ([C_in·kH·kW, images·H_out·W_out]), their
    /// output gradients copied next to each other first, the input channels in as many blocks (one GEMM and col2im each)
    /// so that the matrix keeps one image's size. With 8×8 outputs (YOLOv5's 16² → 8² stride-2 convs) one image gives the
    /// GEMM 64 columns, and every weight tile, read from the L3 (2.6 MB at 192 → 384 channels), served only those; four
    /// images measured 8-25% less CPU on AVX2 and 17-31% on Vector128 (1 and 2 threads), nothing resolved on AVX-512
    /// (in-process A/B, docs/bench-logs/2026-12-07-session30-s30-bwd-ab.txt), which keeps one image a GEMM. Each column
    /// is the same product as alone (the GEMM's k-slices depend on K only) and col2im adds image by image as before, so
    /// the bits do not change. One group, whole images (no bands), and at least one such group of images per thread.
    /// </summary>
    internal static int ColumnImages<T>(in Conv2dGeometry g) where T : unmanaged
    {
        if (g.IsPointwise || g.Groups != 1 || g.OutPlane == 0 || ColumnBandRows<T>(g) < g.OutHeight) return 1;
        int images = ForcedColumnImages > 0 ? ForcedColumnImages
            : GemmDriver.SelectedIsa == GemmIsa.Vector512 ? 1 : ColumnImagePositions / g.OutPlane;
        return Math.Clamp(images, 1, Math.Max(1, Math.Min(g.InChannels, g.Batch / ParallelRange.MaxThreads)));
    }

    readonly struct InputAction<T> : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        readonly Conv2dGeometry g;
        readonly T* dy, w, b, dx;
        readonly int images;
        public InputAction(Conv2dGeometry g, T* dy, T* w, T* b, T* dx, int images)
        { this.g = g; this.dy = dy; this.w = w; this.b = b; this.dx = dx; this.images = images; }

        public void Invoke(int start, int end)
        {
            if (images > 1)
            {
                InvokeImagesTogether(start, end);
                return;
            }
            int rows = g.ColumnRows, plane = g.OutPlane, inG = g.InChannelsPerGroup, outG = g.OutChannelsPerGroup, outW = g.OutWidth;
            int inGroupLength = inG * g.InPlane;
            int bandRows = g.IsPointwise ? g.OutHeight : ColumnBandRows<T>(g);
            Span<T> columns = g.IsPointwise ? default : ConvScratch<T>.Columns(rows * bandRows * outW);
            for (int n = start; n < end; n++)
            {
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    var dyg = new ReadOnlySpan<T>(dy + ((long)n * g.OutChannels + grp * outG) * plane, outG * plane);
                    var wg = new ReadOnlySpan<T>(w + (long)grp * outG * rows, outG * rows);
                    var dxg = new Span<T>(dx + ((long)n * g.InChannels + grp * inG) * g.InPlane, inGroupLength);
                    if (g.IsPointwise)
                        ConvGemm.Multiply(true, false, rows, plane, outG, wg, rows, dyg, plane, false, dxg, plane);
                    else
                    {
                        dxg.Clear();
                        // Bands of output rows from the last: each band's columns are col2im'd while in the L2, in the
                        // whole matrix's order of additions (see Im2Col.Accumulate).
                        int last = (g.OutHeight - 1) / bandRows * bandRows;
                        for (int oh0 = last; oh0 >= 0; oh0 -= bandRows)
                        {
                            int count = Math.Min(bandRows, g.OutHeight - oh0), positions = count * outW;
                            Span<T> band = columns[..(rows * positions)];
                            ConvGemm.Multiply(true, false, rows, positions, outG, wg, rows, dyg[(oh0 * outW)..], plane, false, band, positions);
                            Im2Col.Accumulate(g, band, dxg, oh0, count);
                        }
                    }
                }
                AddBias(n);
            }
        }

        // Up to `images` images a GEMM (see ColumnImages): their output gradients side by side as B; the input channels in
        // `images` blocks, each block's GEMM then col2im image by image.
        void InvokeImagesTogether(int start, int end)
        {
            int rows = g.ColumnRows, plane = g.OutPlane, cIn = g.InChannels, cOut = g.OutChannels, width = images * plane, taps = g.KernelHeight * g.KernelWidth;
            int blockChannels = (cIn + images - 1) / images;
            Span<T> scratch = ConvScratch<T>.Columns((blockChannels * taps + cOut) * width);
            Span<T> columns = scratch[..(blockChannels * taps * width)], gradients = scratch[(blockChannels * taps * width)..];
            for (int n0 = start; n0 < end; n0 += images)
            {
                int count = Math.Min(images, end - n0), positions = count * plane;
                for (int co = 0; co < cOut; co++)
                    for (int i = 0; i < count; i++)
                        new ReadOnlySpan<T>(dy + ((long)(n0 + i) * cOut + co) * plane, plane).CopyTo(gradients.Slice(co * positions + i * plane, plane));
                for (int i = 0; i < count; i++)
                    new Span<T>(dx + (long)(n0 + i) * cIn * g.InPlane, cIn * g.InPlane).Clear();
                for (int c0 = 0; c0 < cIn; c0 += blockChannels)
                {
                    int channels = Math.Min(blockChannels, cIn - c0), blockRows = channels * taps;
                    var block = new Conv2dGeometry(g.Batch, channels, g.InHeight, g.InWidth, cOut, g.KernelHeight, g.KernelWidth,
                        g.StrideHeight, g.StrideWidth, g.PadHeight, g.PadWidth, g.DilationHeight, g.DilationWidth);
                    ConvGemm.Multiply(true, false, blockRows, positions, cOut, new ReadOnlySpan<T>(w + c0 * taps, cOut * rows - c0 * taps), rows,
                        gradients, positions, false, columns, positions);
                    for (int i = 0; i < count; i++)
                        Im2Col.Accumulate(block, columns[(i * plane)..], new Span<T>(dx + ((long)(n0 + i) * cIn + c0) * g.InPlane, channels * g.InPlane),
                            0, g.OutHeight, positions);
                }
                for (int i = 0; i < count; i++) AddBias(n0 + i);
            }
        }

        void AddBias(int n)
        {
            if (b == null) return;
            for (int ci = 0; ci < g.InChannels; ci++)
            {
                var row = new Span<T>(dx + ((long)n * g.InChannels + ci) * g.InPlane, g.InPlane);
                TensorPrimitives.Add(row, b[ci], row);
            }
        }
    }

    readonly struct WeightAction<T> : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        readonly Conv2dGeometry g;
        readonly T* x, dy, dw, partials;
        readonly int grain;
        public WeightAction(Conv2dGeometry g, T* x, T* dy, T* dw, T* partials, int grain)
        { this.g = g; this.x = x; this.dy = dy; this.dw = dw; this.partials = partials; this.grain = grain; }

        public void Invoke(int start, int end)
        {
            int rows = g.ColumnRows, plane = g.OutPlane, inG = g.InChannelsPerGroup, outG = g.OutChannelsPerGroup;
            int inGroupLength = inG * g.InPlane;
            int chunk = start / grain;
            T* target = chunk == 0 ? dw : partials + (long)(chunk - 1) * g.WeightLength;
            Span<T> columns = g.IsPointwise ? default : ConvScratch<T>.Columns(rows * plane);
            for (int n = start; n < end; n++)
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    var xg = new ReadOnlySpan<T>(x + ((long)n * g.InChannels + grp * inG) * g.InPlane, inGroupLength);
                    ReadOnlySpan<T> cols = xg;
                    if (!g.IsPointwise) { Im2Col.Pack(g, xg, columns); cols = columns; }
                    var dyg = new ReadOnlySpan<T>(dy + ((long)n * g.OutChannels + grp * outG) * plane, outG * plane);
                    // dW[g] (+)= dY[g] · colsᵀ; the chunk's first image overwrites, the rest accumulate in order.
                    ConvGemm.Multiply(false, true, outG, rows, plane, dyg, plane, cols, plane, n != start,
                        new Span<T>(target + (long)grp * outG * rows, outG * rows), rows);
                }
        }
    }

    readonly struct ChannelSumAction<T> : IRangeAction where T : unmanaged, IFloatingPointIeee754<T>
    {
        readonly int batch, channels, plane;
        readonly T* data, sums;
        public ChannelSumAction(int batch, int channels, int plane, T* data, T* sums)
        { this.batch = batch; this.channels = channels; this.plane = plane; this.data = data; this.sums = sums; }

        public void Invoke(int start, int end)
        {
            for (int c = start; c < end; c++)
            {
                T sum = T.Zero;
                for (int n = 0; n < batch; n++)
                    sum += TensorPrimitives.Sum(new ReadOnlySpan<T>(data + ((long)n * channels + c) * plane, plane));
                sums[c] = sum;
            }
        }
    }
}
