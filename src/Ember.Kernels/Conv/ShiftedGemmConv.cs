using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>
/// Stride-1 convolution as a GEMM that never builds the im2col matrix. Each image is copied once into a zero-padded
/// [C, Hp, Wp] buffer and the output is computed on a grid of H_out × Wp positions: every output row is extended by the
/// Wp − W_out columns that lie over the right padding, which are computed and dropped. On that grid, row (c, i, j) of
/// the im2col matrix is the padded buffer itself, shifted by c·Hp·Wp + i·dH·Wp + j·dW, so packing a B panel is one
/// contiguous copy per k instead of an im2col pass plus a packing pass, and the weight is packed once per call.
/// The extra columns cost (Wp − W_out) / W_out more multiply-adds: 7% at 28×28, 4% at 56×56 with padding 1.
/// </summary>
/// <remarks>
/// Each image is computed by one thread in a fixed order (panel by panel, k-slices in order), so results are
/// bit-identical for any thread count. The input gradient of a stride-1 convolution is the same kind of convolution
/// (of the output gradient with the flipped, transposed weight), so it goes through here too.
/// </remarks>
internal static unsafe class ShiftedGemmConv
{
    // Depth of a k-slice, as in the GEMM driver: a KC×NR B panel and an MR×KC A panel stay in L1 together.
    const int KC = 256;

    /// <summary>Stride 1, several input channels per group, and a kernel or padding that the plain GEMM path would im2col.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.StrideHeight == 1 && g.StrideWidth == 1 && g.InChannelsPerGroup > 1 && !g.IsPointwise;

    /// <summary>
    /// The stride-1 convolution whose forward is this convolution's input gradient, when it goes through here: gradOutput
    /// convolved with the flipped, transposed weight and padding d·(k − 1) − p (which must not be negative).
    /// </summary>
    public static bool TryInputGradientGeometry(in Conv2dGeometry g, out Conv2dGeometry adjoint)
    {
        adjoint = default;
        if (g.StrideHeight != 1 || g.StrideWidth != 1 || g.OutChannelsPerGroup == 1) return false;
        int padH = g.DilationHeight * (g.KernelHeight - 1) - g.PadHeight, padW = g.DilationWidth * (g.KernelWidth - 1) - g.PadWidth;
        if (padH < 0 || padW < 0) return false;
        adjoint = new Conv2dGeometry(g.Batch, g.OutChannels, g.OutHeight, g.OutWidth, g.InChannels, g.KernelHeight, g.KernelWidth,
            1, 1, padH, padW, g.DilationHeight, g.DilationWidth, g.Groups);
        return Applies(adjoint) && adjoint.OutHeight == g.InHeight && adjoint.OutWidth == g.InWidth;
    }

    /// <summary>
    /// The weight of the adjoint convolution: adjointWeight[grp·inG + ci, co, i, j] = weight[grp·outG + co, ci, kH−1−i, kW−1−j].
    /// </summary>
    public static void FlipTranspose<T>(in Conv2dGeometry g, ReadOnlySpan<T> weight, Span<T> adjointWeight) where T : unmanaged
    {
        int inG = g.InChannelsPerGroup, outG = g.OutChannelsPerGroup, kh = g.KernelHeight, kw = g.KernelWidth, taps = kh * kw;
        for (int grp = 0; grp < g.Groups; grp++)
            for (int co = 0; co < outG; co++)
                for (int ci = 0; ci < inG; ci++)
                {
                    ReadOnlySpan<T> src = weight.Slice(((grp * outG + co) * inG + ci) * taps, taps);
                    Span<T> dst = adjointWeight.Slice(((grp * inG + ci) * outG + co) * taps, taps);
                    for (int t = 0; t < taps; t++) dst[taps - 1 - t] = src[t];
                }
    }

    /// <summary>out = conv2d(x, w) + bias for a geometry that <see cref="Applies"/>; <paramref name="bias"/> may be null.</summary>
    public static void Forward<T>(in Conv2dGeometry g, T* x, T* w, T* bias, T* y) where T : unmanaged, INumber<T>
    {
        if (g.Batch == 0) return;
        switch (GemmDriver.SelectedIsa)
        {
            case GemmIsa.Vector512 when g.OutChannelsPerGroup % 12 != 0 && g.OutChannelsPerGroup % 8 == 0:
                Forward<T, MicroKernel512Rows8<T>>(g, x, w, bias, y);
                break;
            case GemmIsa.Vector512: Forward<T, MicroKernel512<T>>(g, x, w, bias, y); break;
            case GemmIsa.Vector256: Forward<T, MicroKernel256<T>>(g, x, w, bias, y); break;
            default: Forward<T, MicroKernel128<T>>(g, x, w, bias, y); break;
        }
    }

