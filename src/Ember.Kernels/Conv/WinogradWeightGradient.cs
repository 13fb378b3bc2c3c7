using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Gemm;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Conv;

/// <summary>
/// The weight gradient of a 3×3 stride-1 convolution by Winograd's F(2×2, 3×3), the transpose of
/// <see cref="WinogradConv"/>'s forward: per transform point ξ, dU[ξ][co, ci] = Σ over the 2×2 output tiles of
/// dM[ξ][co, tile]·V[ξ][ci, tile], with V = Bᵀ·d·B the forward's input transform and dM = A·dy·Aᵀ the transpose of its
/// output transform (dy the tile's output gradient, zero past the output); then dw = Gᵀ·dU·G, the transpose of the kernel
/// transform. 16 multiply-adds per (tile, ci, co) instead of 36.
/// </summary>
/// <remarks>
/// The tiles are cut into blocks as in the forward (at least <see cref="MinBlockTiles"/>). A block's transforms leave the
/// tiles in the vector lanes; the 16 products dUᵀ[ξ] += V[ξ]·dM[ξ]ᵀ run on the GEMM's register tiles over the block's
/// tiles, V read in place as rows of A and dM transposed into NR-column B panels (one pass, small beside the products).
/// The blocks go in fixed chunks (at most <see cref="Conv2dKernel.WeightChunks"/>, cut by the block count alone); a chunk
/// sums its blocks in order into its own dU, and the chunks' dU are added in chunk order, in double, inside the final
/// transform. Where there are fewer chunks than a couple per thread the input channels are shared out too (whole
/// register tiles); each part transforms the whole output gradient again. Every dU element is the same chain of
/// multiply-adds whatever the cut, so the result does not depend on the thread count.
/// </remarks>
internal static unsafe class WinogradWeightGradient
{
    /// <summary>Null: the measured rule (<see cref="Pays"/>); true: every geometry WinogradConv supports; false: never (tests, A/B).</summary>
    internal static bool? Forced;

    /// <summary>The fewest tiles of a block: the register tiles' depth, over which each load and store of C is spread.</summary>
    const int MinBlockTiles = 64;

    /// <summary>Whether the weight gradient of <paramref name="g"/> goes through here.</summary>
    public static bool Applies(in Conv2dGeometry g) => WinogradConv.Supports(g) && (Forced ?? Pays(g));

    /// <summary>
    /// Where it measured faster than the shifted GEMM's weight gradient (`winograd --weight`,
    /// docs/bench-logs/2026-12-06-session27-s27-wgrad-ab.txt), process CPU: AVX-512 and AVX2 1.0-1.45× from 1000 tiles up
    /// with 32 to 128 channels (24 too on AVX2) and rows of at least 8 tiles; slower with 16 channels (24 on AVX-512: 0.9), with
    /// 192 channels and more (0.7-0.85: each block's products spread over dU's 16 × C_in × C_out, out of the L2), below
    /// 1000 tiles (0.7-0.9 at 800 tiles of 128 channels) and on 14-wide images (7 tiles a row in 8- or 16-lane
    /// transforms: 0.9). At 128 bits the products are the whole cost: 1.1-1.8× from 100 tiles and 16 channels up to 512
    /// channels; slower below (0.5-0.85 at 16-25 tiles of 256-512 channels).
    /// </summary>
    static bool Pays(in Conv2dGeometry g)
    {
        long tiles = (long)g.Batch * ((g.OutHeight + 1) / 2) * ((g.OutWidth + 1) / 2);
        if (GemmDriver.SelectedIsa == GemmIsa.Vector128) return g.InChannels >= 16 && g.OutChannels >= 16 && tiles >= 100;
        int fewest = GemmDriver.SelectedIsa == GemmIsa.Vector256 ? 24 : 32;
        return g.InChannels >= fewest && g.OutChannels >= fewest && (long)g.InChannels * g.OutChannels <= 128 * 128
            && tiles >= 1000 && g.OutWidth >= 16;
    }

