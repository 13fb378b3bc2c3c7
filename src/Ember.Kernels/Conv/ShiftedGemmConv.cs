using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;
using static Ember.Kernels.Operators.VectorMath;

namespace Ember.Kernels.Conv;

/// <summary>
/// Convolution as a GEMM that never builds the im2col matrix. Each image is copied once into a zero-padded
/// [C, Hp, Wp] buffer and the output is computed on a grid of H_out × Wp positions: every output row is extended by the
/// Wp − W_out columns that lie over the padding, which are computed and dropped. On that grid, row (c, i, j) of
/// the im2col matrix is the padded buffer itself, shifted by c·Hp·Wp + i·dH·Wp + j·dW, so packing a B panel is one
/// contiguous copy per k instead of an im2col pass plus a packing pass, and the weight is packed once per call.
/// At stride 1 the rows share their padding columns (Wp = W + pW, see <see cref="Plan.SharesRowPadding"/>), so the
/// extra columns cost (Wp − W_out) / W_out more multiply-adds: 3.6% at 28×28, 1.8% at 56×56 with padding 1.
/// A strided convolution is the same after splitting the padded image into its sH·sW phases (rows ≡ a mod sH, columns
/// ≡ b mod sW, each ⌈Hp/sH⌉ × ⌈Wp/sW⌉): tap (i, j) reads phase (i·dH mod sH, j·dW mod sW) shifted by
/// (⌊i·dH/sH⌋, ⌊j·dW/sW⌋), and the grid is H_out × ⌈Wp/sW⌉. Only the phases some tap reads are built.
/// </summary>
/// <remarks>
/// Each grid column is computed by one thread in a fixed order (k-slices in order), so results are bit-identical for
/// any thread count and any cut of the panels between threads. The input gradient of a stride-1 convolution is the
/// same kind of convolution (of the output gradient with the flipped, transposed weight), so it goes through here too.
/// </remarks>
internal static unsafe partial class ShiftedGemmConv
{
    // Depth of the weight-gradient plan's slices (unused there: it has no k-slices); the forward takes the GEMM's KC.
    const int KC = 256;

    /// <summary>
    /// Several input channels per group and a kernel, padding or stride that the plain GEMM path would im2col. Strides
    /// above 1 (up to 8) go through the phase split when its grid has at most twice the output's positions.
    /// </summary>
    public static bool Applies(in Conv2dGeometry g)
    {
        if (g.InChannelsPerGroup <= 1 || g.IsPointwise || g.OutHeight <= 0 || g.OutWidth <= 0) return false;
        if (g.StrideHeight == 1 && g.StrideWidth == 1) return true;
        if (g.StrideHeight > MaxStride || g.StrideWidth > MaxStride) return false;
        long phaseWidth = (g.InWidth + 2L * g.PadWidth + g.StrideWidth - 1) / g.StrideWidth;
        return g.OutHeight * phaseWidth <= 2L * g.OutPlane;
    }

    /// <summary>Panels per chunk when above 0, for tests (several chunks on small images); 0 sizes chunks by the L2.</summary>
    internal static int ForcedChunkPanels;

    // Strides up to 8: the set of phases a kernel uses fits one 64-bit mask.
    const int MaxStride = 8;

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
        => Forward(g, x, w, null, bias, ConvActivation.None, y);

    /// <summary>
    /// out = act(conv2d(x, w)·scale + shift) per output channel, applied as each chunk of the grid is cropped to the output;
    /// <paramref name="scale"/> and <paramref name="shift"/> may be null (1 and 0).
    /// </summary>
    public static void Forward<T>(in Conv2dGeometry g, T* x, T* w, T* scale, T* shift, ConvActivation activation, T* y, T* residual = null)
        where T : unmanaged, INumber<T>
    {
        if (g.Batch == 0) return;
        var epilogue = new Epilogue<T>(scale, shift, activation, residual);
        switch (GemmDriver.SelectedIsa)
        {
            case GemmIsa.Vector512 when GemmDriver.PreferEightRows(g.OutChannelsPerGroup):
                Forward<T, MicroKernel512Rows8<T>>(g, x, w, epilogue, y);
                break;
            case GemmIsa.Vector512: Forward<T, MicroKernel512<T>>(g, x, w, epilogue, y); break;
            case GemmIsa.Vector256: Forward<T, MicroKernel256<T>>(g, x, w, epilogue, y); break;
            default: Forward<T, MicroKernel128<T>>(g, x, w, epilogue, y); break;
        }
    }

    /// <summary>
    /// Per-channel scale and shift (either may be null), a residual of the output's shape added before the activation
    /// (or null), and the activation of the output pass.
    /// </summary>
    readonly struct Epilogue<T>(T* scale, T* shift, ConvActivation activation, T* residual) where T : unmanaged
    {
        public readonly T* Scale = scale, Shift = shift, Residual = residual;
        public readonly ConvActivation Activation = activation;

        /// <summary>Only a bias (or nothing): the plain copy path.</summary>
        public bool IsBiasOnly => Scale == null && Residual == null && Activation == ConvActivation.None;
    }

