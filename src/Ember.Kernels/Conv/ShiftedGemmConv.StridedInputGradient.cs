using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

// The input gradient of a strided convolution, split by the input's phases instead of built as im2col's column matrix
// and scattered back by col2im. Input row y = u·sH + a is read by the taps i with (a + pH − i·dH) ≡ 0 (mod sH), at output
// row u + r_i, r_i = (a + pH − i·dH)/sH; the same for columns. So phase (a, b) of the gradient, the rows u·sH + a and
// columns v·sW + b, is a stride-1 correlation of the output gradient with the weight's taps for that phase:
//   gradInput[ci, u·sH + a, v·sW + b] = Σ_co Σ_{i ∈ I_a, j ∈ J_b} W[co, ci, i, j] · gradOut[co, u + r_i, v + s_j],
// a shifted GEMM (M = C_in, K = C_out·|I_a|·|J_b|) over one zero-padded copy of the output gradient. A 3×3 stride-2
// convolution's four phases take 1, 2, 2 and 4 taps: the multiply-adds of the column matrix's GEMM, without the matrix,
// its packing, or col2im's additions.
internal static unsafe partial class ShiftedGemmConv
{
    /// <summary>Sends strided input gradients through im2col's column matrix and col2im, as before the phase split (tests and A/B timings set it).</summary>
    internal static bool ForceColumnInputGradient;

    // Fewer input channels than this leave most of a 12-row tile empty: the column matrix's GEMM (C_in·kH·kW rows) keeps those.
    const int MinPhaseChannels = 16;

    /// <summary>
    /// A strided convolution with one group, at least <see cref="MinPhaseChannels"/> input channels, strides up to 8, at
    /// least two images (one image would run on one thread: the column path's GEMM shares it between threads), on AVX2 or
    /// AVX-512 (the 128-bit micro-kernel on shifted rows measured 1.1-1.4× slower than the column path's GEMM), and phase
    /// grids that compute at most a tenth more positions than they keep: their rows are one output column wider than the
    /// phase and end in a part-filled panel, so 8×8 phases (16×16 inputs) compute 96 (AVX-512) or 80 (AVX2) positions for
    /// every 64, and measured 13-20% slower than the column path; 16×16 phases compute 72 for every 64 on AVX-512 (68 on
    /// AVX2), and YOLOv5's model.5 (96→192 channels at 32²) ran 5-9% slower there on AVX-512 (quiet, both thread counts;
    /// docs/bench-logs/2026-12-06-session25-final-ab.txt §2), level on AVX2. Depends on the geometry and the vector width,
    /// not the thread count.
    /// </summary>
    public static bool AppliesToStridedInputGradient<T>(in Conv2dGeometry g) where T : unmanaged
    {
        GemmIsa isa = GemmDriver.SelectedIsa;
        if (ForceColumnInputGradient || isa == GemmIsa.Vector128 || g.StrideHeight == 1 && g.StrideWidth == 1 || g.StrideHeight > MaxStride
            || g.StrideWidth > MaxStride || g.Groups != 1 || g.InChannels < MinPhaseChannels || g.Batch < 2 || g.OutHeight <= 0 || g.OutWidth <= 0)
            return false;
        int nr = isa == GemmIsa.Vector512 ? 2 * Vector512<T>.Count : 2 * Vector256<T>.Count;
        var layout = new PhaseLayout(g, nr);
        long computed = 0;
        for (int p = 0; p < layout.Phases; p++)
            computed += ((long)layout.PhaseRows(p) * layout.Pitch + nr - 1) / nr * nr;
        return computed * 10 <= 11L * g.InPlane;
    }