    /// <summary>dw[co, ci, 3, 3] = Σ_n Σ_{oh, ow} dy[n, co, oh, ow] · x[n, ci, oh − pH + i, ow − pW + j], overwritten.</summary>
    public static void Run(in Conv2dGeometry g, float* x, float* dy, float* dw)
    {
        switch (GemmDriver.SelectedIsa)
        {
            // Zen 4 and the like run 512-bit multiply-adds as two 256-bit halves, at the same rate: where C_out fills
            // 16-column panels better than 32-column ones (48 channels), the 256-bit register tiles waste fewer of them.
            case GemmIsa.Vector512 when Avx2.IsSupported && Fma.IsSupported && (g.OutChannels + 15) / 16 * 16 < (g.OutChannels + 31) / 32 * 32:
                Run<Simd512<float>, WinogradLanes512, MicroKernel256<float>>(g, x, dy, dw);
                break;
            case GemmIsa.Vector512 when GemmDriver.PreferEightRows(g.InChannels):
                Run<Simd512<float>, WinogradLanes512, MicroKernel512Rows8<float>>(g, x, dy, dw);
                break;
            case GemmIsa.Vector512: Run<Simd512<float>, WinogradLanes512, MicroKernel512<float>>(g, x, dy, dw); break;
            case GemmIsa.Vector256: Run<Simd256<float>, WinogradLanes256, MicroKernel256<float>>(g, x, dy, dw); break;
            case GemmIsa.Vector128: Run<Simd128<float>, WinogradLanes128, MicroKernel128<float>>(g, x, dy, dw); break;
            default: throw new NotSupportedException($"Winograd conv2d weight gradient: no kernel for the {GemmDriver.SelectedIsa} path");
        }
    }

