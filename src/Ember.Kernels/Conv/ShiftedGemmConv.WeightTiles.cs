using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Operators;
using Ember.Kernels.Threading;
using static Ember.Kernels.Operators.VectorMath;

namespace Ember.Kernels.Conv;

/// <summary>
/// The weight gradient as register tiles of outer products: gradWeightᵀ[k, co] += padded[offset(k) + q] · gradOutᵀ[q, co]
/// for every output position q, with the output channels in the vector lanes and TileRows taps per tile. The dot-product
/// blocks (<see cref="WeightAction{T}"/>) read both factors as whole grid rows: 11 rows of 13 KB at 56×56 stream from the
/// L2 for every block and bound it there, and each block ends in horizontal sums. Here one gradient row (transposed
/// once per image, 14 KB) stays in the L1 while every tap block passes over it, each step loads its TileRows image values
/// as broadcasts, and the sums stay in registers over a whole pass: the multiply-adds, not the loads, set the pace.
/// </summary>
internal static unsafe partial class ShiftedGemmConv
{
    /// <summary>Sends every weight gradient to the dot-product blocks (tests and A/B timings set it; off: the tiles, 2× less CPU at 56×56).</summary>
    internal static bool ForceWeightDots = false;

    /// <summary>Taps (rows of gradWeightᵀ) per register tile; 8 for AVX-512's three-vector tiles (<see cref="TileShape{T}"/>).</summary>
    const int TileRows = 6;

    /// <summary>Keeps every AVX-512 weight-gradient tile four vectors wide, as before three-vector tiles (tests and A/B timings set it).</summary>
    internal static bool ForceFourVectorTiles;

    /// <summary>
    /// Width and taps of the tiles that the weight gradient of <paramref name="m"/> output channels per group runs on,
    /// where <see cref="WeightTilesApply{T}"/>: <see cref="TileWidth{T}"/> and <see cref="TileRows"/>, or on AVX-512 three
    /// vectors by 8 taps (8×3 sums, 3 gradient vectors and a broadcast: 28 of the 32 registers) where they leave fewer
    /// lanes empty: 48 and 96 channels (YOLOv5's 3×3 stride-2 convs at width 0.375) fill them, and four-vector tiles
    /// would compute 64 and 128. Each sum is the same chain of multiply-adds in either shape, so the bits do not change.
    /// </summary>
    static (int Width, int Rows) TileShape<T>(GemmIsa isa, int m) where T : unmanaged
    {
        int width = TileWidth<T>(isa);
        if (isa != GemmIsa.Vector512 || ForceFourVectorTiles) return (width, TileRows);
        int three = 3 * Vector512<T>.Count;
        return (m + three - 1) / three * three < (m + width - 1) / width * width ? (three, 8) : (width, TileRows);
    }

    /// <summary>
    /// Output channels per register tile: 4 vectors (6×4 sums, 4 gradient vectors and a broadcast: 29 of the 32 ZMM
    /// registers) on AVX-512, 2 vectors (6×2 + 2 + 1 = 15 of 16) on AVX2 and Vector128.
    /// </summary>
    static int TileWidth<T>(GemmIsa isa) where T : unmanaged =>
        isa == GemmIsa.Vector512 ? 4 * Vector512<T>.Count : isa == GemmIsa.Vector256 ? 2 * Vector256<T>.Count : 2 * Vector128<T>.Count;

    /// <summary>
    /// The tiles pay when padding the group's output channels to whole tiles adds at most half (64 channels: one
    /// AVX-512 tile; 10 channels: the dot-product blocks).
    /// </summary>
    internal static bool WeightTilesApply<T>(in Conv2dGeometry g, GemmIsa isa) where T : unmanaged
    {
        if (ForceWeightDots) return false;
        long width = TileWidth<T>(isa), m = g.OutChannelsPerGroup;
        return (m + width - 1) / width * width * 2 <= 3 * m;
    }

