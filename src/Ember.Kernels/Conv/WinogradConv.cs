using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Gemm;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>
/// 3×3 stride-1 convolution by Winograd's F(2×2, 3×3): each 2×2 output tile is Aᵀ[Σ_ci U[co, ci] ⊙ V[ci]]A with
/// U = G·w·Gᵀ (the 4×4 transformed weight) and V = Bᵀ·d·B (the 4×4 transformed input tile d), so a tile costs 16
/// multiply-adds per (ci, co) instead of 36. The 16 element-wise products summed over ci are 16 independent GEMMs,
/// M[ξ] = U[ξ]·V[ξ] ([C_out, C_in]·[C_in, tiles]), run on the GEMM's register tiles.
/// </summary>
/// <remarks>
/// The tiles, numbered image by image and row by row, are cut into blocks of a fixed size (a whole number of the
/// micro-kernel's columns) whose 16 V panels and 16 M panels fit half the L2; a thread takes whole blocks: it
/// transforms the block's input tiles (the tiles of a row in the vector lanes, the input row split into even and odd
/// columns), runs the 16 GEMMs and transforms the result straight into the output, with the bias or the fused epilogue.
/// Every output element is computed by the same sequence whatever the thread count. Float32 on the AVX-512, AVX2 and
/// Vector128 paths; the rounding is a few times the direct convolution's (the transforms add and halve, they do not scale up).
/// </remarks>
internal static unsafe class WinogradConv
{
    /// <summary>Null: the measured rule (<see cref="Pays"/>); true: every geometry <see cref="Supports"/>; false: never (tests, A/B).</summary>
    internal static bool? Forced;

    /// <summary>Whether the forward of <paramref name="g"/> goes through here.</summary>
    public static bool Applies(in Conv2dGeometry g) => Supports(g) && (Forced ?? Pays(g));

    /// <summary>
    /// Whether the input gradient of a stride-1 convolution, the forward of <paramref name="adjoint"/> (the output gradient
    /// with the flipped, transposed weight), goes through here.
    /// </summary>
    public static bool AppliesToInputGradient(in Conv2dGeometry adjoint) => Supports(adjoint) && (Forced ?? Pays(adjoint));

    /// <summary>3×3, stride 1, dilation 1, one group, a non-empty batch, on the AVX-512, AVX2 or Vector128 GEMM path.</summary>
    public static bool Supports(in Conv2dGeometry g) =>
        g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.DilationHeight == 1 && g.DilationWidth == 1 && g.Groups == 1 && g.Batch > 0
        && GemmDriver.SelectedIsa switch
        {
            GemmIsa.Vector512 => Avx512F.IsSupported,
            GemmIsa.Vector256 => Avx2.IsSupported && Fma.IsSupported,
            GemmIsa.Vector128 => WinogradLanes128.IsSupported,
            _ => false,
        };

    /// <summary>
    /// Where it measured faster than the shifted GEMM (docs/bench-logs/2026-12-05-session15-s15-wino-ab.txt): at least
    /// 16 channels in and out, and enough 2×2 tiles to pay for transforming the weight, which costs as much whatever
    /// the image (96 tiles, and C_in·C_out/1024 for wide layers whose 16 transformed weights no longer fit the caches:
    /// 1.2-1.9× faster from 100 tiles up at 16-256 channels; slower at 49 tiles × 256 channels and 128 tiles × 512).
    /// </summary>
    static bool Pays(in Conv2dGeometry g)
    {
        long tiles = (long)g.Batch * ((g.OutHeight + 1) / 2) * ((g.OutWidth + 1) / 2);
        if (GemmDriver.SelectedIsa == GemmIsa.Vector128) return PaysAt128Bits(g, tiles);
        return g.InChannels >= 16 && g.OutChannels >= 16 && tiles >= Math.Max(96L, (long)g.InChannels * g.OutChannels / 1024);
    }

    /// <summary>False: the AVX-512 path always takes its 512-bit tiles (the old side of the A/B).</summary>
    internal static bool NarrowTilesEnabled = true;