    static void Run<TVec, TLanes, TKernel>(in Conv2dGeometry g, float* x, float* dy, float* dw)
        where TVec : struct, ISimd<TVec, float>
        where TLanes : struct, IWinogradLanes<TVec>
        where TKernel : struct, IMicroKernel<float>
    {
        // One row per output channel in dM (no register-tile padding); blocks a whole number of vectors.
        var plan = new WinogradConv.Plan(g, 1, TVec.Count, TVec.Count, MinBlockTiles);
        var sums = new Sums(g, TKernel.MR, TKernel.NR);
        int blocksPerChunk = (plan.Blocks + Conv2dKernel.WeightChunks - 1) / Conv2dKernel.WeightChunks;
        int chunks = (plan.Blocks + blocksPerChunk - 1) / blocksPerChunk;
        int threads = ParallelRange.MaxThreads, rowTiles = sums.PaddedIn / TKernel.MR;
        int parts = chunks >= 2 * threads || threads == 1 ? 1 : Math.Min(rowTiles, (2 * threads + chunks - 1) / chunks);
        float[] buffer = ArrayPool<float>.Shared.Rent(checked((int)(chunks * sums.ChunkLength)));
        try
        {
            fixed (float* s = buffer)
            {
                ParallelRange.For(chunks * parts, 1, new ChunkAction<TVec, TLanes, TKernel>(plan, sums, x, dy, s, blocksPerChunk, parts));
                ParallelRange.For(g.InChannels, KernelGrain(g, chunks), new KernelAction(g, sums, s, chunks, dw));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Input channels per task of the kernel transform: about 16384 sums read, in whole groups of 16 channels. A task
    /// writes 9 floats per (co, ci), so tasks of one channel (every layer from 64 channels on) wrote the two halves of
    /// nearly every cache line of dw from both cores at once; 16 channels are 144 floats, whole lines of a 64-byte aligned dw.
    /// </summary>
    internal static int KernelGrain(in Conv2dGeometry g, int chunks)
    {
        int channels = Math.Max(1, 16384 / Math.Max(1, 16 * chunks * g.OutChannels));
        return WinogradConv.SplitTilesInWeightTasks ? channels : (channels + 15) / 16 * 16;
    }

    /// <summary>The layout of a chunk's sums: dUᵀ[ξ] as [PaddedIn, PaddedOut], whole register tiles, ξ after ξ.</summary>
    readonly struct Sums(in Conv2dGeometry g, int mr, int nr)
    {
        public readonly int PaddedIn = (g.InChannels + mr - 1) / mr * mr, PaddedOut = (g.OutChannels + nr - 1) / nr * nr;

        public long PointLength => (long)PaddedIn * PaddedOut;

        public long ChunkLength => 16 * PointLength;
    }

    /// <summary>
    /// dw[co, ci] = Gᵀ·(Σ_chunks dU[ξ][co, ci])·G for input channels [start, end), with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]:
    /// the chunks added in order and the transform computed in double, rounded once. The chunks' rows of dUᵀ are added
    /// row after row into a buffer first (16·chunks scattered streams per element thrashed the L1: the ξ apart a
    /// multiple of 4 KiB at 96 channels).
    /// </summary>
    readonly struct KernelAction(Conv2dGeometry g, Sums layout, float* sums, int chunks, float* dw) : IRangeAction
    {
        public void Invoke(int start, int end)
        {
            int cout = g.OutChannels;
            double[] rowArray = ArrayPool<double>.Shared.Rent(16 * cout);
            Span<double> t = stackalloc double[12];
            try
            {
                fixed (double* row = rowArray)
                    for (int ci = start; ci < end; ci++)
                    {
                        new Span<double>(row, 16 * cout).Clear();
                        for (int xi = 0; xi < 16; xi++)
                            for (int c = 0; c < chunks; c++)
                            {
                                float* src = sums + c * layout.ChunkLength + xi * layout.PointLength + (long)ci * layout.PaddedOut;
                                double* dst = row + xi * cout;
                                for (int co = 0; co < cout; co++) dst[co] += src[co];
                            }
                        for (int co = 0; co < cout; co++)
                        {
                            // t = dU·G (4×3), then Gᵀ·t.
                            for (int a = 0; a < 4; a++)
                            {
                                double u0 = row[4 * a * cout + co], u1 = row[(4 * a + 1) * cout + co], u2 = row[(4 * a + 2) * cout + co], u3 = row[(4 * a + 3) * cout + co];
                                t[3 * a] = u0 + (u1 + u2) * 0.5;
                                t[3 * a + 1] = (u1 - u2) * 0.5;
                                t[3 * a + 2] = (u1 + u2) * 0.5 + u3;
                            }
                            float* k = dw + ((long)co * g.InChannels + ci) * 9;
                            for (int j = 0; j < 3; j++)
                            {
                                double t0 = t[j], t1 = t[3 + j], t2 = t[6 + j], t3 = t[9 + j];
                                k[j] = (float)(t0 + (t1 + t2) * 0.5);
                                k[3 + j] = (float)((t1 - t2) * 0.5);
                                k[6 + j] = (float)((t1 + t2) * 0.5 + t3);
                            }
                        }
                    }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(rowArray);
            }
        }
    }

    /// <summary>
    /// Task (chunk, part): the chunk's blocks in order, each transformed (the part's input channels, the whole output
    /// gradient) and multiplied into the part's rows of the chunk's dUᵀ.
    /// </summary>
    // Fully optimized from the first call, as the forward's blocks (ISimd operators stay calls at tier 0).
    readonly struct ChunkAction<TVec, TLanes, TKernel>(WinogradConv.Plan plan, Sums layout, float* x, float* dy, float* sums, int blocksPerChunk, int parts)
        : IRangeAction
        where TVec : struct, ISimd<TVec, float>
        where TLanes : struct, IWinogradLanes<TVec>
        where TKernel : struct, IMicroKernel<float>
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Invoke(int start, int end)
        {
            int mr = TKernel.MR, nr = TKernel.NR;
            // V, with room for the rows of a last register tile past C_in (their products land in dropped rows), then dM,
            // the B panels and an A panel for kernels that cannot read rows of A in place.
            long vLength = 16L * plan.InputXiStride + (long)mr * plan.Ld, mLength = 16L * plan.OutputXiStride;
            long bLength = (long)layout.PaddedOut * plan.BlockTiles, aLength = TKernel.ReadsRowsOfA ? 0 : (long)mr * plan.BlockTiles;
            float* v = WinogradConv.Scratch.Panels(vLength + mLength + bLength + aLength);
            float* m = v + vLength, packedB = m + mLength, packedA = packedB + bLength;
            float* rows = WinogradConv.Scratch.Rows(6L * plan.RowLength);
            // Only the image's columns of a row are ever written: the padding around them stays zero.
            new Span<float>(rows, 6 * plan.RowLength).Clear();
            float* gradientRows = rows + 4 * plan.RowLength;
            var input = new WinogradConv.InputTiles<TVec, TLanes>(plan, x);
            int cin = plan.InChannels, rowTiles = layout.PaddedIn / mr, panels = layout.PaddedOut / nr;
            for (int task = start; task < end; task++)
            {
                int chunk = task / parts, part = task % parts;
                int ci0 = rowTiles * part / parts * mr, ciEnd = rowTiles * (part + 1) / parts * mr, ci1 = Math.Min(cin, ciEnd);
                float* target = sums + chunk * layout.ChunkLength;
                for (int xi = 0; xi < 16; xi++)
                {
                    new Span<float>(target + xi * layout.PointLength + (long)ci0 * layout.PaddedOut, (ciEnd - ci0) * layout.PaddedOut).Clear();
                    // The rows of a last register tile past C_in are read into dropped rows of C: zeros, not stale bits
                    // that could be NaN or subnormal (the transforms may write over them later with finite values).
                    new Span<float>(v + xi * (long)plan.InputXiStride + (long)ci1 * plan.Ld, (ciEnd - ci1) * plan.Ld).Clear();
                }
                int b0 = chunk * blocksPerChunk, b1 = Math.Min(plan.Blocks, b0 + blocksPerChunk);
                for (int block = b0; block < b1; block++)
                {
                    int t0 = block * plan.BlockTiles, count = Math.Min(plan.BlockTiles, plan.Tiles - t0);
                    for (int t = t0; t < t0 + count;)
                    {
                        int tw = t % plan.TilesWide, row = t / plan.TilesWide, segment = Math.Min(plan.TilesWide - tw, t0 + count - t);
                        input.Transform(row / plan.TilesHigh, row % plan.TilesHigh, tw, segment, v + (t - t0), rows, ci0, ci1);
                        TransformGradient(row / plan.TilesHigh, row % plan.TilesHigh, tw, segment, m + (t - t0), gradientRows);
                        t += segment;
                    }
                    for (int xi = 0; xi < 16; xi++)
                    {
                        float* vx = v + xi * (long)plan.InputXiStride, mx = m + xi * (long)plan.OutputXiStride;
                        float* cx = target + xi * layout.PointLength;
                        // B: dM[ξ]ᵀ in NR-column panels, the columns past C_out zero.
                        for (int jp = 0; jp < panels; jp++)
                            Transpose(mx + (long)jp * nr * plan.Ld, plan.Ld, Math.Min(nr, plan.OutChannels - jp * nr), nr, count, packedB + (long)jp * count * nr);
                        for (int ir = ci0; ir < ciEnd; ir += mr)
                        {
                            float* a = vx + (long)ir * plan.Ld;
                            if (!TKernel.ReadsRowsOfA) Transpose(a, plan.Ld, mr, mr, count, packedA);
                            for (int jp = 0; jp < panels; jp++)
                            {
                                float* c = cx + (long)ir * layout.PaddedOut + jp * nr, b = packedB + (long)jp * count * nr;
                                if (TKernel.ReadsRowsOfA) TKernel.RunRowsOfA(count, a, plan.Ld, b, nr, c, layout.PaddedOut, 1f, 1f);
                                else TKernel.RunStrided(count, packedA, mr, b, nr, c, layout.PaddedOut, 1f, 1f);
                            }
                        }
                    }
                }
            }
        }

        // dst[p·width + j] = src[j·ld + p] for rows j < count and steps p < depth, zero for count ≤ j < width.
        static void Transpose(float* src, nint ld, int count, int width, int depth, float* dst)
        {
            if (PackTranspose.Supported)
            {
                PackTranspose.Float(src, ld, count, width, depth, dst);
                return;
            }
            for (int p = 0; p < depth; p++, dst += width)
                for (int j = 0; j < width; j++) dst[j] = j < count ? src[j * ld + p] : 0f;
        }

        // dM[ξ][co][tiles] = A·dy·Aᵀ for tiles tw0 .. tw0 + count of tile row th of image n, every output channel, at column
        // 0 of m; A = [1 0; 1 1; 1 −1; 0 −1], dy the 2×2 output gradient at row 2·th, column 2·tw (zero past the output).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void TransformGradient(int n, int th, int tw0, int count, float* m, float* rows)
        {
            int len = plan.RowLength, oh = plan.OutHeight, ow = plan.OutWidth;
            float* r0 = rows, r1 = rows + len;
            long xiStride = plan.OutputXiStride;
            for (int co = 0; co < plan.OutChannels; co++)
            {
                float* plane = dy + ((long)n * plan.OutChannels + co) * oh * ow;
                WinogradConv.CopyRow(plane, 2 * th, oh, ow, r0);
                WinogradConv.CopyRow(plane, 2 * th + 1, oh, ow, r1);
                float* dst = m + (long)co * plan.Ld;
                for (int l = 0; l < count; l += TVec.Count)
                {
                    int c = 2 * (tw0 + l);
                    // Each row times Aᵀ: (p, q) → (p, p + q, p − q, −q).
                    TLanes.Deinterleave(r0 + c, out TVec p, out TVec q);
                    TLanes.Deinterleave(r1 + c, out TVec r, out TVec s);
                    TVec a0 = p, a1 = p + q, a2 = p - q, a3 = -q;
                    TVec b0 = r, b1 = r + s, b2 = r - s, b3 = -s;
                    float* o = dst + l;
                    a0.Store(o); a1.Store(o + xiStride); a2.Store(o + 2 * xiStride); a3.Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (a0 + b0).Store(o); (a1 + b1).Store(o + xiStride); (a2 + b2).Store(o + 2 * xiStride); (a3 + b3).Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (a0 - b0).Store(o); (a1 - b1).Store(o + xiStride); (a2 - b2).Store(o + 2 * xiStride); (a3 - b3).Store(o + 3 * xiStride);
                    o += 4 * xiStride;
                    (-b0).Store(o); (-b1).Store(o + xiStride); (-b2).Store(o + 2 * xiStride); (-b3).Store(o + 3 * xiStride);
                }
            }
        }
    }
}