    /// <summary>
    /// Sums the images of one chunk of the batch into per-thread tiles [group, tile, paddedK, width], in image order,
    /// output row order and column order for every (co, k), whatever the thread count; then writes them to the
    /// chunk's target as [co, k]. A band's plan (<see cref="Plan.BandRows"/>) takes each image band by band, its tiles
    /// over each band in turn: the same sums in the same order.
    /// </summary>
    readonly struct WeightTileAction<T>(Conv2dGeometry g, Plan plan, T* x, T* dy, T* dw, T* partials, int* offsets, int grain, GemmIsa isa) : IRangeAction
        where T : unmanaged, INumber<T>
    {
        public void Invoke(int start, int end)
        {
            int chunk = start / grain;
            T* target = chunk == 0 ? dw : partials + (long)(chunk - 1) * g.WeightLength;
            int m = plan.M, k = plan.K, plane = g.OutPlane;
            var (width, tileRows) = TileShape<T>(isa, m);
            int tiles = (m + width - 1) / width, paddedK = (k + tileRows - 1) / tileRows * tileRows;
            long tileLength = (long)paddedK * width, sumsLength = g.Groups * tiles * tileLength;
            int bandPlane = plan.OutHeight * plan.OutWidth;
            T* padded = Pin(Scratch<T>.Padded(plan.PaddedLength));
            T* gradient = Pin(Scratch<T>.Grid(tiles * bandPlane * width));
            T* sums = Pin(Scratch<T>.Sums((int)sumsLength));
            new Span<T>(sums, (int)sumsLength).Clear();
            // Output rows per pass: the pass's gradient rows stay in three quarters of the L1 while every tap block runs
            // over them. Each pass loads and stores every tile's sums once; with half the L1 a 56×56 AVX-512 pass held one
            // row (2-3% slower, one thread; the whole L1 measured no better than three quarters).
            int rowsPerPass = Math.Clamp(CacheSizes.L1 * 3 / 4 / Math.Max(1, plan.OutWidth * width * sizeof(T)), 1, Math.Max(1, plan.OutHeight));
            for (int n = start; n < end; n++)
                for (int grp = 0; grp < g.Groups; grp++)
                    for (int oh0 = 0; oh0 < g.OutHeight; oh0 += plan.OutHeight)
                    {
                        int bandRows = Math.Min(plan.OutHeight, g.OutHeight - oh0), positions = bandRows * plan.OutWidth;
                        Pad(plan, x + ((long)n * g.InChannels + (long)grp * plan.InChannels) * g.InPlane, padded, oh0);
                        TransposeGradient(dy + ((long)n * g.OutChannels + (long)grp * m) * plane + (long)oh0 * plan.OutWidth, plane, gradient, m, positions, width, tiles);
                        for (int t = 0; t < tiles; t++)
                            AccumulateBand(plan, isa, width, tileRows, paddedK, padded, offsets, bandRows, rowsPerPass,
                                gradient + (long)t * positions * width, sums + (grp * tiles + t) * tileLength);
                    }
            for (int grp = 0; grp < g.Groups; grp++)
                for (int t = 0; t < tiles; t++)
                {
                    T* c = sums + (grp * tiles + t) * tileLength;
                    int c0 = t * width, count = Math.Min(width, m - c0);
                    if (typeof(T) == typeof(float) && PackTranspose.Supported)
                    {
                        // target[c0 + j, kk] = c[kk, j]: the same register transposes, k rows of the tile to count channels.
                        PackTranspose.Float((float*)c, width, k, k, count, (float*)(target + (long)(grp * m + c0) * k));
                        continue;
                    }
                    for (int j = 0; j < count; j++)
                    {
                        T* dst = target + (long)(grp * m + c0 + j) * k;
                        for (int kk = 0; kk < k; kk++) dst[kk] = c[(long)kk * width + j];
                    }
                }
        }
    }