    static void Forward<T, TKernel>(in Conv2dGeometry g, T* x, T* w, T* bias, T* y)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        var plan = new Plan(g, TKernel.MR, TKernel.NR, KC);
        T[] packed = ArrayPool<T>.Shared.Rent(plan.PackedWeightLength * g.Groups);
        int[] offsets = ArrayPool<int>.Shared.Rent(plan.K);
        try
        {
            plan.FillOffsets(offsets);
            fixed (T* pw = packed)
            fixed (int* off = offsets)
            {
                for (int grp = 0; grp < g.Groups; grp++)
                    PackWeight<T, TKernel>(plan, w + (long)grp * plan.M * plan.K, pw + (long)grp * plan.PackedWeightLength);
                ParallelRange.For(g.Batch * g.Groups, 1, new ImageAction<T, TKernel>(g, plan, x, pw, off, bias, y));
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(packed);
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    // The weight [M, K] as MR-row panels, one k-slice after another, in the layout the micro-kernel streams.
    static void PackWeight<T, TKernel>(in Plan plan, T* w, T* dst)
        where T : unmanaged
        where TKernel : struct, IMicroKernel<T>
    {
        for (int pc = 0; pc < plan.K; pc += plan.SliceDepth)
        {
            int kb = Math.Min(plan.SliceDepth, plan.K - pc);
            GemmPacking.PackA<T, TKernel>(w, plan.K, false, 0, plan.M, pc, kb, dst);
            dst += (nint)plan.PaddedM * kb;
        }
    }

    /// <summary>The sizes shared by every image of one call.</summary>
    readonly struct Plan
    {
        public readonly int M, K, SliceDepth, PaddedM;
        public readonly int InChannels, PaddedHeight, PaddedWidth, PadHeight, PadWidth, InHeight, InWidth;
        public readonly int OutHeight, OutWidth, Panels, GridWidth, PaddedLength;
        readonly int kernelHeight, kernelWidth, dilationHeight, dilationWidth;

        public Plan(in Conv2dGeometry g, int mr, int nr, int kc)
        {
            M = g.OutChannelsPerGroup;
            K = g.ColumnRows;
            int slices = (K + kc - 1) / kc;
            SliceDepth = (K + slices - 1) / slices;
            PaddedM = (M + mr - 1) / mr * mr;
            InChannels = g.InChannelsPerGroup;
            InHeight = g.InHeight; InWidth = g.InWidth; PadHeight = g.PadHeight; PadWidth = g.PadWidth;
            PaddedHeight = g.InHeight + 2 * g.PadHeight;
            PaddedWidth = g.InWidth + 2 * g.PadWidth;
            OutHeight = g.OutHeight; OutWidth = g.OutWidth;
            kernelHeight = g.KernelHeight; kernelWidth = g.KernelWidth; dilationHeight = g.DilationHeight; dilationWidth = g.DilationWidth;
            int positions = OutHeight * PaddedWidth;
            Panels = (positions + nr - 1) / nr;
            GridWidth = Panels * nr;
            // The last panel reads up to (kW − 1)·dW + GridWidth − positions past the padded image: keep that much zeroed.
            PaddedLength = InChannels * PaddedHeight * PaddedWidth + (kernelWidth - 1) * dilationWidth + GridWidth - positions;
        }

        public int PackedWeightLength => PaddedM * K;

        /// <summary>offsets[k] for k = (c, i, j): where row k of the im2col matrix starts in the padded image.</summary>
        public void FillOffsets(Span<int> offsets)
        {
            int k = 0;
            for (int c = 0; c < InChannels; c++)
                for (int i = 0; i < kernelHeight; i++)
                    for (int j = 0; j < kernelWidth; j++)
                        offsets[k++] = (c * PaddedHeight + i * dilationHeight) * PaddedWidth + j * dilationWidth;
        }
    }

    /// <summary>Per-thread buffers, kept across calls like the GEMM's packing memory.</summary>
    static class Scratch<T> where T : unmanaged
    {
        [ThreadStatic] static T[]? padded, grid;

        public static T[] Padded(int length) => Grow(ref padded, length);

        public static T[] Grid(int length) => Grow(ref grid, length);

        static T[] Grow(ref T[]? buffer, int length)
        {
            if (buffer is null || buffer.Length < length)
                buffer = GC.AllocateUninitializedArray<T>(length, pinned: true);
            return buffer;
        }
    }

    readonly struct ImageAction<T, TKernel>(Conv2dGeometry g, Plan plan, T* x, T* packedWeight, int* offsets, T* bias, T* y) : IRangeAction
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        public void Invoke(int start, int end)
        {
            T[] paddedArray = Scratch<T>.Padded(plan.PaddedLength);
            T[] gridArray = Scratch<T>.Grid(plan.M * plan.GridWidth);
            int mr = TKernel.MR, nr = TKernel.NR;
            // Pinned arrays: the pointers stay valid without fixed.
            T* padded = (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(paddedArray));
            T* grid = (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(gridArray));
            T* panel = GemmBuffers<T>.Rent((nint)plan.SliceDepth * nr + mr * nr);
            T* tile = panel + (nint)plan.SliceDepth * nr;
            for (int index = start; index < end; index++)
            {
                int n = index / g.Groups, grp = index % g.Groups;
                Pad(x + ((long)n * g.InChannels + (long)grp * plan.InChannels) * g.InPlane, padded);
                Multiply(padded, packedWeight + (long)grp * plan.PackedWeightLength, grid, panel, tile);
                Crop(grid, bias is null ? null : bias + grp * plan.M, y + ((long)n * g.OutChannels + (long)grp * plan.M) * g.OutPlane);
            }
        }

        void Pad(T* src, T* padded)
        {
            new Span<T>(padded, plan.PaddedLength).Clear();
            int w = plan.InWidth, pw = plan.PaddedWidth;
            for (int c = 0; c < plan.InChannels; c++)
            {
                T* dst = padded + ((long)c * plan.PaddedHeight + plan.PadHeight) * pw + plan.PadWidth;
                for (int h = 0; h < plan.InHeight; h++, src += w, dst += pw)
                    CopyShort(src, dst, w);
            }
        }

        // grid[M, GridWidth] = W · shifted(padded), panel by panel; each panel's k-slices accumulate in order.
        void Multiply(T* padded, T* packedWeight, T* grid, T* panel, T* tile)
        {
            int mr = TKernel.MR, nr = TKernel.NR, m = plan.M, ldc = plan.GridWidth;
            for (int jp = 0; jp < plan.Panels; jp++)
            {
                T* source = padded + jp * nr;
                T* cPanel = grid + jp * nr;
                T* weightSlice = packedWeight;
                for (int pc = 0; pc < plan.K; pc += plan.SliceDepth)
                {
                    int kb = Math.Min(plan.SliceDepth, plan.K - pc);
                    CopyRows(source, offsets + pc, kb, panel);
                    T beta = pc == 0 ? T.Zero : T.One;
                    for (int ir = 0; ir < m; ir += mr)
                    {
                        T* ap = weightSlice + (nint)ir * kb;
                        T* cp = cPanel + (nint)ir * ldc;
                        int rows = Math.Min(mr, m - ir);
                        if (rows == mr)
                        {
                            TKernel.Run(kb, ap, panel, cp, ldc, T.One, beta);
                            continue;
                        }
                        TKernel.Run(kb, ap, panel, tile, nr, T.One, T.Zero);
                        for (int r = 0; r < rows; r++)
                        {
                            T* c = cp + (nint)r * ldc, t = tile + r * nr;
                            if (pc == 0) for (int j = 0; j < nr; j++) c[j] = t[j];
                            else for (int j = 0; j < nr; j++) c[j] = t[j] + c[j];
                        }
                    }
                    weightSlice += (nint)plan.PaddedM * kb;
                }
            }
        }

        // panel[p, 0..NR) = source[offsets[p] ..+ NR): NR is a whole number of vectors for every micro-kernel.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void CopyRows(T* source, int* offsets, int kb, T* panel)
        {
            int nr = TKernel.NR;
            if (Vector512.IsHardwareAccelerated && nr % Vector512<T>.Count == 0)
            {
                for (int p = 0; p < kb; p++, panel += nr)
                {
                    T* src = source + offsets[p];
                    for (int j = 0; j < nr; j += Vector512<T>.Count) Vector512.Store(Vector512.Load(src + j), panel + j);
                }
                return;
            }
            for (int p = 0; p < kb; p++, panel += nr)
                Unsafe.CopyBlockUnaligned(panel, source + offsets[p], (uint)(nr * sizeof(T)));
        }

        // Drops the grid's extra columns (and adds the bias): out[co, oh, ow] = grid[co, oh·Wp + ow] (+ bias[co]).
        void Crop(T* grid, T* bias, T* output)
        {
            int ow = plan.OutWidth, pw = plan.PaddedWidth;
            for (int co = 0; co < plan.M; co++)
            {
                T* src = grid + (long)co * plan.GridWidth;
                T* dst = output + (long)co * plan.OutHeight * ow;
                for (int oh = 0; oh < plan.OutHeight; oh++, src += pw, dst += ow)
                {
                    if (bias is null) CopyShort(src, dst, ow);
                    else AddShort(src, bias[co], dst, ow);
                }
            }
        }

        // Image rows are short (28 floats at 28×28): a Memmove call per row costs as much as the copy.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void CopyShort(T* src, T* dst, int count)
        {
            int j = 0;
            for (; j + Vector512<T>.Count <= count; j += Vector512<T>.Count) Vector512.Store(Vector512.Load(src + j), dst + j);
            for (; j + Vector256<T>.Count <= count; j += Vector256<T>.Count) Vector256.Store(Vector256.Load(src + j), dst + j);
            for (; j < count; j++) dst[j] = src[j];
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void AddShort(T* src, T value, T* dst, int count)
        {
            int j = 0;
            var v = Vector512.Create(value);
            for (; j + Vector512<T>.Count <= count; j += Vector512<T>.Count) Vector512.Store(Vector512.Load(src + j) + v, dst + j);
            for (; j < count; j++) dst[j] = src[j] + value;
        }
    }
}