    /// <summary>
    /// Whether the AVX-512 path takes the 256-bit tiles (16 columns, the same FMA peak on Zen 4, the only kind of core
    /// this was measured on; where a 512-bit FMA does twice the work the wide tiles stay): where its 512-bit blocks
    /// are held at one 32-column panel because the 16 V and M panels of 32 tiles overflow half the L2 (C_in + C_out ≥ 256)
    /// and there are at most 5 blocks (160 tiles), so few that the last block's empty columns and the uneven split of
    /// the blocks between threads cost more than the narrower tiles (one 20×20 image: 100 tiles, 4 blocks, 128 columns
    /// paid for against 112). Measured in one process, interleaved (bench conv-width, see
    /// docs/bench-logs/2026-12-07-session30-s30-resnet-ab.txt): faster at one 20² or 24² image of 128 channels and at 20²
    /// of 256; even at 196-200 tiles; slower at 256 tiles, at 20² of 64 channels (blocks of 64 tiles fit) and at 8 images.
    /// </summary>
    internal static bool NarrowTilesPay(in Conv2dGeometry g)
    {
        if (!NarrowTilesEnabled || !VectorUnits.SplitsVector512 || GemmDriver.SelectedIsa != GemmIsa.Vector512 || !Avx2.IsSupported || !Fma.IsSupported) return false;
        long tiles = (long)g.Batch * ((g.OutHeight + 1) / 2) * ((g.OutWidth + 1) / 2);
        return g.InChannels + g.OutChannels >= 256 && tiles <= 5 * 32;
    }

    /// <summary>
    /// The Vector128 rule (docs/bench-logs/2026-12-05-session16-s16-v128-ab.txt): at 128 bits the GEMM is the whole cost
    /// and the transforms little beside it, so Winograd measured 1.4-2.4× faster on every shape of the sweep, down to 16
    /// tiles of 512 channels (1×512×7×7) and 16 channels; below 16 channels or 16 tiles it was not measured.
    /// </summary>
    static bool PaysAt128Bits(in Conv2dGeometry g, long tiles) => g.InChannels >= 16 && g.OutChannels >= 16 && tiles >= 16;

    /// <summary>
    /// out[n] = act(conv2d(x, w)[n]·scale + shift (+ residual[n])), images <paramref name="imageStride"/> apart in y
    /// (the residual dense); scale, shift and residual may be null. With activation None and no scale or residual,
    /// shift is a plain bias.
    /// </summary>
    public static void Forward(in Conv2dGeometry g, float* x, float* w, float* scale, float* shift, ConvActivation activation, float* y, float* residual, int imageStride)
    {
        switch (GemmDriver.SelectedIsa)
        {
            // The bits are the same at every width (each output is the same sequence of operations), so this is speed only.
            case GemmIsa.Vector512 when NarrowTilesPay(g):
                Forward<Simd256<float>, WinogradLanes256, MicroKernel256<float>>(g, x, w, scale, shift, activation, y, residual, imageStride);
                break;
            case GemmIsa.Vector512 when GemmDriver.PreferEightRows(g.OutChannels):
                Forward<Simd512<float>, WinogradLanes512, MicroKernel512Rows8<float>>(g, x, w, scale, shift, activation, y, residual, imageStride);
                break;
            case GemmIsa.Vector512:
                Forward<Simd512<float>, WinogradLanes512, MicroKernel512<float>>(g, x, w, scale, shift, activation, y, residual, imageStride);
                break;
            case GemmIsa.Vector256:
                Forward<Simd256<float>, WinogradLanes256, MicroKernel256<float>>(g, x, w, scale, shift, activation, y, residual, imageStride);
                break;
            case GemmIsa.Vector128:
                Forward<Simd128<float>, WinogradLanes128, MicroKernel128<float>>(g, x, w, scale, shift, activation, y, residual, imageStride);
                break;
            default: throw new NotSupportedException($"Winograd conv2d: no kernel for the {GemmDriver.SelectedIsa} path");
        }
    }