    static void Forward<T, TKernel>(in Conv2dGeometry g, T* x, T* w, Epilogue<T> epilogue, T* y)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        // The KC×NR image rows of a panel stay in L1 while the MR×KC weight slivers stream past them.
        int sliverDepth = GemmBlocking.BSliverDepth(TKernel.NR, sizeof(T), CacheSizes.L1), shortMr = ForceFullTiles ? 0 : TKernel.ShortMR;
        var (plan, gathered) = ForwardPlan(g, TKernel.MR, TKernel.NR, sliverDepth, sizeof(T), shortMr);
        T[] packed = ArrayPool<T>.Shared.Rent(plan.PackedWeightLength * g.Groups);
        int[] offsets = ArrayPool<int>.Shared.Rent(plan.K);
        int images = g.Batch * g.Groups;
        // Fewer images than a few per thread (batch 1 at inference): each image's panels are cut into parts that threads
        // share, over images padded once up front. Each grid column is computed the same way whichever part holds it,
        // so the results do not depend on the cut.
        int threads = ParallelRange.MaxThreads;
        int parts = gathered || images >= 4 * threads || threads == 1 ? 1 : Math.Min(plan.Panels, (4 * threads + images - 1) / images);
        // One image per task: its phase images are built band by band where the whole would not stay in the L2.
        int bandRows = parts == 1 && !gathered ? plan.BandRows(sizeof(T), (long)plan.PackedWeightLength * sizeof(T)) : 0;
        if (bandRows > 0) plan = new Plan(g, TKernel.MR, TKernel.NR, sliverDepth, sizeof(T), shortMr, bandRows, plan.TapColumns);
        T[]? shared = parts > 1 || gathered ? ArrayPool<T>.Shared.Rent(images * plan.PaddedLength) : null;
        int[]? rows = gathered ? ArrayPool<int>.Shared.Rent(plan.K) : null;
        try
        {
            plan.FillOffsets(offsets);
            fixed (T* pw = packed, sp = shared)
            fixed (int* off = offsets, kRows = rows)
            {
                for (int grp = 0; grp < g.Groups; grp++)
                    PackWeight<T, TKernel>(plan, w + (long)grp * plan.M * plan.K, pw + (long)grp * plan.PackedWeightLength);
                if (sp != null)
                    ParallelRange.For(images * plan.InChannels, Math.Max(1, 16384 / Math.Max(1, plan.ChannelLength)),
                        new PadAction<T>(g, plan, x, sp));
                if (gathered) ForwardGathered<T, TKernel>(g, plan, sp, pw, off, kRows, epilogue, y);
                else ParallelRange.For(images * parts, 1, new ImageAction<T, TKernel>(g, plan, x, sp, parts, pw, off, epilogue, y));
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(packed);
            ArrayPool<int>.Shared.Return(offsets);
            if (shared is not null) ArrayPool<T>.Shared.Return(shared);
            if (rows is not null) ArrayPool<int>.Shared.Return(rows);
        }
    }

    // The weight [M, K] in the layout the micro-kernel streams, one k-slice after another: rows [0, FullRows) as MR-row
    // panels, then the rest as ShortRows-row panels (ShortRows values per k) or, without short tiles, one zero-padded MR panel.
    static void PackWeight<T, TKernel>(in Plan plan, T* w, T* dst)
        where T : unmanaged
        where TKernel : struct, IMicroKernel<T>
    {
        for (int pc = 0; pc < plan.K; pc += plan.SliceDepth)
        {
            int kb = Math.Min(plan.SliceDepth, plan.K - pc);
            if (plan.ShortRows == 0) GemmPacking.PackA<T, TKernel>(w, plan.K, false, 0, plan.M, pc, kb, dst);
            else
            {
                GemmPacking.PackA<T, TKernel>(w, plan.K, false, 0, plan.FullRows, pc, kb, dst);
                int rows = plan.ShortRows;
                for (int ir = plan.FullRows; ir < plan.M; ir += rows)
                {
                    T* panel = dst + (nint)ir * kb;
                    for (int r = 0; r < rows; r++)
                    {
                        T* src = w + (nint)(ir + r) * plan.K + pc;
                        for (int p = 0; p < kb; p++) panel[p * rows + r] = src[p];
                    }
                }
            }
            dst += (nint)plan.PaddedM * kb;
        }
    }

    /// <summary>Keeps every strided forward on column phases, as before tap columns (tests and A/B timings set it).</summary>
    internal static bool ForcePhaseColumns;

    /// <summary>
    /// Whether the forward may build one image per row phase and kernel column (<see cref="Plan.TapColumns"/>) instead of
    /// one per phase: strided along rows, at most sW + 1 kernel columns, and a phase grid at least 1/8 wider than the
    /// output. The grid then has no extra columns: it is the output's layout, so whole panels write the output in place
    /// (<see cref="WritesOutput{T}"/>). A 3×3 stride-2 kernel reads 6 images W_out wide instead of 4 of W_out + 1, so
    /// the copying grows by half while the multiply-adds shrink by 1/W_out: on all of YOLOv5's 3×3 stride-2 convs at 256²
    /// (AVX-512) the 32² → 16² ones (1/16 fewer) measured about even, the 64² one (1/32) 3-9% slower (its images
    /// outgrow the L2 into bands) and the 128² one (1/64) 7-16% either way
    /// (docs/bench-logs/2026-12-06-session29-s29-s2conv-ab.txt); for the 16² → 8² ones see <see cref="ForwardPlan"/>.
    /// Each output element is the same chain of multiply-adds over the same values, so the bits do not change.
    /// </summary>
    internal static bool TapColumnsApply(in Conv2dGeometry g)
    {
        if (ForcePhaseColumns || g.StrideWidth == 1 || g.KernelWidth > g.StrideWidth + 1) return false;
        long phaseWidth = (g.InWidth + 2L * g.PadWidth + g.StrideWidth - 1) / g.StrideWidth;
        return phaseWidth * 8 >= g.OutWidth * 9L;
    }