    static T* Pin<T>(T[] pinned) where T : unmanaged => (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));

    // c[k, j] += Σ_{oh < bandRows, ow} padded[offsets[k] + oh·Wp + ow] · b[oh·W_out + ow, j] for k < paddedK, in passes of
    // rowsPerPass output rows (each pass's gradient rows stay in the L1 while every tap block runs over them).
    static void AccumulateBand<T>(in Plan plan, GemmIsa isa, int width, int tileRows, int paddedK, T* padded, int* offsets, int bandRows, int rowsPerPass, T* b, T* c)
        where T : unmanaged, INumber<T>
    {
        for (int oh = 0; oh < bandRows; oh += rowsPerPass)
        {
            int rows = Math.Min(rowsPerPass, bandRows - oh);
            T* a = padded + (long)oh * plan.PaddedWidth;
            T* bp = b + (long)oh * plan.OutWidth * width;
            for (int kb = 0; kb < paddedK; kb += tileRows)
                RunTile(isa, tileRows, a, offsets + kb, rows, plan.OutWidth, plan.PaddedWidth, bp, c + (long)kb * width);
        }
    }

    // One register tile of the weight gradient on the selected width (see TileShape).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void RunTile<T>(GemmIsa isa, int tileRows, T* a, int* off, int rows, int cols, int lda, T* b, T* c) where T : unmanaged, INumber<T>
    {
        if (isa == GemmIsa.Vector512 && tileRows == 8) Tile512Three(a, off, rows, cols, lda, b, c);
        else if (isa == GemmIsa.Vector512) Tile512(a, off, rows, cols, lda, b, c);
        else if (isa == GemmIsa.Vector256) Tile<T, Simd256<T>>(a, off, rows, cols, lda, b, c);
        else Tile<T, Simd128<T>>(a, off, rows, cols, lda, b, c);
    }

    // dst[t, q, j] = src[(t·width + j)·ld + q] for q < positions: the group's output gradient (or a band's rows of it) by
    // tiles of channels, zero past its m channels.
    // float goes through the GEMM's register transposes (8×8 with AVX, 4×4 with SSE): moved one element at a time,
    // a 64×28×28 gradient took about a sixth of the 28×28 weight gradient (one thread, 8 images: 1.20× faster with
    // them on AVX-512, 1.12× on AVX2). Otherwise blocks of 16 positions keep the strided writes inside a few KB.
    static void TransposeGradient<T>(T* src, int ld, T* dst, int m, int positions, int width, int tiles) where T : unmanaged, INumber<T>
    {
        const int block = 16;
        for (int t = 0; t < tiles; t++)
        {
            T* tile = dst + (long)t * positions * width;
            int c0 = t * width, count = Math.Min(width, m - c0);
            if (typeof(T) == typeof(float) && PackTranspose.Supported)
            {
                PackTranspose.Float((float*)(src + (long)c0 * ld), ld, count, width, positions, (float*)tile);
                continue;
            }
            for (int q0 = 0; q0 < positions; q0 += block)
            {
                int qn = Math.Min(block, positions - q0);
                T* d0 = tile + (long)q0 * width;
                for (int j = 0; j < count; j++)
                {
                    T* s = src + (long)(c0 + j) * ld + q0;
                    for (int q = 0; q < qn; q++) d0[(long)q * width + j] = s[q];
                }
                for (int q = 0; q < qn; q++)
                    for (int j = count; j < width; j++) d0[(long)q * width + j] = T.Zero;
            }
        }
    }

    // c[r, 0..4L) += Σ_{row, q} a[off[r] + row·lda + q] · b[(row·cols + q), 0..4L) for r < 6, with 512-bit vectors of L lanes:
    // per step 4 gradient loads and 6 broadcasts feed 24 multiply-adds.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile512<T>(T* a, int* off, int rows, int cols, int lda, T* b, T* c) where T : unmanaged, INumber<T>
    {
        int l = Vector512<T>.Count, w = 4 * l;
        T* a0 = a + off[0], a1 = a + off[1], a2 = a + off[2], a3 = a + off[3], a4 = a + off[4], a5 = a + off[5];
        Vector512<T> c00 = Vector512.Load(c), c01 = Vector512.Load(c + l), c02 = Vector512.Load(c + 2 * l), c03 = Vector512.Load(c + 3 * l);
        Vector512<T> c10 = Vector512.Load(c + w), c11 = Vector512.Load(c + w + l), c12 = Vector512.Load(c + w + 2 * l), c13 = Vector512.Load(c + w + 3 * l);
        Vector512<T> c20 = Vector512.Load(c + 2 * w), c21 = Vector512.Load(c + 2 * w + l), c22 = Vector512.Load(c + 2 * w + 2 * l), c23 = Vector512.Load(c + 2 * w + 3 * l);
        Vector512<T> c30 = Vector512.Load(c + 3 * w), c31 = Vector512.Load(c + 3 * w + l), c32 = Vector512.Load(c + 3 * w + 2 * l), c33 = Vector512.Load(c + 3 * w + 3 * l);
        Vector512<T> c40 = Vector512.Load(c + 4 * w), c41 = Vector512.Load(c + 4 * w + l), c42 = Vector512.Load(c + 4 * w + 2 * l), c43 = Vector512.Load(c + 4 * w + 3 * l);
        Vector512<T> c50 = Vector512.Load(c + 5 * w), c51 = Vector512.Load(c + 5 * w + l), c52 = Vector512.Load(c + 5 * w + 2 * l), c53 = Vector512.Load(c + 5 * w + 3 * l);
        for (int r = 0; r < rows; r++, a0 += lda, a1 += lda, a2 += lda, a3 += lda, a4 += lda, a5 += lda)
            for (int q = 0; q < cols; q++, b += w)
            {
                Vector512<T> b0 = Vector512.Load(b), b1 = Vector512.Load(b + l), b2 = Vector512.Load(b + 2 * l), b3 = Vector512.Load(b + 3 * l);
                Vector512<T> s = Vector512.Create(a0[q]);
                c00 = FusedMultiplyAdd(s, b0, c00); c01 = FusedMultiplyAdd(s, b1, c01); c02 = FusedMultiplyAdd(s, b2, c02); c03 = FusedMultiplyAdd(s, b3, c03);
                s = Vector512.Create(a1[q]);
                c10 = FusedMultiplyAdd(s, b0, c10); c11 = FusedMultiplyAdd(s, b1, c11); c12 = FusedMultiplyAdd(s, b2, c12); c13 = FusedMultiplyAdd(s, b3, c13);
                s = Vector512.Create(a2[q]);
                c20 = FusedMultiplyAdd(s, b0, c20); c21 = FusedMultiplyAdd(s, b1, c21); c22 = FusedMultiplyAdd(s, b2, c22); c23 = FusedMultiplyAdd(s, b3, c23);
                s = Vector512.Create(a3[q]);
                c30 = FusedMultiplyAdd(s, b0, c30); c31 = FusedMultiplyAdd(s, b1, c31); c32 = FusedMultiplyAdd(s, b2, c32); c33 = FusedMultiplyAdd(s, b3, c33);
                s = Vector512.Create(a4[q]);
                c40 = FusedMultiplyAdd(s, b0, c40); c41 = FusedMultiplyAdd(s, b1, c41); c42 = FusedMultiplyAdd(s, b2, c42); c43 = FusedMultiplyAdd(s, b3, c43);
                s = Vector512.Create(a5[q]);
                c50 = FusedMultiplyAdd(s, b0, c50); c51 = FusedMultiplyAdd(s, b1, c51); c52 = FusedMultiplyAdd(s, b2, c52); c53 = FusedMultiplyAdd(s, b3, c53);
            }
        c00.Store(c); c01.Store(c + l); c02.Store(c + 2 * l); c03.Store(c + 3 * l);
        c10.Store(c + w); c11.Store(c + w + l); c12.Store(c + w + 2 * l); c13.Store(c + w + 3 * l);
        c20.Store(c + 2 * w); c21.Store(c + 2 * w + l); c22.Store(c + 2 * w + 2 * l); c23.Store(c + 2 * w + 3 * l);
        c30.Store(c + 3 * w); c31.Store(c + 3 * w + l); c32.Store(c + 3 * w + 2 * l); c33.Store(c + 3 * w + 3 * l);
        c40.Store(c + 4 * w); c41.Store(c + 4 * w + l); c42.Store(c + 4 * w + 2 * l); c43.Store(c + 4 * w + 3 * l);
        c50.Store(c + 5 * w); c51.Store(c + 5 * w + l); c52.Store(c + 5 * w + 2 * l); c53.Store(c + 5 * w + 3 * l);
    }

    // c[r, 0..3L) += Σ_{row, q} a[off[r] + row·lda + q] · b[(row·cols + q), 0..3L) for r < 8, with 512-bit vectors of L lanes:
    // per step 3 gradient loads and 8 broadcasts feed 24 multiply-adds.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile512Three<T>(T* a, int* off, int rows, int cols, int lda, T* b, T* c) where T : unmanaged, INumber<T>
    {
        int l = Vector512<T>.Count, w = 3 * l;
        T* a0 = a + off[0], a1 = a + off[1], a2 = a + off[2], a3 = a + off[3], a4 = a + off[4], a5 = a + off[5], a6 = a + off[6], a7 = a + off[7];
        Vector512<T> c00 = Vector512.Load(c), c01 = Vector512.Load(c + l), c02 = Vector512.Load(c + 2 * l);
        Vector512<T> c10 = Vector512.Load(c + w), c11 = Vector512.Load(c + w + l), c12 = Vector512.Load(c + w + 2 * l);
        Vector512<T> c20 = Vector512.Load(c + 2 * w), c21 = Vector512.Load(c + 2 * w + l), c22 = Vector512.Load(c + 2 * w + 2 * l);
        Vector512<T> c30 = Vector512.Load(c + 3 * w), c31 = Vector512.Load(c + 3 * w + l), c32 = Vector512.Load(c + 3 * w + 2 * l);
        Vector512<T> c40 = Vector512.Load(c + 4 * w), c41 = Vector512.Load(c + 4 * w + l), c42 = Vector512.Load(c + 4 * w + 2 * l);
        Vector512<T> c50 = Vector512.Load(c + 5 * w), c51 = Vector512.Load(c + 5 * w + l), c52 = Vector512.Load(c + 5 * w + 2 * l);
        Vector512<T> c60 = Vector512.Load(c + 6 * w), c61 = Vector512.Load(c + 6 * w + l), c62 = Vector512.Load(c + 6 * w + 2 * l);
        Vector512<T> c70 = Vector512.Load(c + 7 * w), c71 = Vector512.Load(c + 7 * w + l), c72 = Vector512.Load(c + 7 * w + 2 * l);
        for (int r = 0; r < rows; r++, a0 += lda, a1 += lda, a2 += lda, a3 += lda, a4 += lda, a5 += lda, a6 += lda, a7 += lda)
            for (int q = 0; q < cols; q++, b += w)
            {
                Vector512<T> b0 = Vector512.Load(b), b1 = Vector512.Load(b + l), b2 = Vector512.Load(b + 2 * l);
                Vector512<T> s = Vector512.Create(a0[q]);
                c00 = FusedMultiplyAdd(s, b0, c00); c01 = FusedMultiplyAdd(s, b1, c01); c02 = FusedMultiplyAdd(s, b2, c02);
                s = Vector512.Create(a1[q]);
                c10 = FusedMultiplyAdd(s, b0, c10); c11 = FusedMultiplyAdd(s, b1, c11); c12 = FusedMultiplyAdd(s, b2, c12);
                s = Vector512.Create(a2[q]);
                c20 = FusedMultiplyAdd(s, b0, c20); c21 = FusedMultiplyAdd(s, b1, c21); c22 = FusedMultiplyAdd(s, b2, c22);
                s = Vector512.Create(a3[q]);
                c30 = FusedMultiplyAdd(s, b0, c30); c31 = FusedMultiplyAdd(s, b1, c31); c32 = FusedMultiplyAdd(s, b2, c32);
                s = Vector512.Create(a4[q]);
                c40 = FusedMultiplyAdd(s, b0, c40); c41 = FusedMultiplyAdd(s, b1, c41); c42 = FusedMultiplyAdd(s, b2, c42);
                s = Vector512.Create(a5[q]);
                c50 = FusedMultiplyAdd(s, b0, c50); c51 = FusedMultiplyAdd(s, b1, c51); c52 = FusedMultiplyAdd(s, b2, c52);
                s = Vector512.Create(a6[q]);
                c60 = FusedMultiplyAdd(s, b0, c60); c61 = FusedMultiplyAdd(s, b1, c61); c62 = FusedMultiplyAdd(s, b2, c62);
                s = Vector512.Create(a7[q]);
                c70 = FusedMultiplyAdd(s, b0, c70); c71 = FusedMultiplyAdd(s, b1, c71); c72 = FusedMultiplyAdd(s, b2, c72);
            }
        c00.Store(c); c01.Store(c + l); c02.Store(c + 2 * l);
        c10.Store(c + w); c11.Store(c + w + l); c12.Store(c + w + 2 * l);
        c20.Store(c + 2 * w); c21.Store(c + 2 * w + l); c22.Store(c + 2 * w + 2 * l);
        c30.Store(c + 3 * w); c31.Store(c + 3 * w + l); c32.Store(c + 3 * w + 2 * l);
        c40.Store(c + 4 * w); c41.Store(c + 4 * w + l); c42.Store(c + 4 * w + 2 * l);
        c50.Store(c + 5 * w); c51.Store(c + 5 * w + l); c52.Store(c + 5 * w + 2 * l);
        c60.Store(c + 6 * w); c61.Store(c + 6 * w + l); c62.Store(c + 6 * w + 2 * l);
        c70.Store(c + 7 * w); c71.Store(c + 7 * w + l); c72.Store(c + 7 * w + 2 * l);
    }

    // Tile512 with 2 vectors of TVec per tile row (AVX2's 256-bit, or 128-bit on SSE and NEON): 12 sums, 2 gradient vectors and
    // a broadcast, 15 of the 16 registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile<T, TVec>(T* a, int* off, int rows, int cols, int lda, T* b, T* c)
        where T : unmanaged, INumber<T>
        where TVec : struct, ISimd<TVec, T>
    {
        int l = TVec.Count, w = 2 * l;
        T* a0 = a + off[0], a1 = a + off[1], a2 = a + off[2], a3 = a + off[3], a4 = a + off[4], a5 = a + off[5];
        TVec c00 = TVec.Load(c), c01 = TVec.Load(c + l), c10 = TVec.Load(c + w), c11 = TVec.Load(c + w + l);
        TVec c20 = TVec.Load(c + 2 * w), c21 = TVec.Load(c + 2 * w + l), c30 = TVec.Load(c + 3 * w), c31 = TVec.Load(c + 3 * w + l);
        TVec c40 = TVec.Load(c + 4 * w), c41 = TVec.Load(c + 4 * w + l), c50 = TVec.Load(c + 5 * w), c51 = TVec.Load(c + 5 * w + l);
        for (int r = 0; r < rows; r++, a0 += lda, a1 += lda, a2 += lda, a3 += lda, a4 += lda, a5 += lda)
            for (int q = 0; q < cols; q++, b += w)
            {
                TVec b0 = TVec.Load(b), b1 = TVec.Load(b + l);
                TVec s = TVec.Create(a0[q]);
                c00 = TVec.MultiplyAddEstimate(s, b0, c00); c01 = TVec.MultiplyAddEstimate(s, b1, c01);
                s = TVec.Create(a1[q]);
                c10 = TVec.MultiplyAddEstimate(s, b0, c10); c11 = TVec.MultiplyAddEstimate(s, b1, c11);
                s = TVec.Create(a2[q]);
                c20 = TVec.MultiplyAddEstimate(s, b0, c20); c21 = TVec.MultiplyAddEstimate(s, b1, c21);
                s = TVec.Create(a3[q]);
                c30 = TVec.MultiplyAddEstimate(s, b0, c30); c31 = TVec.MultiplyAddEstimate(s, b1, c31);
                s = TVec.Create(a4[q]);
                c40 = TVec.MultiplyAddEstimate(s, b0, c40); c41 = TVec.MultiplyAddEstimate(s, b1, c41);
                s = TVec.Create(a5[q]);
                c50 = TVec.MultiplyAddEstimate(s, b0, c50); c51 = TVec.MultiplyAddEstimate(s, b1, c51);
            }
        c00.Store(c); c01.Store(c + l); c10.Store(c + w); c11.Store(c + w + l);
        c20.Store(c + 2 * w); c21.Store(c + 2 * w + l); c30.Store(c + 3 * w); c31.Store(c + 3 * w + l);
        c40.Store(c + 4 * w); c41.Store(c + 4 * w + l); c50.Store(c + 5 * w); c51.Store(c + 5 * w + l);
    }
}