    static void Forward<TVec, TLanes, TKernel>(in Conv2dGeometry g, float* x, float* w, float* scale, float* shift, ConvActivation activation,
        float* y, float* residual, int imageStride)
        where TVec : struct, ISimd<TVec, float>
        where TLanes : struct, IWinogradLanes<TVec>
        where TKernel : struct, IMicroKernel<float>
    {
        var plan = new Plan(g, TKernel.MR, TKernel.NR, TVec.Count);
        float[] packed = ArrayPool<float>.Shared.Rent(16 * plan.PackedXiStride);
        try
        {
            fixed (float* pu = packed)
            {
                ParallelRange.For(plan.PaddedM, WeightGrain(plan, TKernel.MR), new WeightAction(plan, TKernel.MR, w, pu));
                var output = new Output(scale, shift, activation, y, residual, imageStride);
                // Fewer blocks than a couple per thread (one small image): the output channels of a block are shared out
                // too, each part transforming the block's input again. Every output element is computed the same way
                // whichever part holds it, so the results do not depend on the cut.
                int threads = ParallelRange.MaxThreads, rowTiles = plan.PaddedM / TKernel.MR;
                int parts = plan.Blocks >= 2 * threads || threads == 1 ? 1 : Math.Min(rowTiles, (2 * threads + plan.Blocks - 1) / plan.Blocks);
                ParallelRange.For(plan.Blocks * parts, 1, new BlockAction<TVec, TLanes, TKernel>(plan, x, pu, output, parts));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packed);
        }
    }

    /// <summary>
    /// Output channels per task of the weight transform: about 16384 weights, in whole MR-row register tiles. A tile's
    /// rows are interleaved in its packed panels (row co at lane co mod MR of every k), so two tasks that cut a tile
    /// wrote alternate floats of the same cache lines from two cores at once: at 256 and 512 channels (7 and 3 rows a
    /// task against 12-row tiles) every store of the 4-17 MB transform could miss, and on 2 threads the whole convolution
    /// ran 2-5 times slower than on one (8×256×10² → 256: 2.8 ms on one thread, 3-13 ms on two).
    /// </summary>
    internal static int WeightGrain(in Plan plan, int mr)
    {
        int rows = Math.Max(1, 16384 / Math.Max(1, 9 * plan.InChannels));
        return SplitTilesInWeightTasks ? rows : (rows + mr - 1) / mr * mr;
    }

    /// <summary>Cuts the weight transform's tasks anywhere, as before session 33 (A/B timings set it).</summary>
    internal static bool SplitTilesInWeightTasks;

    /// <summary>
    /// u[ξ·stride] = (G·g·Gᵀ)[ξ] for one 3×3 kernel g (row-major), with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]; computed in
    /// double and rounded once.
    /// </summary>
    internal static void TransformKernel(float* g, float* u, nint stride)
    {
        // h = G·g (4×3), then each row of h times Gᵀ.
        double g00 = g[0], g01 = g[1], g02 = g[2], g10 = g[3], g11 = g[4], g12 = g[5], g20 = g[6], g21 = g[7], g22 = g[8];
        TransformRow(g00, g01, g02, u, stride);
        TransformRow((g00 + g10 + g20) * 0.5, (g01 + g11 + g21) * 0.5, (g02 + g12 + g22) * 0.5, u + 4 * stride, stride);
        TransformRow((g00 - g10 + g20) * 0.5, (g01 - g11 + g21) * 0.5, (g02 - g12 + g22) * 0.5, u + 8 * stride, stride);
        TransformRow(g20, g21, g22, u + 12 * stride, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void TransformRow(double h0, double h1, double h2, float* u, nint stride)
    {
        u[0] = (float)h0;
        u[stride] = (float)((h0 + h1 + h2) * 0.5);
        u[2 * stride] = (float)((h0 - h1 + h2) * 0.5);
        u[3 * stride] = (float)h2;
    }

    /// <summary>
    /// Output channels [start, end) of the 16 transformed weights U[ξ] ([C_out, C_in]), written straight into the
    /// micro-kernel's MR-row panels, one k-slice after another (the layout of ShiftedGemmConv.PackWeight); the rows past
    /// C_out are zero.
    /// </summary>
    readonly struct WeightAction(Plan plan, int mr, float* w, float* packed) : IRangeAction
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int start, int end)
        {
            nint stride = plan.PackedXiStride;
            for (int co = start; co < end; co++)
            {
                int ir = co / mr * mr;
                for (int pc = 0; pc < plan.InChannels; pc += plan.SliceDepth)
                {
                    int kb = Math.Min(plan.SliceDepth, plan.InChannels - pc);
                    float* dst = packed + (nint)plan.PaddedM * pc + (nint)ir * kb + (co - ir);
                    for (int k = 0; k < kb; k++, dst += mr)
                    {
                        if (co < plan.OutChannels) TransformKernel(w + ((long)co * plan.InChannels + pc + k) * 9, dst, stride);
                        else for (int xi = 0; xi < 16; xi++) dst[xi * stride] = 0f;
                    }
                }
            }
        }
    }