    /// <summary>gradInput = the input gradient of the convolution (without bias) for a geometry that <see cref="AppliesToStridedInputGradient{T}"/>.</summary>
    public static void BackwardInputStrided<T>(in Conv2dGeometry g, T* dy, T* w, T* dx) where T : unmanaged, INumber<T>
    {
        // Up to 48 rows, 8-row tiles: each B panel's rows come from the L2 at scattered offsets for its first tile, and
        // more tiles share them (24 rows: 3 tiles instead of 2; model.1's input gradient 6% less CPU, model.3's 5%). The
        // strided forward (48 rows for model.1) measured no gain from them.
        switch (GemmDriver.SelectedIsa)
        {
            case GemmIsa.Vector512 when g.InChannels % 8 == 0 && g.InChannels <= 48 || GemmDriver.PreferEightRows(g.InChannels):
                BackwardInputStrided<T, MicroKernel512Rows8<T>>(g, dy, w, dx);
                break;
            case GemmIsa.Vector512: BackwardInputStrided<T, MicroKernel512<T>>(g, dy, w, dx); break;
            case GemmIsa.Vector256: BackwardInputStrided<T, MicroKernel256<T>>(g, dy, w, dx); break;
            default: BackwardInputStrided<T, MicroKernel128<T>>(g, dy, w, dx); break;
        }
    }