    /// <summary>
    /// The forward's plan, and whether it runs on panels gathered over the batch (<see cref="GatheredPanelsPay"/>, decided
    /// on the phases): tap columns per image where they apply, unless the phases gather and an image fills more than two
    /// panels or a partial one (ResNet-18's 7×7 out: 49 of 64 columns, which the gathered panels were made to avoid).
    /// YOLOv5's 16² → 8² convs gather on the phases; on tap columns an image is 2 AVX-512 panels (32 columns), which
    /// measured 1-5% (one thread) and 6-12% (two) less CPU than gathering, and 4 AVX2 panels, which measured 6-15% more
    /// on one thread. Reading tap columns in place over the batch, slice by slice as the gathered panels run, measured
    /// 4-7% slower than both on either width.
    /// </summary>
    static (Plan Plan, bool Gathered) ForwardPlan(in Conv2dGeometry g, int mr, int nr, int kc, int elementSize, int shortMr)
    {
        var phases = new Plan(g, mr, nr, kc, elementSize, shortMr);
        bool gathered = GatheredPanelsPay(g, phases, nr, elementSize);
        if (!TapColumnsApply(g)) return (phases, gathered);
        var columns = new Plan(g, mr, nr, kc, elementSize, shortMr, tapColumns: true);
        return gathered && (columns.Panels > 2 || columns.Positions % nr != 0) ? (phases, true) : (columns, false);
    }

    /// <summary>
    /// Whether the panels of a grid of <paramref name="positions"/> write the output in place: the grid is the output's
    /// layout (tap columns), no epilogue but the store, and whole panels only (a partial one would spill into the next channel).
    /// </summary>
    static bool WritesOutput<T>(in Plan plan, Epilogue<T> epilogue, int positions, int nr) where T : unmanaged =>
        plan.TapColumns && epilogue.Scale == null && epilogue.Shift == null && epilogue.Residual == null
        && epilogue.Activation == ConvActivation.None && positions % nr == 0;

    /// <summary>Sends the rows past the last whole MR tile through a zero-padded MR tile, as before short tiles (tests compare the two).</summary>
    internal static bool ForceFullTiles;

    /// <summary>Builds every strided image's phase images whole, as before bands (tests and A/B timings set it).</summary>
    internal static bool ForceWholeImage;

    /// <summary>Output rows per band when above 0, at any stride, for tests (bands on small images); 0 sizes bands by the L2.</summary>
    internal static int ForcedBandRows;

    /// <summary>Gives every row of the padded image its own left and right padding, as before rows shared them (tests compare the two).</summary>
    internal static bool ForceSeparateRowPadding;

    /// <summary>
    /// Rows [0, full) in MR-row tiles and the rest in tiles of <paramref name="shortMr"/> rows (short = shortMr), or short = 0
    /// where they do not divide the rest: then the rows past the last whole MR tile go in one zero-padded MR tile. Whole MR
    /// tiles are given back until the short ones divide the rest: with 6 and 4 rows, 64 rows are 10·6 + 4 and 32 rows
    /// 4·6 + 2·4 (not 66 and 36 with padding); with 12 and 8, 128 rows are 10·12 + 8.
    /// </summary>
    internal static (int Full, int Short) SplitRows(int m, int mr, int shortMr)
    {
        int whole = m / mr * mr;
        if (shortMr > 0 && whole < m)
            for (int full = whole; full >= 0 && full >= whole - shortMr * mr; full -= mr)
                if ((m - full) % shortMr == 0) return (full, shortMr);
        return (whole, 0);
    }

    /// <summary>Stride 1 and not depthwise, on hardware with vectors of any width: <see cref="BackwardWeight{T}"/> applies.</summary>
    public static bool AppliesToWeightGradient(in Conv2dGeometry g) =>
        (GemmDriver.SelectedIsa != GemmIsa.Vector128 || Vector128.IsHardwareAccelerated) && g.StrideHeight == 1 && g.StrideWidth == 1 && !g.IsPointwise && (g.InChannelsPerGroup > 1 || g.Groups == 1);

    /// <summary>
    /// gradWeight[co, k] = Σ_n Σ_q gradOut_grid[n, co, q] · padded[n][offset(k) + q], over the grid positions q (the output
    /// gradient is zero on the grid's extra columns). When the output channels fill whole register tiles (see
    /// <see cref="WeightTilesApply{T}"/>) it runs as outer-product tiles with the channels in the vector lanes; otherwise
    /// both factors are contiguous in q, so each block of (co, k) is a set of vector dot products: no im2col and no
    /// transposing pack. The blocks fit each path's register file: 8×3 and 4×4 with 32 ZMM registers (AVX-512), 4×3 with
    /// 16 YMM or XMM registers (AVX2, Vector128). Chunks of the batch as in
    /// <see cref="Conv2dKernel.BackwardWeight{T}"/>: fixed by N, partials added in chunk order.
    /// </summary>
    public static void BackwardWeight<T>(in Conv2dGeometry g, T* x, T* dy, T* dw, int chunkCount) where T : unmanaged, INumber<T>
    {
        GemmIsa isa = GemmDriver.SelectedIsa;
        int lanes = isa == GemmIsa.Vector512 ? Vector512<T>.Count : isa == GemmIsa.Vector256 ? Vector256<T>.Count : Vector128<T>.Count;
        // The grid's width is a whole number of vectors of the chosen width, zero beyond the output.
        var plan = new Plan(g, 1, lanes, KC, sizeof(T));
        int weightLength = g.WeightLength;
        int grain = (g.Batch + chunkCount - 1) / chunkCount;
        int chunks = (g.Batch + grain - 1) / grain;
        bool tiles = WeightTilesApply<T>(g, isa);
        // The tiles run over the image's rows in order: they take its phase images band by band as the forward does.
        var (tileWidth, tileRows) = TileShape<T>(isa, plan.M);
        long sumsBytes = (long)(plan.M + tileWidth - 1) / tileWidth * tileWidth * plan.K * sizeof(T);
        int bandRows = tiles ? plan.BandRows(sizeof(T), sumsBytes) : 0;
        if (bandRows > 0) plan = new Plan(g, 1, lanes, KC, sizeof(T), 0, bandRows);
        // The tiles take their taps a block at a time: the last block repeats the last tap's offset and drops its sums.
        int paddedK = tiles ? (plan.K + tileRows - 1) / tileRows * tileRows : plan.K;
        bool items = tiles && WeightItemsPay<T>(g, plan, tileWidth);
        T[]? partials = chunks > 1 && !items ? ArrayPool<T>.Shared.Rent((chunks - 1) * weightLength) : null;
        int[] offsets = ArrayPool<int>.Shared.Rent(paddedK);
        try
        {
            plan.FillOffsets(offsets);
            for (int kk = plan.K; kk < paddedK; kk++) offsets[kk] = offsets[plan.K - 1];
            fixed (T* p = partials)
            fixed (int* off = offsets)
            {
                if (items)
                {
                    BackwardWeightItems(g, plan, x, dy, dw, off, grain, isa);
                    return;
                }
                if (tiles) ParallelRange.For(g.Batch, grain, new WeightTileAction<T>(g, plan, x, dy, dw, p, off, grain, isa));
                else ParallelRange.For(g.Batch, grain, new WeightAction<T>(g, plan, x, dy, dw, p, off, grain, isa));
                Conv2dKernel.AddChunkPartials(dw, p, chunks, weightLength);
            }
        }
        finally
        {
            if (partials is not null) ArrayPool<T>.Shared.Return(partials);
            ArrayPool<int>.Shared.Return(offsets);
        }
    }