    /// <summary>The output pass: per-channel scale and shift (either may be null), activation, residual, image stride.</summary>
    readonly struct Output(float* scale, float* shift, ConvActivation activation, float* y, float* residual, int imageStride)
    {
        public readonly float* Scale = scale, Shift = shift, Y = y, Residual = residual;
        public readonly ConvActivation Activation = activation;
        public readonly int ImageStride = imageStride;

        /// <summary>Only a bias (or nothing): added in the output transform, no separate pass.</summary>
        public bool IsBiasOnly => Scale == null && Residual == null && Activation == ConvActivation.None;
    }

    /// <summary>Sizes and blocking of one call.</summary>
    internal readonly struct Plan
    {
        public readonly int Batch, InChannels, OutChannels, InHeight, InWidth, PadHeight, PadWidth, OutHeight, OutWidth;
        public readonly int TilesHigh, TilesWide, Tiles, BlockTiles, Blocks, Ld, PaddedM, SliceDepth, RowLength;

        // minBlockTiles: the fewest tiles in a block (rounded to whole NR columns) where the tiles allow.
        public Plan(in Conv2dGeometry g, int mr, int nr, int lanes, int minBlockTiles = 0)
        {
            Batch = g.Batch; InChannels = g.InChannels; OutChannels = g.OutChannels;
            InHeight = g.InHeight; InWidth = g.InWidth; PadHeight = g.PadHeight; PadWidth = g.PadWidth;
            OutHeight = g.OutHeight; OutWidth = g.OutWidth;
            TilesHigh = (OutHeight + 1) / 2;
            TilesWide = (OutWidth + 1) / 2;
            Tiles = Batch * TilesHigh * TilesWide;
            PaddedM = (OutChannels + mr - 1) / mr * mr;
            // The block's 16 V panels (C_in rows) and 16 M panels (PaddedM rows) fill at most half the L2.
            long perTile = 16L * (InChannels + PaddedM) * sizeof(float);
            BlockTiles = (int)Math.Max(Math.Max(nr, (minBlockTiles + nr - 1) / nr * nr), CacheSizes.L2 / 2 / perTile / nr * nr);
            BlockTiles = (int)Math.Min(BlockTiles, (Tiles + nr - 1L) / nr * nr);
            Blocks = (Tiles + BlockTiles - 1) / BlockTiles;
            // A row's last vector of tiles stores up to a vector past the block's tiles.
            Ld = BlockTiles + lanes;
            int slices = (InChannels + 255) / 256;
            SliceDepth = (InChannels + slices - 1) / slices;
            // Input rows in padded coordinates; the last vector of a row reads 2·lanes + 2 floats from column 2·(TilesWide − 1).
            RowLength = 2 * TilesWide + 2 * lanes + 2;
        }

        /// <summary>Floats from one packed U[ξ] to the next: PaddedM·C_in and a cache line, so that the 16 do not share cache sets.</summary>
        public int PackedXiStride => Spread(PaddedM * InChannels);

        /// <summary>Floats from V[ξ] ([C_in, Ld]) to V[ξ + 1] in a block's scratch.</summary>
        public int InputXiStride => Spread(InChannels * Ld);

        /// <summary>Floats from M[ξ] ([PaddedM, Ld]) to M[ξ + 1].</summary>
        public int OutputXiStride => Spread(PaddedM * Ld);

        // A length padded by whole cache lines until it is not within 4 lines of a multiple of 4 KiB: the transforms read
        // or write all 16 matrices at once, and 16 streams a multiple of 4 KiB apart would fall in the same L1 sets.
        static int Spread(int floats)
        {
            int padded = (floats + 15) / 16 * 16 + 16;
            while ((padded * sizeof(float) + 256) % 4096 < 512) padded += 16;
            return padded;
        }
    }