    static void BackwardInputStrided<T, TKernel>(in Conv2dGeometry g, T* dy, T* w, T* dx)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        var layout = new PhaseLayout(g, TKernel.NR);
        int phases = layout.Phases, cIn = g.InChannels, cOut = g.OutChannels, taps = g.KernelHeight * g.KernelWidth;
        int sliverDepth = GemmBlocking.BSliverDepth(TKernel.NR, sizeof(T), CacheSizes.L1), shortMr = ForceFullTiles ? 0 : TKernel.ShortMR;
        Plan[] plans = ArrayPool<Plan>.Shared.Rent(phases);
        int[] starts = ArrayPool<int>.Shared.Rent(2 * phases + 2);
        int totalK = 0, packedLength = 0, maxK = 0;
        for (int p = 0; p < phases; p++)
        {
            int k = cOut * layout.TapCount(p);
            plans[p] = new Plan(cIn, k, layout.PhaseRows(p), layout.PhaseColumns(p), layout.Pitch, TKernel.MR, TKernel.NR, sliverDepth, sizeof(T), shortMr);
            starts[2 * p] = totalK;
            starts[2 * p + 1] = packedLength;
            totalK += k;
            packedLength += plans[p].PackedWeightLength;
            maxK = Math.Max(maxK, k);
        }
        int[] offsets = ArrayPool<int>.Shared.Rent(Math.Max(1, totalK));
        T[] packed = ArrayPool<T>.Shared.Rent(Math.Max(1, packedLength));
        T[] phaseWeight = ArrayPool<T>.Shared.Rent(Math.Max(1, cIn * maxK));
        try
        {
            fixed (T* pw = packed, a = phaseWeight)
            fixed (int* off = offsets)
            {
                for (int p = 0; p < phases; p++)
                {
                    if (plans[p].K == 0) continue;
                    // A[ci, (co, t)] = W[co, ci, i_t, j_t] over the phase's taps t, and where row (co, t) of B starts.
                    int k = 0;
                    for (int co = 0; co < cOut; co++)
                        for (int i = 0; i < g.KernelHeight; i++)
                            for (int j = 0; j < g.KernelWidth; j++)
                            {
                                if (!layout.Reads(p, i, j)) continue;
                                off[starts[2 * p] + k] = co * layout.ChannelLength + layout.TapOffset(p, i, j);
                                for (int ci = 0; ci < cIn; ci++)
                                    a[(long)ci * plans[p].K + k] = w[((long)co * cIn + ci) * taps + i * g.KernelWidth + j];
                                k++;
                            }
                    PackWeight<T, TKernel>(plans[p], a, pw + starts[2 * p + 1]);
                }
                ParallelRange.For(g.Batch, 1, new StridedInputAction<T, TKernel>(g, layout, plans, starts, off, pw, dy, dx));
            }
        }
        finally
        {
            ArrayPool<Plan>.Shared.Return(plans);
            ArrayPool<int>.Shared.Return(starts);
            ArrayPool<int>.Shared.Return(offsets);
            ArrayPool<T>.Shared.Return(packed);
            ArrayPool<T>.Shared.Return(phaseWeight);
        }
    }

    /// <summary>
    /// Where the phases of the input gradient read the zero-padded output gradient: each channel is Top + H_out + Bottom
    /// rows of Pitch = Left + W_out + Right columns, the output gradient at (Top, Left), so that every tap of every phase
    /// reads inside its channel on the used grid positions (u, v), v &lt; the phase's columns.
    /// </summary>
    readonly struct PhaseLayout
    {
        public readonly int Phases, Pitch, ChannelLength, PaddedLength, Top, Left;
        readonly int strideHeight, strideWidth, padHeight, padWidth, dilationHeight, dilationWidth, inHeight, inWidth, outHeight, outWidth;
        readonly int kernelHeight, kernelWidth;

        public PhaseLayout(in Conv2dGeometry g, int nr)
        {
            strideHeight = g.StrideHeight; strideWidth = g.StrideWidth; padHeight = g.PadHeight; padWidth = g.PadWidth;
            dilationHeight = g.DilationHeight; dilationWidth = g.DilationWidth; inHeight = g.InHeight; inWidth = g.InWidth;
            outHeight = g.OutHeight; outWidth = g.OutWidth; kernelHeight = g.KernelHeight; kernelWidth = g.KernelWidth;
            Phases = strideHeight * strideWidth;
            var (top, bottom) = Reach(inHeight, outHeight, kernelHeight, strideHeight, padHeight, dilationHeight);
            var (left, right) = Reach(inWidth, outWidth, kernelWidth, strideWidth, padWidth, dilationWidth);
            Top = top;
            Left = left;
            // At least every phase's columns, so that a grid row holds them (a phase without taps may be wider).
            Pitch = Math.Max(left + outWidth + right, Count(inWidth, 0, strideWidth));
            ChannelLength = (top + outHeight + bottom) * Pitch;
            // The last panel of a phase reads a whole panel width past its last position from the largest offset.
            int longest = 0;
            for (int a = 0; a < strideHeight; a++)
                longest = Math.Max(longest, Count(inHeight, a, strideHeight) * Pitch);
            PaddedLength = g.OutChannels * ChannelLength + (longest + nr - 1) / nr * nr + nr;
        }

        // Along one axis, the zeros needed before and after the output gradient: the shifts' range over the phases that
        // have indices and taps, from the first index of each phase to its last.
        static (int Before, int After) Reach(int inSize, int outSize, int kernel, int stride, int pad, int dilation)
        {
            int before = 0, after = 0;
            for (int a = 0; a < stride; a++)
                for (int i = 0; i < kernel; i++)
                    if (Hits(a, i, pad, dilation, stride) && Count(inSize, a, stride) > 0)
                    {
                        int shift = Shift(a, i, pad, dilation, stride);
                        before = Math.Max(before, -shift);
                        after = Math.Max(after, Count(inSize, a, stride) - 1 + shift - (outSize - 1));
                    }
            return (before, after);
        }

        // Input index a + u·s is read by tap i when a + p − i·d is a multiple of s; it reads output index u + Shift.
        static bool Hits(int a, int i, int pad, int dilation, int stride) => ((a + pad - i * dilation) % stride + stride) % stride == 0;

        // Exact where Hits.
        static int Shift(int a, int i, int pad, int dilation, int stride) => (a + pad - i * dilation) / stride;

        // Input indices ≡ a (mod s) below size.
        static int Count(int size, int a, int stride) => a >= size ? 0 : (size - a + stride - 1) / stride;

        public int PhaseRows(int p) => Count(inHeight, p / strideWidth, strideHeight);

        public int PhaseColumns(int p) => Count(inWidth, p % strideWidth, strideWidth);

        /// <summary>Whether tap (i, j) reads phase p's rows and columns.</summary>
        public bool Reads(int p, int i, int j) =>
            Hits(p / strideWidth, i, padHeight, dilationHeight, strideHeight) && Hits(p % strideWidth, j, padWidth, dilationWidth, strideWidth);

        public int TapCount(int p)
        {
            if (PhaseRows(p) == 0 || PhaseColumns(p) == 0) return 0;
            int count = 0;
            for (int i = 0; i < kernelHeight; i++)
                for (int j = 0; j < kernelWidth; j++)
                    if (Reads(p, i, j)) count++;
            return count;
        }

        /// <summary>Where tap (i, j) of phase p reads channel 0 for grid position 0.</summary>
        public int TapOffset(int p, int i, int j) =>
            (Top + Shift(p / strideWidth, i, padHeight, dilationHeight, strideHeight)) * Pitch + Left + Shift(p % strideWidth, j, padWidth, dilationWidth, strideWidth);

        /// <summary>Channel c of one image's output gradient into its padded place; the borders and the tail zero.</summary>
        public void Pad<T>(T* src, T* dst, int channels) where T : unmanaged
        {
            int right = Pitch - Left - outWidth;
            for (int c = 0; c < channels; c++)
            {
                T* channel = dst + (long)c * ChannelLength;
                new Span<T>(channel, Top * Pitch).Clear();
                T* row = channel + (long)Top * Pitch;
                for (int oh = 0; oh < outHeight; oh++, row += Pitch, src += outWidth)
                {
                    new Span<T>(row, Left).Clear();
                    ConvVectors.CopyShort(src, row + Left, outWidth);
                    new Span<T>(row + Left + outWidth, right).Clear();
                }
                new Span<T>(row, (int)(channel + ChannelLength - row)).Clear();
            }
            long body = (long)channels * ChannelLength;
            new Span<T>(dst + body, (int)(PaddedLength - body)).Clear();
        }
    }

    /// <summary>
    /// Image by image: the output gradient padded once, then chunks of grid positions, each computed for every phase and
    /// written into the input gradient's rows while the chunk's grids are in the L2. Each element is one phase's GEMM
    /// column, summed over its k-slices in order: the same bits on any thread count.
    /// </summary>
    readonly struct StridedInputAction<T, TKernel>(Conv2dGeometry g, PhaseLayout layout, Plan[] plans, int[] starts, int* offsets, T* packed, T* dy, T* dx)
        : IRangeAction
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        public void Invoke(int start, int end)
        {
            int nr = TKernel.NR, phases = layout.Phases, m = g.InChannels;
            // The chunk's positions: the phases' grids together take a quarter of the L2, as one grid does in the forward.
            int chunk = (ForcedChunkPanels > 0 ? ForcedChunkPanels : (int)Math.Max(1, CacheSizes.L2 / 4 / ((long)phases * m * nr * sizeof(T)))) * nr;
            T* own = (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Scratch<T>.Padded(layout.PaddedLength)));
            T* grids = (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Scratch<T>.Grid(phases * m * chunk)));
            T* tile = GemmBuffers<T>.Rent(TKernel.MR * nr);
            int longest = 0;
            for (int p = 0; p < phases; p++) longest = Math.Max(longest, plans[p].Positions);
            for (int n = start; n < end; n++)
            {
                layout.Pad(dy + (long)n * g.OutChannels * g.OutPlane, own, g.OutChannels);
                T* image = dx + (long)n * m * g.InPlane;
                for (int q0 = 0; q0 < longest; q0 += chunk)
                {
                    for (int p = 0; p < phases; p++)
                    {
                        int positions = Math.Min(chunk, plans[p].Positions - q0);
                        if (plans[p].K == 0 || positions <= 0) continue;
                        Multiply<T, TKernel>(plans[p], own + q0, nr, offsets + starts[2 * p], positions, packed + starts[2 * p + 1],
                            0, (positions + nr - 1) / nr, grids + (long)p * m * chunk, tile);
                    }
                    Scatter(grids, chunk, q0, image);
                }
            }
        }

        // Grid positions [q0, q0 + chunk) of every phase into their places: gradInput[ci, u·sH + a, v·sW + b] = grid_ab[ci, u·Pitch + v]
        // for v below the phase's columns; a phase without taps gives zeros. Phase ab's grid rows are (its panels)·NR apart.
        void Scatter(T* grids, int chunk, int q0, T* image)
        {
            int sh = g.StrideHeight, sw = g.StrideWidth, pitch = layout.Pitch, width = g.InWidth, m = g.InChannels;
            for (int a = 0; a < sh; a++)
            {
                int rows = plans[a * sw].OutHeight, q1 = Math.Min(q0 + chunk, rows * pitch);
                for (int ci = 0; ci < m; ci++)
                    for (int u = q0 / pitch; u * pitch < q1; u++)
                    {
                        // The row's positions inside the chunk, as grid columns v.
                        int v0 = Math.Max(q0 - u * pitch, 0), v1 = Math.Min(q1 - u * pitch, pitch);
                        T* dst = image + ((long)ci * g.InHeight + u * sh + a) * width;
                        if (sw == 2 && typeof(T) == typeof(float) && plans[a * 2].K > 0 && plans[a * 2 + 1].K > 0)
                        {
                            int evens = Math.Min(v1, plans[a * 2].OutWidth) - v0, odds = Math.Min(v1, plans[a * 2 + 1].OutWidth) - v0;
                            if (evens <= 0) continue;
                            T* even = PhaseRow(grids, a * 2, chunk, ci, q0) + u * pitch + v0;
                            T* odd = PhaseRow(grids, a * 2 + 1, chunk, ci, q0) + u * pitch + v0;
                            Interleave((float*)even, (float*)odd, (float*)(dst + 2 * v0), evens, Math.Max(0, odds));
                            continue;
                        }
                        for (int b = 0; b < sw; b++)
                        {
                            int p = a * sw + b, count = Math.Min(v1, plans[p].OutWidth) - v0;
                            if (count <= 0) continue;
                            T* row = dst + (long)v0 * sw + b;
                            if (plans[p].K == 0) { for (int v = 0; v < count; v++) row[v * sw] = T.Zero; continue; }
                            T* src = PhaseRow(grids, p, chunk, ci, q0) + u * pitch + v0;
                            if (sw == 1) ConvVectors.CopyShort(src, row, count);
                            else for (int v = 0; v < count; v++) row[v * sw] = src[v];
                        }
                    }
            }
        }

        // Row ci of phase p's grid, indexed by absolute position q (valid for q in the chunk).
        T* PhaseRow(T* grids, int p, int chunk, int ci, int q0)
        {
            int positions = Math.Min(chunk, plans[p].Positions - q0);
            int ldc = (positions + TKernel.NR - 1) / TKernel.NR * TKernel.NR;
            return grids + (long)p * g.InChannels * chunk + (long)ci * ldc - q0;
        }
    }

    /// <summary>
    /// dst[2v] = even[v] for v &lt; evens, dst[2v + 1] = odd[v] for v &lt; odds (odds is evens or evens − 1): two stride-2
    /// phases of one row back into the row, with the widest shuffles the machine has.
    /// </summary>
    internal static void Interleave(float* even, float* odd, float* dst, int evens, int odds)
    {
        int j = 0;
        if (Avx512F.IsSupported)
        {
            var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
            var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
            for (; j + 16 <= odds; j += 16)
            {
                Vector512<float> e = Vector512.Load(even + j), o = Vector512.Load(odd + j);
                Avx512F.PermuteVar16x32x2(e, low, o).Store(dst + 2 * j);
                Avx512F.PermuteVar16x32x2(e, high, o).Store(dst + 2 * j + 16);
            }
        }
        if (Avx.IsSupported)
            for (; j + 8 <= odds; j += 8)
            {
                Vector256<float> e = Vector256.Load(even + j), o = Vector256.Load(odd + j);
                // [e0 o0 e1 o1 | e4 o4 e5 o5] and [e2 o2 e3 o3 | e6 o6 e7 o7], then their 128-bit halves in order.
                Vector256<float> low = Avx.UnpackLow(e, o), high = Avx.UnpackHigh(e, o);
                Avx.Permute2x128(low, high, 0x20).Store(dst + 2 * j);
                Avx.Permute2x128(low, high, 0x31).Store(dst + 2 * j + 8);
            }
        if (Sse.IsSupported)
            for (; j + 4 <= odds; j += 4)
            {
                Vector128<float> e = Vector128.Load(even + j), o = Vector128.Load(odd + j);
                Sse.UnpackLow(e, o).Store(dst + 2 * j);
                Sse.UnpackHigh(e, o).Store(dst + 2 * j + 4);
            }
        for (; j < odds; j++) { dst[2 * j] = even[j]; dst[2 * j + 1] = odd[j]; }
        for (; j < evens; j++) dst[2 * j] = even[j];
    }
}