    readonly struct WeightAction<T>(Conv2dGeometry g, Plan plan, T* x, T* dy, T* dw, T* partials, int* offsets, int grain, GemmIsa isa) : IRangeAction
        where T : unmanaged, INumber<T>
    {
        public void Invoke(int start, int end)
        {
            int chunk = start / grain;
            T* target = chunk == 0 ? dw : partials + (long)(chunk - 1) * g.WeightLength;
            new Span<T>(target, g.WeightLength).Clear();
            T* padded = (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Scratch<T>.Padded(plan.PaddedLength)));
            T* grid = (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Scratch<T>.Grid(plan.M * plan.GridWidth)));
            for (int n = start; n < end; n++)
                for (int grp = 0; grp < g.Groups; grp++)
                {
                    Pad(plan, x + ((long)n * g.InChannels + (long)grp * plan.InChannels) * g.InPlane, padded);
                    Spread(dy + ((long)n * g.OutChannels + (long)grp * plan.M) * g.OutPlane, grid);
                    T* dst = target + (long)grp * plan.M * plan.K;
                    WeightDots<T>.Accumulate(isa, grid, plan.GridWidth, plan.M, padded, offsets, plan.K, plan.GridWidth, dst);
                }
        }

        // grid[co, oh·Wp + ow] = gradOut[co, oh, ow], zero on the extra columns and the tail.
        void Spread(T* src, T* grid)
        {
            new Span<T>(grid, plan.M * plan.GridWidth).Clear();
            int ow = plan.OutWidth, pw = plan.PaddedWidth;
            for (int co = 0; co < plan.M; co++)
            {
                T* dst = grid + (long)co * plan.GridWidth;
                for (int oh = 0; oh < plan.OutHeight; oh++, src += ow, dst += pw)
                    ConvVectors.CopyShort(src, dst, ow);
            }
        }
    }

    // The image's group channels into the zeroed padded buffer (its phase images when strided); for a band's plan, the
    // phase rows [firstRow, firstRow + PaddedHeight) that the band's output rows from firstRow read.
    static void Pad<T>(in Plan plan, T* src, T* padded, int firstRow = 0) where T : unmanaged
    {
        PadChannels(plan, src, padded, 0, plan.InChannels, firstRow);
        int body = plan.InChannels * plan.ChannelLength;
        new Span<T>(padded + body, plan.PaddedLength - body).Clear();
    }

    /// <summary>
    /// Channels [c0, c1) of one image into their phase images: phase (a, b) of channel c holds, at (y, x), the padded
    /// input at row (firstRow + y)·sH + a and column x·sW + b (zero over the padding and past the input), for the plan's
    /// PaddedHeight rows y; with stride 1 the one phase is the padded image. With tap columns, image (a, j) holds column
    /// x·sW + j·dW instead, for x &lt; W_out.
    /// </summary>
    static void PadChannels<T>(in Plan plan, T* src, T* padded, int c0, int c1, int firstRow = 0) where T : unmanaged
    {
        int h = plan.InHeight, w = plan.InWidth, sh = plan.StrideHeight, sw = plan.StrideWidth;
        int ph = plan.PaddedHeight, pw = plan.PaddedWidth;
        for (int c = c0; c < c1; c++)
        {
            T* plane = src + (long)c * h * w;
            T* dst = padded + (long)c * plan.ChannelLength;
            for (int a = 0; a < sh; a++)
                for (int image = 0; image < plan.ColumnImages; image++)
                {
                    int b = plan.ColumnStart(a, image);
                    if (b < 0) continue;
                    // Columns x whose input column x·sW + b − pW lies inside [0, W).
                    int lead = plan.PadWidth - b, last = w - 1 + plan.PadWidth - b;
                    int xlo = lead <= 0 ? 0 : (lead + sw - 1) / sw, xhi = last < 0 ? 0 : Math.Min(pw, last / sw + 1);
                    for (int yy = 0; yy < ph; yy++, dst += pw)
                    {
                        int r = (yy + firstRow) * sh + a - plan.PadHeight;
                        if ((uint)r >= (uint)h || xhi <= xlo) { new Span<T>(dst, pw).Clear(); continue; }
                        new Span<T>(dst, xlo).Clear();
                        new Span<T>(dst + xhi, pw - xhi).Clear();
                        T* row = plane + (long)r * w + (b - plan.PadWidth);
                        if (sw == 1) ConvVectors.CopyShort(row + xlo, dst + xlo, xhi - xlo);
                        else if (sw == 2) ConvVectors.EvenShort(row + 2 * xlo, dst + xlo, xhi - xlo);
                        else for (int xx = xlo; xx < xhi; xx++) dst[xx] = row[xx * sw];
                    }
                }
        }
    }

    /// <summary>Pads flat channel index·C + c of every image into the shared buffer, for images whose panels threads share.</summary>
    readonly struct PadAction<T>(Conv2dGeometry g, Plan plan, T* x, T* shared) : IRangeAction where T : unmanaged
    {
        public void Invoke(int start, int end)
        {
            int channels = plan.InChannels;
            while (start < end)
            {
                int index = start / channels, c0 = start % channels, c1 = Math.Min(channels, c0 + end - start);
                int n = index / g.Groups, grp = index % g.Groups;
                T* padded = shared + (long)index * plan.PaddedLength;
                PadChannels(plan, x + ((long)n * g.InChannels + (long)grp * channels) * g.InPlane, padded, c0, c1);
                if (c1 == channels)
                {
                    int body = channels * plan.ChannelLength;
                    new Span<T>(padded + body, plan.PaddedLength - body).Clear();
                }
                start += c1 - c0;
            }
        }
    }

    /// <summary>The sizes shared by every image of one call.</summary>
    readonly struct Plan
    {
        public readonly int M, K, SliceDepth, PaddedM, BlockRows, ChunkPanels;
        /// <summary>
        /// Rows [0, FullRows) go in MR-row tiles and the rest in tiles of ShortRows rows, or, where ShortRows is 0, in one
        /// zero-padded MR tile copied out of a scratch tile.
        /// </summary>
        public readonly int FullRows, ShortRows;
        // PaddedHeight × PaddedWidth is the size of one phase image (the padded image itself at stride 1); the grid's rows
        // are PaddedWidth wide.
        public readonly int InChannels, PaddedHeight, PaddedWidth, PadHeight, PadWidth, InHeight, InWidth, StrideHeight, StrideWidth;
        // Phases counts a channel's images: its phase images, or with TapColumns its tap-column images.
        public readonly int OutHeight, OutWidth, Panels, GridWidth, PaddedLength, Positions, Phases, ChannelLength;
        /// <summary>Bit a·sW + b is set when some kernel tap reads phase (a, b).</summary>
        public readonly ulong PhaseMask;
        /// <summary>
        /// One image per row phase and kernel column (<see cref="TapColumnsApply"/>) instead of one per phase: the grid is
        /// the output itself, W_out wide.
        /// </summary>
        public readonly bool TapColumns;
        // Bit a is set when some kernel row reads row phase a.
        readonly ulong rowMask;
        readonly int kernelHeight, kernelWidth, dilationHeight, dilationWidth;

        /// <summary>
        /// The plan of a whole image, or with <paramref name="bandRows"/> &gt; 0 that of a band of that many output rows:
        /// OutHeight is then the band's rows, PaddedHeight the phase rows they read, and the grid, offsets and buffer are the band's.
        /// </summary>
        public Plan(in Conv2dGeometry g, int mr, int nr, int kc, int elementSize, int shortMr = 0, int bandRows = 0, bool tapColumns = false)
            : this(g.OutChannelsPerGroup, g.ColumnRows, bandRows > 0 ? bandRows : g.OutHeight, g.OutWidth,
                tapColumns ? g.OutWidth : SharesRowPadding(g) ? g.InWidth + g.PadWidth : (g.InWidth + 2 * g.PadWidth + g.StrideWidth - 1) / g.StrideWidth,
                mr, nr, kc, elementSize, shortMr)
        {
            TapColumns = tapColumns;
            InChannels = g.InChannelsPerGroup;
            InHeight = g.InHeight; InWidth = g.InWidth; PadHeight = g.PadHeight; PadWidth = g.PadWidth;
            StrideHeight = g.StrideHeight; StrideWidth = g.StrideWidth;
            PaddedHeight = bandRows > 0 ? bandRows + (g.KernelHeight - 1) * g.DilationHeight / StrideHeight
                : (g.InHeight + 2 * g.PadHeight + StrideHeight - 1) / StrideHeight;
            kernelHeight = g.KernelHeight; kernelWidth = g.KernelWidth; dilationHeight = g.DilationHeight; dilationWidth = g.DilationWidth;
            PhaseMask = 0;
            rowMask = 0;
            for (int i = 0; i < kernelHeight; i++)
            {
                rowMask |= 1UL << (i * dilationHeight % StrideHeight);
                for (int j = 0; j < kernelWidth; j++)
                    PhaseMask |= 1UL << (i * dilationHeight % StrideHeight * StrideWidth + j * dilationWidth % StrideWidth);
            }
            Phases = tapColumns ? BitOperations.PopCount(rowMask) * kernelWidth : BitOperations.PopCount(PhaseMask);
            ChannelLength = Phases * PaddedHeight * PaddedWidth;
            // The last panel reads GridWidth elements from the largest offset: keep the buffer that long, zero past the images.
            int lastTap = 0;
            for (int i = 0; i < kernelHeight; i++)
                for (int j = 0; j < kernelWidth; j++)
                    lastTap = Math.Max(lastTap, TapOffset(i, j));
            PaddedLength = Math.Max(InChannels * ChannelLength, (InChannels - 1) * ChannelLength + lastTap + GridWidth);
        }

        /// <summary>
        /// The product alone: an [m, k] weight times k rows read at offsets of a buffer, on a grid of
        /// <paramref name="outHeight"/> rows of <paramref name="paddedWidth"/> positions of which the first
        /// <paramref name="outWidth"/> are kept (the strided input gradient's phases, which lay out their own buffer).
        /// </summary>
        public Plan(int m, int k, int outHeight, int outWidth, int paddedWidth, int mr, int nr, int kc, int elementSize, int shortMr)
        {
            M = m;
            K = k;
            int slices = Math.Max(1, (K + kc - 1) / kc);
            SliceDepth = Math.Max(1, (K + slices - 1) / slices);
            PaddedM = (M + mr - 1) / mr * mr;
            (FullRows, ShortRows) = SplitRows(M, mr, shortMr);
            OutHeight = outHeight;
            OutWidth = outWidth;
            PaddedWidth = paddedWidth;
            Positions = OutHeight * PaddedWidth;
            Panels = (Positions + nr - 1) / nr;
            GridWidth = Panels * nr;
            // Weight rows per block: the block's MR×K slivers (all k-slices) stay in half the L2 while every panel passes.
            BlockRows = Math.Max(mr, (int)Math.Min(PaddedM, CacheSizes.L2 / 2 / Math.Max(1L, (long)K * elementSize) / mr * mr));
            // Panels per chunk: the chunk's grid columns (M rows) stay in a quarter of the L2 until they are cropped.
            ChunkPanels = (int)Math.Clamp(ForcedChunkPanels > 0 ? ForcedChunkPanels : CacheSizes.L2 / 4 / Math.Max(1L, (long)M * nr * elementSize), 1, Math.Max(1, Panels));
        }

        public int PackedWeightLength => PaddedM * K;

        /// <summary>
        /// Output rows per band for a strided convolution whose phase images (all channels of one image) outgrow the L2
        /// while its weight (or the weight gradient's tiles) takes at most a quarter of it, or 0 to keep the whole image. A
        /// band's phase rows take at most 3/8 of the L2 (rows over the kernel's reach are built twice, once per band), so
        /// the grid's B rows are read from the L2 while the next band's input streams in; the whole phase images of
        /// YOLOv5's first 3×3 stride-2 conv at 256² (24 channels, 128²) take 1.6 MB. A larger weight would be read from
        /// memory once per band instead of once per image: the deep layers at 640² (128×1152 floats and up) measured
        /// 5-15% slower in bands. Each output element is computed the same way in any band, so bands change no bits.
        /// </summary>
        public int BandRows(int elementSize, long weightBytes)
        {
            if (ForceWholeImage || StrideHeight == 1 && StrideWidth == 1 && ForcedBandRows == 0) return 0;
            if (ForcedBandRows > 0) return Math.Min(ForcedBandRows, OutHeight);
            long rowBytes = (long)InChannels * Phases * PaddedWidth * elementSize;
            if (rowBytes * PaddedHeight <= CacheSizes.L2 || weightBytes > CacheSizes.L2 / 4) return 0;
            int reach = (kernelHeight - 1) * dilationHeight / StrideHeight;
            int rows = (int)Math.Max(1, CacheSizes.L2 * 3L / 8 / rowBytes - reach);
            if (rows >= OutHeight) return 0;
            // Equal bands: as many as the budget needs, their rows shared out evenly.
            int bands = (OutHeight + rows - 1) / rows;
            return (OutHeight + bands - 1) / bands;
        }

        /// <summary>
        /// Whether rows share their padding columns: with stride 1 along rows, each row is stored as pW zeros and its W
        /// values, pitch W + pW, and a tap reading past a row's end lands in the next row's leading zeros, which serve as
        /// this row's right padding. The grid's rows are then W + pW wide, not W + 2·pW: pW fewer columns per output row
        /// are computed and dropped (28×28, padding 1: 812 grid positions instead of 840 for 784 outputs). It needs the
        /// kernel to reach at least as far as the padding, (kW − 1)·dW ≥ pW, so that W_out ≤ W + pW.
        /// </summary>
        static bool SharesRowPadding(in Conv2dGeometry g) =>
            !ForceSeparateRowPadding && g.StrideWidth == 1 && (g.KernelWidth - 1) * g.DilationWidth >= g.PadWidth;

        // Where tap (i, j) of channel 0 starts: its phase image, moved down and right by the tap's whole strides; with tap
        // columns, its row phase's image of kernel column j, moved down.
        int TapOffset(int i, int j)
        {
            int a = i * dilationHeight % StrideHeight, b = j * dilationWidth % StrideWidth;
            if (TapColumns)
            {
                int image = BitOperations.PopCount(rowMask & ((1UL << a) - 1)) * kernelWidth + j;
                return (image * PaddedHeight + i * dilationHeight / StrideHeight) * PaddedWidth;
            }
            int phase = BitOperations.PopCount(PhaseMask & ((1UL << (a * StrideWidth + b)) - 1));
            return (phase * PaddedHeight + i * dilationHeight / StrideHeight) * PaddedWidth + j * dilationWidth / StrideWidth;
        }

        /// <summary>Whether some kernel row reads row phase <paramref name="a"/>.</summary>
        public bool ReadsRowPhase(int a) => (rowMask & (1UL << a)) != 0;

        /// <summary>Column images per row phase: the kernel's columns with tap columns, else the column phases.</summary>
        public int ColumnImages => TapColumns ? kernelWidth : StrideWidth;

        /// <summary>
        /// Where column image <paramref name="b"/> of row phase <paramref name="a"/> starts in the padded input's columns
        /// (kernel column b's with tap columns, column phase b otherwise), or −1 where no tap reads it.
        /// </summary>
        public int ColumnStart(int a, int b) =>
            TapColumns ? (ReadsRowPhase(a) ? b * dilationWidth : -1) : (PhaseMask & (1UL << (a * StrideWidth + b))) != 0 ? b : -1;

        /// <summary>offsets[k] for k = (c, i, j): where row k of the im2col matrix, on the grid, starts in the padded buffer.</summary>
        public void FillOffsets(Span<int> offsets)
        {
            int k = 0;
            for (int c = 0; c < InChannels; c++)
                for (int i = 0; i < kernelHeight; i++)
                    for (int j = 0; j < kernelWidth; j++)
                        offsets[k++] = c * ChannelLength + TapOffset(i, j);
        }
    }

    /// <summary>Per-thread buffers, kept across calls like the GEMM's packing memory.</summary>
    static class Scratch<T> where T : unmanaged
    {
        [ThreadStatic] static T[]? padded, grid, sums, totals, panels;

        public static T[] Padded(int length) => Grow(ref padded, length);

        /// <summary>The forward's gathered B panels (<see cref="GatheredAction{T, TKernel}"/>).</summary>
        public static T[] Panels(int length) => Grow(ref panels, length);

        public static T[] Grid(int length) => Grow(ref grid, length);

        /// <summary>The weight-gradient tiles' running sums.</summary>
        public static T[] Sums(int length) => Grow(ref sums, length);

        /// <summary>The weight-gradient items' total over the chunks (<see cref="WeightItemAction{T}"/>).</summary>
        public static T[] Totals(int length) => Grow(ref totals, length);

        static T[] Grow(ref T[]? buffer, int length)
        {
            if (buffer is null || buffer.Length < length)
                buffer = GC.AllocateUninitializedArray<T>(length, pinned: true);
            return buffer;
        }
    }

    /// <summary>
    /// Task t computes part t % parts of image (and group) t / parts: panels [Panels·part/parts, Panels·(part+1)/parts).
    /// With one part the task pads its image into the thread's buffer, band of output rows by band when the plan is a
    /// band's (<see cref="Plan.BandRows"/>); with more, the images were padded into <c>shared</c> before.
    /// </summary>
    readonly struct ImageAction<T, TKernel>(Conv2dGeometry g, Plan plan, T* x, T* shared, int parts, T* packedWeight, int* offsets, Epilogue<T> epilogue, T* y) : IRangeAction
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        public void Invoke(int start, int end)
        {
            // Pinned arrays: the pointers stay valid without fixed.
            int nr = TKernel.NR;
            T* grid = (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Scratch<T>.Grid(plan.M * plan.ChunkPanels * nr)));
            T* own = shared == null ? (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Scratch<T>.Padded(plan.PaddedLength))) : null;
            T* tile = GemmBuffers<T>.Rent(TKernel.MR * nr);
            for (int task = start; task < end; task++)
            {
                int index = task / parts, part = task % parts;
                int n = index / g.Groups, grp = index % g.Groups;
                T* weight = packedWeight + (long)grp * plan.PackedWeightLength;
                int c0 = grp * plan.M;
                T* output = y + ((long)n * g.OutChannels + (long)grp * plan.M) * g.OutPlane;
                if (own == null)
                {
                    int first = (int)((long)plan.Panels * part / parts), last = (int)((long)plan.Panels * (part + 1) / parts);
                    MultiplyAndCrop(shared + (long)index * plan.PaddedLength, weight, first, last, plan.Positions, c0, output, grid, tile);
                    continue;
                }
                // Bands of plan.OutHeight output rows (one band: the whole image); each band's grid restarts at its first row.
                for (int oh0 = 0; oh0 < g.OutHeight; oh0 += plan.OutHeight)
                {
                    Pad(plan, x + ((long)n * g.InChannels + (long)grp * plan.InChannels) * g.InPlane, own, oh0);
                    int positions = Math.Min(plan.OutHeight, g.OutHeight - oh0) * plan.PaddedWidth;
                    MultiplyAndCrop(own, weight, 0, (positions + nr - 1) / nr, positions, c0, output + (long)oh0 * plan.OutWidth, grid, tile);
                }
            }
        }

        // Panels [first, last) of one padded image (or band) in chunks, each cropped while its grid columns are still in the
        // L2, or written to the output in place where the grid is its layout.
        void MultiplyAndCrop(T* padded, T* weight, int first, int last, int positions, int c0, T* output, T* grid, T* tile)
        {
            int nr = TKernel.NR;
            bool direct = WritesOutput(plan, epilogue, positions, nr);
            for (int jp0 = first; jp0 < last; jp0 += plan.ChunkPanels)
            {
                int jp1 = Math.Min(last, jp0 + plan.ChunkPanels);
                if (direct)
                {
                    Multiply<T, TKernel>(plan, padded + jp0 * nr, nr, offsets, positions, weight, jp0, jp1, output + jp0 * nr, tile, outputStride: g.OutPlane);
                    continue;
                }
                Multiply<T, TKernel>(plan, padded + jp0 * nr, nr, offsets, positions, weight, jp0, jp1, grid, tile);
                Crop(grid, (jp1 - jp0) * nr, jp0 * nr, jp1 * nr, positions, c0, output);
            }
        }

        // Grid positions [q0, q1) (of the first `positions`) to the output, dropping the extra columns and applying the
        // epilogue: out[co, oh, ow] = act(grid[co, oh·Wp + ow − q0]·scale[c0 + co] + shift[c0 + co]); the grid holds ldc
        // positions per channel, and output points at the image's (or band's) first row of channel c0.
        void Crop(T* grid, int ldc, int q0, int q1, int positions, int c0, T* output)
        {
            int ow = plan.OutWidth, pw = plan.PaddedWidth;
            // A grid in the output's layout (tap columns): one run per channel, as if all its rows were one.
            if (pw == ow) pw = ow = Math.Max(1, positions);
            q1 = Math.Min(q1, positions);
            T* bias = epilogue.Shift == null ? null : epilogue.Shift + c0;
            bool plain = epilogue.IsBiasOnly;
            for (int co = 0; co < plan.M; co++)
            {
                T* src = grid + (long)co * ldc - q0;
                T* dst = output + (long)co * g.OutPlane;
                T scale = epilogue.Scale == null ? T.One : epilogue.Scale[c0 + co], shift = bias == null ? T.Zero : bias[co];
                T* residual = epilogue.Residual == null ? null : epilogue.Residual + (output - y) + (long)co * g.OutPlane;
                // One division per channel, not one per output row.
                for (int q = q0, oh = q0 / pw, rowStart = oh * pw; q < q1; oh++, rowStart += pw)
                {
                    int col = q - rowStart, rowEnd = Math.Min(q1, rowStart + pw);
                    int count = Math.Min(ow, rowEnd - rowStart) - col;
                    if (count > 0 && !plain)
                    {
                        long at = (long)oh * ow + col;
                        ConvEpilogue.Apply(src + q, dst + at, count, scale, shift, epilogue.Activation, residual == null ? null : residual + at);
                    }
                    else if (count > 0)
                    {
                        if (bias is null) ConvVectors.CopyShort(src + q, dst + (long)oh * ow + col, count);
                        else ConvVectors.AddShort(src + q, bias[co], dst + (long)oh * ow + col, count);
                    }
                    q = rowEnd;
                }
            }
        }
    }

    // grid[M, panels jp0..jp1) = W · B; each panel's k-slices accumulate in order. Row k of panel jp starts at
    // panel0 + (jp − jp0)·panelStride + offsets[k]: in place in a padded image (the shifted grid: panelStride NR, the tap
    // offsets), or in panels gathered beforehand (panelStride K·NR, offsets k·NR). Reading the image panel's rows in place
    // saves copying as many floats as the product has columns times depth, about a third of the forward's time at 64
    // output channels. Positions is the number of grid columns in use (a last panel that fits the kernel's narrow form
    // computes only those).
    // Panel-outer (the shifted grid): each panel's KC×NR slice stays in L1 while the weight slivers pass; weights larger
    // than half the L2 go in blocks of rows, each block over every panel, so the weight is read from memory once per
    // image instead of once per panel. Slice-outer (gathered panels): each MR×KC weight sliver stays in L1 while the
    // chunk's panels pass, so a deep layer's weight (512×4608 floats, 9 MB) is read once per chunk of panels.
    // With outputStride > 0 the grid is the output itself: row co of the product at grid + co·outputStride.
    static void Multiply<T, TKernel>(in Plan plan, T* panel0, nint panelStride, int* offsets, long positions, T* packedWeight, int jp0, int jp1, T* grid, T* tile,
        bool sliceOuter = false, int outputStride = 0)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        int mr = TKernel.MR, nr = TKernel.NR, m = plan.M, ldc = outputStride > 0 ? outputStride : (jp1 - jp0) * nr;
        if (sliceOuter)
        {
            T* weightSlice = packedWeight;
            for (int pc = 0; pc < plan.K; pc += plan.SliceDepth)
            {
                int kb = Math.Min(plan.SliceDepth, plan.K - pc);
                for (int ir = 0; ir < m; ir += ir < plan.FullRows || plan.ShortRows == 0 ? mr : plan.ShortRows)
                    for (int jp = jp0; jp < jp1; jp++)
                    {
                        bool narrow = TKernel.NarrowNR > 0 && (long)jp * nr + TKernel.NarrowNR >= positions;
                        Tile<T, TKernel>(plan, ir, pc, kb, weightSlice + (nint)ir * kb, panel0 + (jp - jp0) * panelStride, offsets,
                            grid + (jp - jp0) * nr + (nint)ir * ldc, ldc, narrow, tile);
                    }
                weightSlice += (nint)plan.PaddedM * kb;
            }
            return;
        }
        // Blocks of whole MR tiles; the last also takes the rows past FullRows.
        for (int ic = 0, icEnd; ic < m; ic = icEnd)
        {
            icEnd = ic + plan.BlockRows >= plan.FullRows ? m : ic + plan.BlockRows;
            for (int jp = jp0; jp < jp1; jp++)
            {
                T* source = panel0 + (jp - jp0) * panelStride;
                T* cPanel = grid + (jp - jp0) * nr;
                // A last panel whose used positions fit the kernel's narrow form computes only those columns (28×28:
                // 8 of 32 on AVX-512); the crop never reads past the positions.
                bool narrow = TKernel.NarrowNR > 0 && (long)jp * nr + TKernel.NarrowNR >= positions;
                T* weightSlice = packedWeight;
                for (int pc = 0; pc < plan.K; pc += plan.SliceDepth)
                {
                    int kb = Math.Min(plan.SliceDepth, plan.K - pc);
                    for (int ir = ic; ir < icEnd; ir += ir < plan.FullRows || plan.ShortRows == 0 ? mr : plan.ShortRows)
                        Tile<T, TKernel>(plan, ir, pc, kb, weightSlice + (nint)ir * kb, source, offsets, cPanel + (nint)ir * ldc, ldc, narrow, tile);
                    weightSlice += (nint)plan.PaddedM * kb;
                }
            }
        }
    }

    // C[rows from ir, NR columns] (+)= the weight rows' slice [pc, pc + kb) times the panel's: an MR tile, a short tile past
    // FullRows, or a zero-padded MR tile through the scratch tile. The first slice stores, the others add.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile<T, TKernel>(in Plan plan, int ir, int pc, int kb, T* ap, T* source, int* offsets, T* cp, int ldc, bool narrow, T* tile)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        T beta = pc == 0 ? T.Zero : T.One;
        if (ir >= plan.FullRows && plan.ShortRows > 0)
        {
            TKernel.RunIndexedShort(kb, ap, source, offsets + pc, cp, ldc, T.One, beta);
            return;
        }
        int rows = Math.Min(mr, plan.M - ir);
        if (rows == mr)
        {
            if (narrow) TKernel.RunIndexedNarrow(kb, ap, source, offsets + pc, cp, ldc, T.One, beta);
            else TKernel.RunIndexed(kb, ap, source, offsets + pc, cp, ldc, T.One, beta);
            return;
        }
        TKernel.RunIndexed(kb, ap, source, offsets + pc, tile, nr, T.One, T.Zero);
        for (int r = 0; r < rows; r++)
        {
            T* c = cp + (nint)r * ldc, t = tile + r * nr;
            if (pc == 0) for (int j = 0; j < nr; j++) c[j] = t[j];
            else for (int j = 0; j < nr; j++) c[j] = t[j] + c[j];
        }
    }
}