    /// <summary>Per-thread buffers, kept across calls like the GEMM's packing memory (pinned, 64-byte aligned).</summary>
    internal static class Scratch
    {
        [ThreadStatic] static float[]? panels, rows;

        public static float* Panels(long length) => Aligned(ref panels, length);

        public static float* Rows(long length) => Aligned(ref rows, length);

        static float* Aligned(ref float[]? buffer, long length)
        {
            if (buffer is null || buffer.Length < length + 16)
                buffer = GC.AllocateUninitializedArray<float>(checked((int)(length + 16)), pinned: true);
            byte* p = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
            return (float*)(((nint)p + 63) & ~(nint)63);
        }
    }

    /// <summary>Blocks [start, end) of tiles: input transform, the 16 GEMMs, output transform.</summary>
    // The methods are fully optimized from the first call: at tier 0 the ISimd operators stay calls, and on a loaded
    // machine the tier-1 recompile came late enough to make whole measured runs 2-3 times slower.
    readonly struct BlockAction<TVec, TLanes, TKernel>(Plan plan, float* x, float* packedWeight, Output output, int parts) : IRangeAction
        where TVec : struct, ISimd<TVec, float>
        where TLanes : struct, IWinogradLanes<TVec>
        where TKernel : struct, IMicroKernel<float>
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int start, int end)
        {
            long vLength = 16L * plan.InputXiStride, mLength = 16L * plan.OutputXiStride;
            float* v = Scratch.Panels(vLength + mLength);
            float* m = v + vLength;
            float* rows = Scratch.Rows(4L * plan.RowLength);
            // Only the input columns of a row are ever written: the padding around them stays zero.
            new Span<float>(rows, 4 * plan.RowLength).Clear();
            int rowTiles = plan.PaddedM / TKernel.MR;
            var input = new InputTiles<TVec, TLanes>(plan, x);
            for (int task = start; task < end; task++)
            {
                int block = task / parts, part = task % parts;
                int t0 = block * plan.BlockTiles, count = Math.Min(plan.BlockTiles, plan.Tiles - t0);
                // Output channels [co0, co1) of the block: whole register tiles.
                int co0 = rowTiles * part / parts * TKernel.MR, co1 = Math.Min(plan.OutChannels, rowTiles * (part + 1) / parts * TKernel.MR);
                for (int t = t0; t < t0 + count;)
                {
                    int tw = t % plan.TilesWide, row = t / plan.TilesWide, segment = Math.Min(plan.TilesWide - tw, t0 + count - t);
                    input.Transform(row / plan.TilesHigh, row % plan.TilesHigh, tw, segment, v + (t - t0), rows, 0, plan.InChannels);
                    t += segment;
                }
                Multiply(v, m, count, co0, co1);
                for (int t = t0; t < t0 + count;)
                {
                    int tw = t % plan.TilesWide, row = t / plan.TilesWide, segment = Math.Min(plan.TilesWide - tw, t0 + count - t);
                    TransformOutput(row / plan.TilesHigh, row % plan.TilesHigh, tw, segment, m + (t - t0), co0, co1);
                    t += segment;
                }
            }
        }

        // M[ξ] = U[ξ]·V[ξ] on the block's first count tiles (whole NR-column panels; the columns past count are dropped),
        // rows [co0, co1) rounded up to whole MR tiles.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Multiply(float* v, float* m, int count, int co0, int co1)
        {
            int mr = TKernel.MR, nr = TKernel.NR, panels = (count + nr - 1) / nr;
            nint ld = plan.Ld;
            for (int xi = 0; xi < 16; xi++)
            {
                float* weight = packedWeight + (long)xi * plan.PackedXiStride;
                float* vx = v + (long)xi * plan.InputXiStride, mx = m + (long)xi * plan.OutputXiStride;
                for (int jp = 0; jp < panels; jp++)
                {
                    float* slice = weight;
                    for (int pc = 0; pc < plan.InChannels; pc += plan.SliceDepth)
                    {
                        int kb = Math.Min(plan.SliceDepth, plan.InChannels - pc);
                        float beta = pc == 0 ? 0f : 1f;
                        for (int ir = co0; ir < co1; ir += mr)
                            TKernel.RunStrided(kb, slice + (nint)ir * kb, mr, vx + pc * ld + jp * nr, ld, mx + ir * ld + jp * nr, ld, 1f, beta);
                        slice += (nint)plan.PaddedM * kb;
                    }
                }
            }
        }

        // Y = Aᵀ·M·A with Aᵀ = [1 1 1 0; 0 1 −1 −1] for tiles tw0 .. tw0 + count of tile row th of image n (M at column
        // 0 of m), into the output rows 2·th and 2·th + 1 (the second only when it exists), then the epilogue.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void TransformOutput(int n, int th, int tw0, int count, float* m, int co0, int co1)
        {
            long xiStride = plan.OutputXiStride;
            int oh = 2 * th, ow = plan.OutWidth, plane = plan.OutHeight * ow;
            bool secondRow = oh + 1 < plan.OutHeight;
            int columns = Math.Min(2 * (tw0 + count), ow) - 2 * tw0;
            for (int co = co0; co < co1; co++)
            {
                float* channel = output.Y + (long)n * output.ImageStride + (long)co * plane;
                float* row0 = channel + (long)oh * ow, row1 = row0 + ow;
                TVec bias = output.IsBiasOnly && output.Shift != null ? TVec.Create(output.Shift[co]) : TVec.Zero;
                float* src = m + (long)co * plan.Ld;
                for (int l = 0; l < count; l += TVec.Count)
                {
                    float* q = src + l;
                    ColumnSums(q, xiStride, out TVec s00, out TVec s01);
                    ColumnSums(q + 4 * xiStride, xiStride, out TVec s10, out TVec s11);
                    ColumnSums(q + 8 * xiStride, xiStride, out TVec s20, out TVec s21);
                    ColumnSums(q + 12 * xiStride, xiStride, out TVec s30, out TVec s31);
                    int col = 2 * (tw0 + l), valid = Math.Min(2 * TVec.Count, columns - 2 * l);
                    TLanes.StoreInterleaved(row0 + col, s00 + s10 + s20 + bias, s01 + s11 + s21 + bias, valid);
                    if (secondRow) TLanes.StoreInterleaved(row1 + col, s10 - s20 - s30 + bias, s11 - s21 - s31 + bias, valid);
                }
                if (!output.IsBiasOnly)
                {
                    float scale = output.Scale == null ? 1f : output.Scale[co], shift = output.Shift == null ? 0f : output.Shift[co];
                    float* residual = output.Residual == null ? null : output.Residual + ((long)n * plan.OutChannels + co) * plane + (long)oh * ow + 2 * tw0;
                    // A whole tile row's two output rows lie back to back: one pass over both.
                    bool together = secondRow && columns == ow;
                    ConvEpilogue.Apply(row0 + 2 * tw0, row0 + 2 * tw0, together ? 2 * ow : columns, scale, shift, output.Activation, residual);
                    if (secondRow && !together)
                        ConvEpilogue.Apply(row1 + 2 * tw0, row1 + 2 * tw0, columns, scale, shift, output.Activation, residual == null ? null : residual + ow);
                }
            }
        }

        // One row a of M (ξ = 4a .. 4a + 3, xiStride apart) times A: (m0 + m1 + m2, m1 − m2 − m3).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void ColumnSums(float* q, long xiStride, out TVec s0, out TVec s1)
        {
            TVec m0 = TVec.Load(q), m1 = TVec.Load(q + xiStride), m2 = TVec.Load(q + 2 * xiStride), m3 = TVec.Load(q + 3 * xiStride);
            s0 = m0 + m1 + m2;
            s1 = m1 - m2 - m3;
        }
    }

    /// <summary>
    /// The input transform of a block's tiles: V[ξ][ci][tiles] in the lanes, a row's tiles two input columns apart (the
    /// forward and the weight gradient share it).
    /// </summary>
    internal readonly struct InputTiles<TVec, TLanes>(Plan plan, float* x)
        where TVec : struct, ISimd<TVec, float>
        where TLanes : struct, IWinogradLanes<TVec>
    {
        // V[ξ][ci][tiles] for tiles tw0 .. tw0 + count of tile row th of image n, channels [ci0, ci1), at column 0 of v. d
        // is the 4×4 input patch at padded row 2·th, column 2·tw; V = Bᵀ·d·B with Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Transform(int n, int th, int tw0, int count, float* v, float* rows, int ci0, int ci1)
        {
            int len = plan.RowLength;
            float* r0 = rows, r1 = rows + len, r2 = r1 + len, r3 = r2 + len;
            long ciStride = plan.Ld, xiStride = plan.InputXiStride;
            for (int ci = ci0; ci < ci1; ci++)
            {
                float* image = x + ((long)n * plan.InChannels + ci) * plan.InHeight * plan.InWidth;
                for (int r = 0; r < 4; r++) LoadRow(image, 2 * th + r - plan.PadHeight, rows + r * len);
                float* dst = v + ci * ciStride;
                for (int l = 0; l < count; l += TVec.Count)
                {
                    int c = 2 * (tw0 + l);
                    RowTransform(r0 + c, out TVec a0, out TVec a1, out TVec a2, out TVec a3);
                    RowTransform(r1 + c, out TVec b0, out TVec b1, out TVec b2, out TVec b3);
                    RowTransform(r2 + c, out TVec c0, out TVec c1, out TVec c2, out TVec c3);
                    RowTransform(r3 + c, out TVec d0, out TVec d1, out TVec d2, out TVec d3);
                    float* o = dst + l;
                    (a0 - c0).Store(o); (a1 - c1).Store(o + xiStride); (a2 - c2).Store(o + 2 * xiStride); (a3 - c3).Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (b0 + c0).Store(o); (b1 + c1).Store(o + xiStride); (b2 + c2).Store(o + 2 * xiStride); (b3 + c3).Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (c0 - b0).Store(o); (c1 - b1).Store(o + xiStride); (c2 - b2).Store(o + 2 * xiStride); (c3 - b3).Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (b0 - d0).Store(o); (b1 - d1).Store(o + xiStride); (b2 - d2).Store(o + 2 * xiStride); (b3 - d3).Store(o + 3 * xiStride);
                }
            }
        }

        // One padded input row: x's row ih at columns [pW, pW + W), zero where ih is outside the image.
        void LoadRow(float* image, int ih, float* dst) => CopyRow(image, ih, plan.InHeight, plan.InWidth, dst + plan.PadWidth);

        // (d·B) for one row of the lanes' patches: d = p[0..3] at columns 2l .. 2l + 3.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void RowTransform(float* p, out TVec t0, out TVec t1, out TVec t2, out TVec t3)
        {
            TLanes.Deinterleave(p, out TVec e0, out TVec o0);
            TLanes.Deinterleave(p + 2, out TVec e1, out TVec o1);
            t0 = e0 - e1;
            t1 = o0 + e1;
            t2 = e1 - o0;
            t3 = o0 - o1;
        }
    }

    /// <summary>Row <paramref name="row"/> of a [height, width] plane into dst[0, width), zeros where the row is outside the plane.</summary>
    internal static void CopyRow(float* plane, int row, int height, int width, float* dst)
    {
        var target = new Span<float>(dst, width);
        if ((uint)row < (uint)height) new ReadOnlySpan<float>(plane + (long)row * width, width).CopyTo(target);
        else target.Clear();
    }
}
