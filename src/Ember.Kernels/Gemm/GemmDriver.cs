using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Threading;

namespace Ember.Kernels.Gemm;

/// <summary>
/// Goto-style blocked GEMM: for each MC-row block and KC-deep slice, A is packed once (it stays in L3), then each
/// NC-column block of B is packed (it stays in L2) and swept by the micro-kernel, one MR-row A sliver (in L1) at a time.
/// KC, MC and NC are per kernel shape and per machine (<see cref="GemmBlocking"/>). A small operand that already lies
/// as panels (A transposed, B not) is read in place instead (<see cref="ReadInPlace"/>).
/// Threads share the blocks and their packing on large products (<see cref="GemmTeam"/>) where the kernel says so
/// (<see cref="IMicroKernel{T}.SharesPacking"/>: the Vector128 ones, not the AVX-512 and AVX2 ones); other products are
/// split over column or row blocks, each thread packing its own. Either way every C element is summed in the same k
/// order by one thread, so results are bit-identical for any thread count.
/// </summary>
internal static unsafe class GemmDriver
{
    /// <summary>Forces a micro-kernel width (tests cover the fallbacks this way); <see cref="GemmIsa.Auto"/> picks the widest.</summary>
    internal static GemmIsa ForcedIsa = GemmIsa.Auto;

    /// <summary>Replaces every kernel's cache blocking (tests use tiny blocks to reach every block edge on any machine).</summary>
    internal static GemmBlocking? ForcedBlocking;

    // Below this many multiply-adds the fork-join costs more than the second core saves.
    const long ParallelWork = 80L * 80 * 80;

    // From this many multiply-adds the threads share one packing of each operand (GemmTeam); below it each thread packs
    // its own (the fixed split below). Measured, best call of many, both paths interleaved in one process (2 threads,
    // 2026-12-03): shared packing 512² 1283 → 1156 µs (AVX-512) and 2537 → 2176 µs (AVX2), 1024² 10.2 → 9.3 ms and
    // 19.6 → 16.8 ms; at 256² the two were within 3% either way, and at 128² the private split was 16% faster (moving
    // packed A and C lines between the cores costs more there than packing twice saves). Only for kernels that share
    // packing (IMicroKernel.SharesPacking): the AVX-512 ones are faster on the fixed split at every size, and on a
    // quiet Zen 5 (session 32) so was the AVX2 one.
    const long SharedPackingWork = 2L * 256 * 256 * 256;

    /// <summary>Forces the shared-packing threaded path (true) or the fixed split (false) for every threaded product; tests reach both this way.</summary>
    internal static bool? ForcedSharedPacking;

    /// <summary>Forces the Vector128 kernel over broadcast A panels (true) or over plain ones (false); tests reach both this way.</summary>
    internal static bool? ForcedBroadcastA;

    /// <summary>
    /// Whether the Vector128 path packs A as broadcasts (<see cref="MicroKernel128BroadcastA{T}"/>): on x86 without FMA
    /// (AVX2 switched off), where the JIT broadcasts with a load and a shuffle (vpermilps), and the shuffles take the
    /// ports the multiplies and adds need. The broadcast pack writes a vector per A value, which pays only where each A
    /// sliver meets more than 8 B panels (against the plain kernel, one thread, this Intel Xeon (SPR class): 32² 0.94x,
    /// 64² 0.98-1.01x, 96² 1.13-1.16x, 128² 1.15-1.19x, 512²-1024² 1.2x;
    /// docs/bench-logs/2026-12-06-session22-s22-gemm-ab.txt). A float32 A only: a half A is widened by its own pack.
    /// Same bits either way (<see cref="GemmBlocking{T, TKernel}"/> keeps the k-slices).
    /// With AVX on (how an x86 machine reaches this path: AVX2 switched off), the plain kernel's float broadcasts are
    /// AVX's vbroadcastss from memory, a plain load too (<see cref="MicroKernel128{T}.ScalarA"/>); then broadcast panels
    /// pay only while their A sliver, four times the plain one, fits half of L1 (<see cref="BroadcastSliverFits"/>).
    /// </summary>
    static bool BroadcastA<T>(in GemmArgs<T> g) where T : unmanaged, INumber<T> =>
        g.ASource == PanelSource.Float
        && (ForcedBroadcastA ?? (Sse.IsSupported && !Fma.IsSupported && g.N > 8 * MicroKernel128BroadcastA<T>.NR
            && (!(typeof(T) == typeof(float) && Avx.IsSupported) || BroadcastSliverFits(g.K, (ForcedBlocking ?? GemmBlocking<T, MicroKernel128BroadcastA<T>>.Value).KC,
                MicroKernel128BroadcastA<T>.MR * MicroKernel128BroadcastA<T>.ACopies * Unsafe.SizeOf<T>(), CacheSizes.L1))));

    /// <summary>
    /// Whether one A sliver of <see cref="MicroKernel128BroadcastA{T}"/>, <paramref name="sliverStep"/> bytes a step, for
    /// one k-slice of a depth of <paramref name="k"/> (equal slices of at most <paramref name="kcMax"/>) takes at most
    /// half of an L1 of <paramref name="l1"/> bytes, the rest being for the streaming B panel: up to k = 256 on a 48 KiB
    /// L1 (24 KiB); at KC = 512 the sliver is the whole 48 KiB and streams from L2. Plain (AVX
    /// broadcasts) against broadcast panels, one thread, CPU ms, Zen 5: 128² 0.098 / 0.093, 256² 0.624 / 0.607,
    /// 512² 5.35 / 5.61, 1024² 36.3 / 37.5 (docs/bench-logs/2026-12-07-session32-s32-gemm-ab.txt).
    /// </summary>
    internal static bool BroadcastSliverFits(int k, int kcMax, int sliverStep, int l1)
    {
        int slices = (k + kcMax - 1) / kcMax;
        long kc = (k + slices - 1) / slices;
        return kc * sliverStep <= l1 / 2;
    }

    /// <summary>The micro-kernel width that <see cref="Run{T}"/> will use.</summary>
    internal static GemmIsa SelectedIsa =>
        ForcedIsa != GemmIsa.Auto ? ForcedIsa
        : Vector512.IsHardwareAccelerated ? GemmIsa.Vector512
        : Vector256.IsHardwareAccelerated ? GemmIsa.Vector256
        : GemmIsa.Vector128;

    /// <summary>The cache sizes and each float kernel's blocking, for the bench header.</summary>
    internal static string DescribeBlocking() =>
        $"{CacheSizes.Describe()}; 12×32 (AVX-512): {GemmBlocking<float, MicroKernel512<float>>.Value}, "
        + $"6×16 (AVX2): {GemmBlocking<float, MicroKernel256<float>>.Value}, 6×8 (Vector128): {GemmBlocking<float, MicroKernel128<float>>.Value}"
        + $", 6×8 over broadcast A (Vector128 without FMA): {GemmBlocking<float, MicroKernel128BroadcastA<float>>.Value}";

    /// <summary>C = alpha·op(A)·op(B) + beta·C for validated, non-empty arguments.</summary>
    public static void Run<T>(in GemmArgs<T> g) where T : unmanaged, INumber<T>
    {
        if (g.M == 0 || g.N == 0) return;
        if (g.K == 0 || g.Alpha == T.Zero)
        {
            ScaleC(g);
            return;
        }
        switch (SelectedIsa)
        {
            case GemmIsa.Vector512 when PreferEightRows(g.M):
                Run<T, MicroKernel512Rows8<T>>(g);
                break;
            case GemmIsa.Vector512: Run<T, MicroKernel512<T>>(g); break;
            case GemmIsa.Vector256: Run<T, MicroKernel256<T>>(g); break;
            case GemmIsa.Vector128 when BroadcastA(g): Run<T, MicroKernel128BroadcastA<T>>(g); break;
            default: Run<T, MicroKernel128<T>>(g); break;
        }
    }

    static void Run<T, TKernel>(in GemmArgs<T> g)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        // A half C keeps float32 partial sums only where K takes more than one slice (callers never pass a swapped C).
        if (g.CTarget != PanelSource.Float && g.C == null && g.K > (ForcedBlocking ?? GemmBlocking<T, TKernel>.Value).KC)
        {
            Run<T, TKernel>(g.WithPartials((T*)HalfStore.Partials((g.M - 1) * g.Ldc + g.N)));
            return;
        }
        // A bias runs along C's rows, so a product with one is never computed as Cᵀ.
        if (!g.TransposedC && g.Bias == null && PreferSwapped(g.M, g.N, TKernel.MR, TKernel.NR))
        {
            Run<T, TKernel>(g.Swapped());
            return;
        }
        int threads = ParallelRange.MaxThreads;
        if (threads == 1 || (long)g.M * g.N * g.K < ParallelWork)
        {
            Compute<T, TKernel>(g, 0, g.M, 0, g.N);
            return;
        }
        if (ForcedSharedPacking ?? (TKernel.SharesPacking && (long)g.M * g.N * g.K >= SharedPackingWork))
        {
            GemmTeam.Run<T, TKernel>(g, threads);
            return;
        }
        // One block per thread along the side that costs less: see SplitRows.
        if (SplitRows<T, TKernel>(g, threads))
        {
            int grain = SplitGrain(g.M, TKernel.MR, threads);
            ParallelRange.For(g.M, grain, new RowBlocks<T, TKernel>(g));
        }
        else
        {
            int grain = SplitGrain(g.N, TKernel.NR, threads);
            ParallelRange.For(g.N, grain, new ColumnBlocks<T, TKernel>(g));
        }
    }

    /// <summary>
    /// Whether splitting the rows of C over the threads costs less than splitting its columns. Each thread packs all of
    /// the operand that the split does not cut (rows: all of B; columns: all of A), so that packing is done once per
    /// thread; the cut operand is packed once in all. An operand that the thread's part reads in place
    /// (<see cref="DirectA{T, TKernel}"/>, <see cref="ReadInPlace"/>) costs no packing: counting it anyway cut 256² by
    /// rows, so both threads packed all of B while A, read in place, would have cost nothing to share. Packing an
    /// operand whose panels are already contiguous in memory (A transposed, B not) is a row copy; the other layout is a
    /// transpose, about twice as slow (measured with `Ember.Bench gemm`: 3.5 and 2.1 elements/ns on the AVX2 path,
    /// scalar transpose); in the time of one packed element the micro-kernel does about 10 and 17 lanes of
    /// multiply-adds, so the weights are NR/2 and NR lanes. The estimate, in multiply-add lanes: the largest thread's
    /// share of the product (whole tiles) plus its packing. The split only decides which thread
    /// computes an element, never how, so the choice may depend on the thread count without breaking bit-identity.
    /// </summary>
    internal static bool SplitRows<T, TKernel>(in GemmArgs<T> g, int threads)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        double lanesPerCycle = nr; // two vectors of NR/2 lanes per cycle
        double packA = g.TransA ? lanesPerCycle / 2 : lanesPerCycle, packB = g.TransB ? lanesPerCycle : lanesPerCycle / 2;
        double m = g.M, n = g.N, k = g.K;
        double rowTiles = Math.Ceiling(m / mr), colTiles = Math.Ceiling(n / nr);
        double rowsPerThread = Math.Ceiling(rowTiles / threads) * mr, colsPerThread = Math.Ceiling(colTiles / threads) * nr;
        // What each split's threads pack: the operands Compute reads in place for that part of C cost nothing.
        bool bInPlace = g.BSource == PanelSource.Float && !g.TransB;
        double packAByRows = DirectA<T, TKernel>(g, g.N) ? 0 : packA;
        double packAByColumns = DirectA<T, TKernel>(g, (int)Math.Min(colsPerThread, n)) ? 0 : packA;
        double packBByRows = bInPlace && ReadInPlace(g.K, g.Ldb, rowsPerThread <= mr, Unsafe.SizeOf<T>(), CacheSizes.L1) ? 0 : packB;
        double packBByColumns = bInPlace && ReadInPlace(g.K, g.Ldb, g.M <= mr, Unsafe.SizeOf<T>(), CacheSizes.L1) ? 0 : packB;
        double byRows = rowsPerThread * RoundUp(g.N, nr) * k + (rowsPerThread * k * packAByRows + k * n * packBByRows);
        double byColumns = RoundUp(g.M, mr) * colsPerThread * k + (m * k * packAByColumns + k * colsPerThread * packBByColumns);
        // A column cut runs down every row of C: where it is not on a cache-line boundary both threads write one line of
        // each row, which then moves between the cores. Counted as 32 cycles a row: at 128² (a tie without it) the row
        // split measured 19.1 µs against 23.0 µs for the columns (AVX-512, best call of many, same minute).
        if (ColumnCutSharesLines(g, (int)colsPerThread))
            byColumns += m * 32 * lanesPerCycle;
        return byRows < byColumns;
    }

    static bool ColumnCutSharesLines<T>(in GemmArgs<T> g, int column) where T : unmanaged, INumber<T>
    {
        int size = Unsafe.SizeOf<T>();
        return ((nint)(g.C + column) & 63) != 0 || g.Ldc * size % 64 != 0;
    }

    // The 8-row kernel when 12-row panels would waste over a tenth of their rows and 8 divides M (32 or 64 output
    // channels: 36 or 72 rows computed); otherwise the 12-row kernel, which does more multiply-adds per load.
    internal static bool PreferEightRows(int m) => m % 8 == 0 && (m + 11) / 12 * 12 > m * 1.1;

    // Swap when the fraction of useful lanes in the padded tiles grows by a quarter: the swapped product goes through
    // the scratch tile, which costs a little per tile.
    static bool PreferSwapped(int m, int n, int mr, int nr)
    {
        double normal = (double)m / RoundUp(m, mr) * n / RoundUp(n, nr);
        double swapped = (double)n / RoundUp(n, mr) * m / RoundUp(m, nr);
        return swapped > 1.25 * normal;
    }

    static int SplitGrain(int length, int tile, int threads)
    {
        int tiles = (length + tile - 1) / tile;
        int tasks = Math.Min(threads, tiles);
        return (tiles + tasks - 1) / tasks * tile;
    }

    /// <summary>Computes C[i0..i1, j0..j1] with the calling thread's packing buffers.</summary>
    /// <remarks>
    /// Loop order, outside in: MC-row blocks of A (packed per k-slice, they stay in L3), KC-deep slices, NC-column blocks
    /// of B (packed, they stay in L2), then one MR-row A sliver (it stays in L1) swept across the block's NR-column B
    /// slivers, which stream from L2. C is thus walked along its rows, a tile after the tile beside it, which the hardware
    /// prefetchers follow; the earlier order (B sliver in L1, A slivers streaming down a column strip of C) walked C down
    /// its columns, a new page for every row of every tile, and measured 112–124 against 136–148 GFLOP/s on one
    /// 672×2048×256 block of a 2048² product (AVX-512, one thread, thread CPU time, best of 30, same minute).
    /// Fully optimized from its first call: a large product spends its whole time in one call of this method, so with
    /// tiered compilation the first ~30 calls (all of a bench loop over 2048²) ran its loops as on-stack-replacement
    /// code, 30% slower (AVX2, 1 thread: 0.63 → 0.88 of the FMA loop's rate per CPU-second; session-18 s18-gemm log).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Compute<T, TKernel>(in GemmArgs<T> g, int i0, int i1, int j0, int j1)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        GemmBlocking blocking = ForcedBlocking ?? GemmBlocking<T, TKernel>.Value;
        int KC = blocking.KC, NC = blocking.NC;
        // Equal-depth slices (k = 288 gives 144 + 144, not 256 + 32) keep every slice long enough to amortise the C update.
        int slices = (g.K + KC - 1) / KC;
        int kc = (g.K + slices - 1) / slices;
        int mc = blocking.RowBlock(i1 - i0, mr);
        int nc = Math.Min(NC, RoundUp(j1 - j0, nr));
        nint aSize = RoundUp(mc * kc * TKernel.ACopies, 16), bSize = RoundUp(kc * nc, 16);
        T* pa = GemmBuffers<T>.Rent(aSize + bSize + mr * nr);
        T* pb = pa + aSize;
        T* scratch = pb + bSize;
        // An operand already in panel layout (A transposed, B not) is read in place where that is cheaper than its copy;
        // so are rows of a row-major A where the kernel can read them (ReadRowsOfAInPlace).
        bool directA = DirectA<T, TKernel>(g, j1 - j0);
        bool directB = g.BSource == PanelSource.Float && !g.TransB && ReadInPlace(g.K, g.Ldb, i1 - i0 <= mr, Unsafe.SizeOf<T>(), CacheSizes.L1);

        for (int ic = i0; ic < i1; ic += mc)
        {
            int mb = Math.Min(mc, i1 - ic);
            int mbFull = mb - mb % mr;
            // The rows past the last whole tile may run as short tiles (ShortTailRows) instead of a zero-padded one.
            int tail = ShortTailRows<T, TKernel>(mb);
            T* paTail = null;
            for (int pc = 0; pc < g.K; pc += kc)
            {
                int kb = Math.Min(kc, g.K - pc);
                // In place, only a partial last panel is packed (zero-padded to a whole tile); packed short tiles follow the others.
                if (!directA)
                {
                    if (mb > tail)
                        GemmPacking.PackA<T, TKernel>(g.A, g.Lda, g.TransA, ic, mb - tail, pc, kb, pa, g.ASource);
                    if (tail > 0)
                        PackShortTail<T, TKernel>(g, ic + mb - tail, tail, pc, kb, paTail = pa + (nint)(mb - tail) * kb);
                }
                else if (mbFull < mb && tail == 0)
                    GemmPacking.PackA<T, TKernel>(g.A, g.Lda, g.TransA, ic + mbFull, mb - mbFull, pc, kb, pa, g.ASource);
                // Later slices accumulate onto the partial sums already in C.
                T beta = pc == 0 ? g.Beta : T.One;
                for (int jc = j0; jc < j1; jc += nc)
                {
                    int nb = Math.Min(nc, j1 - jc);
                    int nbFull = nb - nb % nr;
                    if (!directB)
                        GemmPacking.PackB<T, TKernel>(g.B, g.Ldb, g.TransB, pc, kb, jc, nb, pb, g.BSource);
                    else if (nbFull < nb)
                        GemmPacking.PackB<T, TKernel>(g.B, g.Ldb, false, pc, kb, jc + nbFull, nb - nbFull, pb, g.BSource);
                    for (int ir = 0; ir < mb - tail; ir += mr)
                        Sliver<T, TKernel>(g, ic, mb, pc, kb, jc, nb, ir, 0, nb, pa, pb, directA, directB,
                            pc == 0 && g.Bias != null ? StartFromBias(g, ic + ir, Math.Min(mr, mb - ir), jc, nb) : beta, scratch);
                    if (tail > 0)
                        TailSlivers<T, TKernel>(g, ic + mb - tail, tail, pc, kb, jc, nb, paTail, pb, directA, directB, beta, scratch);
                }
            }
        }
    }

    /// <summary>
    /// The A sliver at row <paramref name="ir"/> of the packed mb×kb block at rows <paramref name="ic"/>, depth
    /// <paramref name="pc"/>, times B panels [<paramref name="jrBegin"/>, <paramref name="jrEnd"/>) of the kb×nb block at
    /// column <paramref name="jc"/>, onto C: the innermost loops of <see cref="Compute{T, TKernel}"/>, shared with
    /// <see cref="GemmTeam"/> so that both run the same kernel calls on every tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Sliver<T, TKernel>(in GemmArgs<T> g, int ic, int mb, int pc, int kb, int jc, int nb, int ir, int jrBegin, int jrEnd,
        T* pa, T* pb, bool directA, bool directB, T beta, T* scratch)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int mbFull = mb - mb % mr, nbFull = nb - nb % nr;
        int rows = Math.Min(mr, mb - ir);
        T* ap = directA ? pa : pa + (nint)ir * kb * TKernel.ACopies;
        nint aStride = mr * TKernel.ACopies;
        bool rowsOfA = false;
        if (directA && ir < mbFull)
        {
            // A transposed: the MR values of a step are contiguous, lda apart per step; A row-major: MR rows lda apart.
            rowsOfA = !g.TransA;
            ap = rowsOfA ? g.A + (nint)(ic + ir) * g.Lda + pc : g.A + pc * g.Lda + ic + ir;
            aStride = g.Lda;
        }
        T* cRow = g.C + (nint)(ic + ir) * g.Ldc + jc;
        for (int jr = jrBegin; jr < jrEnd; jr += nr)
        {
            int cols = Math.Min(nr, nb - jr);
            T* bp = directB ? pb : pb + (nint)jr * kb;
            nint bStride = nr;
            if (directB && jr < nbFull)
            {
                bp = g.B + pc * g.Ldb + jc + jr;
                bStride = g.Ldb;
            }
            T* cp = cRow + jr;
            // a half C gets every tile of the last slice through the scratch tile, rounded from there (HalfStore)
            bool toHalf = g.CTarget != PanelSource.Float && pc + kb == g.K;
            if (rows == mr && cols == nr && !g.TransposedC && !toHalf)
            {
                if (rowsOfA) TKernel.RunRowsOfA(kb, ap, aStride, bp, bStride, cp, g.Ldc, g.Alpha, beta);
                else TKernel.RunStrided(kb, ap, aStride, bp, bStride, cp, g.Ldc, g.Alpha, beta);
            }
            else
            {
                if (rowsOfA) TKernel.RunRowsOfA(kb, ap, aStride, bp, bStride, scratch, nr, T.One, T.Zero);
                else TKernel.RunStrided(kb, ap, aStride, bp, bStride, scratch, nr, T.One, T.Zero);
                if (toHalf)
                    HalfStore.Tile(g, scratch, nr, ic + ir, jc + jr, rows, cols, beta);
                else if (g.TransposedC)
                    StoreEdgeTransposed(scratch, nr, g.C + (nint)(jc + jr) * g.Ldc + ic + ir, g.Ldc, rows, cols, g.Alpha, beta);
                else
                    StoreEdge(scratch, nr, cp, g.Ldc, rows, cols, g.Alpha, beta);
            }
        }
    }

    /// <summary>Forces the short tail tiles of <see cref="ShortTailRows{T, TKernel}"/> on (true) or off (false); tests reach both this way.</summary>
    internal static bool? ForcedShortTail;

    /// <summary>
    /// Rows at the end of an <paramref name="mb"/>-row block of A that run as short tiles instead of one zero-padded
    /// tile computed into the scratch tile and stored from there: 8-row tiles of <see cref="MicroKernel512Rows8{T}"/>
    /// after the 12-row kernel (M mod 12 = 8: one, 4: two, the last 16 rows; 256 = 20·12 + 2·8), 4-row tiles of
    /// <see cref="MicroKernel256Rows4{T}"/> after the 6-row one (M mod 6 = 4: one, 2: two). A read in place is read so
    /// by the short tiles too; a packed A gets short panels after the whole ones. A short kernel makes the same
    /// multiply-add chain per C element as the long one, so the bits are the same. 0 for other kernels and remainders.
    /// </summary>
    internal static int ShortTailRows<T, TKernel>(int mb)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        int tile = typeof(TKernel) == typeof(MicroKernel512<T>) ? 8 : typeof(TKernel) == typeof(MicroKernel256<T>) ? 4 : 0;
        if (tile == 0 || !(ForcedShortTail ?? true)) return 0;
        int mr = TKernel.MR, rem = mb % mr;
        if (rem == 0) return 0;
        if (rem % tile == 0) return rem;
        return (rem + mr) % tile == 0 && mb >= rem + mr ? rem + mr : 0;
    }

    // Packs the tail rows of ShortTailRows as the short kernel's panels.
    static void PackShortTail<T, TKernel>(in GemmArgs<T> g, int i0, int rows, int pc, int kb, T* dst)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        if (typeof(TKernel) == typeof(MicroKernel512<T>))
            GemmPacking.PackA<T, MicroKernel512Rows8<T>>(g.A, g.Lda, g.TransA, i0, rows, pc, kb, dst, g.ASource);
        else
            GemmPacking.PackA<T, MicroKernel256Rows4<T>>(g.A, g.Lda, g.TransA, i0, rows, pc, kb, dst, g.ASource);
    }

    // The tail rows of ShortTailRows as short slivers over the same B block (the short kernel's B panels are the long
    // kernel's: same NR). Out of line, so that the main sliver loop's code stays as it was.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void TailSlivers<T, TKernel>(in GemmArgs<T> g, int ic, int rows, int pc, int kb, int jc, int nb, T* pa, T* pb, bool directA, bool directB, T beta, T* scratch)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        if (typeof(TKernel) == typeof(MicroKernel512<T>))
            ShortSlivers<T, MicroKernel512Rows8<T>>(g, ic, rows, pc, kb, jc, nb, pa, pb, directA, directB, beta, scratch);
        else if (typeof(TKernel) == typeof(MicroKernel256<T>))
            ShortSlivers<T, MicroKernel256Rows4<T>>(g, ic, rows, pc, kb, jc, nb, pa, pb, directA, directB, beta, scratch);
        else
            throw new InvalidOperationException($"{typeof(TKernel).Name} has no short tail tiles");
    }

    static void ShortSlivers<T, TShort>(in GemmArgs<T> g, int ic, int rows, int pc, int kb, int jc, int nb, T* pa, T* pb, bool directA, bool directB, T beta, T* scratch)
        where T : unmanaged, INumber<T>
        where TShort : struct, IMicroKernel<T>
    {
        for (int ir = 0; ir < rows; ir += TShort.MR)
            Sliver<T, TShort>(g, ic, rows, pc, kb, jc, nb, ir, 0, nb, pa, pb, directA, directB,
                pc == 0 && g.Bias != null ? StartFromBias(g, ic + ir, TShort.MR, jc, nb) : beta, scratch);
    }

    /// <summary>Forces reading in-place operands (true) or packing every operand (false); tests reach both paths this way.</summary>
    internal static bool? ForcedInPlace;

    /// <summary>Whether A is read in place for a product onto <paramref name="columns"/> columns of C (see <see cref="Compute{T, TKernel}"/>).</summary>
    internal static bool DirectA<T, TKernel>(in GemmArgs<T> g, int columns)
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        if (g.ASource != PanelSource.Float || TKernel.ACopies > 1) return false;
        if (g.TransA) return ReadInPlace(g.K, g.Lda, columns <= TKernel.NR, Unsafe.SizeOf<T>(), CacheSizes.L1);
        return TKernel.ReadsRowsOfA && ReadRowsOfAInPlace(columns, TKernel.MR, g.Lda, Unsafe.SizeOf<T>(), CacheSizes.L1, CacheSizes.L1Ways);
    }

    // Columns of C up to which a row-major A is read in place by a kernel that can (ReadsRowsOfA: AVX2's and AVX-512's).
    // Its pack is a transpose, about 2 cycles per element, while the kernel spends columns/NR cycles per element of A
    // (two NR/2-lane multiply-adds per cycle): on AVX2 a fifth of the product at 128 columns (the transformer's
    // projections and input gradients), under 3% from 1024; on AVX-512 twice those shares. Past 512 columns the AVX-512
    // A/B was not resolvable on this Intel Xeon (SPR class): 1024² within ±4% either way, round by round
    // (docs/bench-logs/2026-12-05-session21-s21-gemm-ab.txt), so the limit stays where both kernels measured a gain.
    const int RowsOfAColumns = 512;

    /// <summary>
    /// Whether a row-major A is read in place (<see cref="IMicroKernel{T}.RunRowsOfA"/>) for a product onto
    /// <paramref name="columns"/> columns by a kernel of <paramref name="rows"/> rows: where the columns are few enough
    /// (<see cref="RowsOfAColumns"/>) and the rows, <paramref name="lda"/> elements apart, do not crowd one set of an L1
    /// of <paramref name="l1"/> bytes and <paramref name="ways"/> ways (<see cref="RowsPerSet"/>). The kernel reads one line of each row for 16 steps or so; rows a multiple of 4 KiB
    /// apart put all those lines in one set, and 12 of them in the 8 ways of this Zen 4's L1 evict each other within
    /// those steps. 1024×512×1024 on one thread, GFLOP per CPU-second: lda 4 KiB, 98–99 read in place and 101–106
    /// packed; lda 4 KiB + 64 or + 256 bytes (the lines in 12 sets), 106–108 in place and 98–103 packed. 1024² on
    /// 2 threads (which cut C by columns, 512 each, and read A in place) went from 159–186 to 197–205
    /// (docs/bench-logs/2026-12-06-session23-s23-gemm-ab.txt). A packed sliver is contiguous and never crowds a set.
    /// </summary>
    internal static bool ReadRowsOfAInPlace(int columns, int rows, nint lda, int elementSize, int l1, int ways) =>
        ForcedInPlace ?? (columns <= RowsOfAColumns && RowsPerSet(rows, (long)lda * elementSize, l1, ways) <= ways);

    /// <summary>
    /// The most of <paramref name="rows"/> rows, <paramref name="rowStride"/> bytes apart, whose lines at one offset fall
    /// in the same set of an L1 of <paramref name="l1"/> bytes and <paramref name="ways"/> ways (lines L1 / ways bytes
    /// apart share a set).
    /// </summary>
    internal static int RowsPerSet(int rows, long rowStride, int l1, int ways)
    {
        const int Line = 64;
        int sets = Math.Clamp(l1 / Math.Max(1, ways) / Line, 1, 1024);
        Span<int> count = stackalloc int[sets];
        int most = 0;
        for (int r = 0; r < rows; r++)
            most = Math.Max(most, ++count[(int)(r * rowStride / Line % sets)]);
        return most;
    }

    /// <summary>
    /// Whether an operand already laid out as panels (A transposed, B not) is read in place instead of packed: when
    /// all of it (k rows at stride <paramref name="ld"/>) spans at most twice L1. Then its rows stay in L1 or close to
    /// it however the strides map to cache sets, and the copy would cost more than it saves. For larger operands the
    /// strided rows of a panel collide in a few L1 sets and packing wins. Measured one thread, best single call, same
    /// minute (AVX-512, 48 KiB L1): 64×64×64 with A transposed 3.9–5.3 → 3.1–3.6 µs, 128² 35–39 → 30–31 µs; 256²
    /// (256 KiB) 227–276 → 314–318 µs, so not there. Whatever its size, an operand whose panels are swept only once
    /// (<paramref name="sweptOnce"/>: the other side of C is one tile, as in a batch-1 product) is read in place: packing
    /// would read it the same strided way and then copy it too.
    /// </summary>
    internal static bool ReadInPlace(int k, nint ld, bool sweptOnce, int elementSize, int l1) =>
        ForcedInPlace ?? (sweptOnce || (long)k * ld * elementSize <= 2L * l1);

    /// <summary>
    /// The bias epilogue (<see cref="GemmArgs{T}.Bias"/>): C[row.., col..] = bias over the rows × cols that one sliver's
    /// first k-slice is about to store (a few KiB, still in L1 when the kernel adds onto it); returns that slice's beta, 1.
    /// Kept out of line: a bias branch inside the inlined sliver loop made the JIT's code for every product ~25% slower.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static T StartFromBias<T>(in GemmArgs<T> g, int row, int rows, int col, int cols) where T : unmanaged, INumber<T>
    {
        BiasRows(g.Bias + col, g.C + (nint)row * g.Ldc + col, g.Ldc, rows, cols);
        return T.One;
    }

    static void BiasRows<T>(T* bias, T* c, nint ldc, int rows, int cols) where T : unmanaged, INumber<T>
    {
        uint bytes = (uint)(cols * sizeof(T));
        for (int i = 0; i < rows; i++, c += ldc) Unsafe.CopyBlockUnaligned(c, bias, bytes);
    }

    // Same operations as the kernel's vector store (alpha·acc, then + beta·C), so edge elements round identically.
    static void StoreEdge<T>(T* acc, int nr, T* c, nint ldc, int rows, int cols, T alpha, T beta)
        where T : unmanaged, INumber<T>
    {
        for (int i = 0; i < rows; i++, acc += nr, c += ldc)
        {
            if (beta == T.Zero)
                for (int j = 0; j < cols; j++) c[j] = alpha * acc[j];
            else
                for (int j = 0; j < cols; j++) c[j] = alpha * acc[j] + beta * c[j];
        }
    }

    // The tile holds rows of Cᵀ: element (i, j) of the tile is C[j, i] of the caller's matrix.
    static void StoreEdgeTransposed<T>(T* acc, int nr, T* c, nint ldc, int rows, int cols, T alpha, T beta)
        where T : unmanaged, INumber<T>
    {
        for (int j = 0; j < cols; j++, c += ldc)
        {
            if (beta == T.Zero)
                for (int i = 0; i < rows; i++) c[i] = alpha * acc[i * nr + j];
            else
                for (int i = 0; i < rows; i++) c[i] = alpha * acc[i * nr + j] + beta * c[i];
        }
    }

    // k == 0 or alpha == 0: C = beta·C (or the bias) without touching A or B; beta == 0 overwrites (C may hold NaN).
    static void ScaleC<T>(in GemmArgs<T> g) where T : unmanaged, INumber<T>
    {
        if (g.Bias != null)
        {
            BiasRows(g.Bias, g.C, g.Ldc, g.M, g.N);
            return;
        }
        for (int i = 0; i < g.M; i++)
        {
            var row = new Span<T>(g.C + i * g.Ldc, g.N);
            if (g.Beta == T.Zero) row.Clear();
            else if (g.Beta != T.One)
                for (int j = 0; j < row.Length; j++) row[j] *= g.Beta;
        }
    }

    static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    readonly struct ColumnBlocks<T, TKernel>(GemmArgs<T> g) : IRangeAction
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        public void Invoke(int start, int end) => Compute<T, TKernel>(g, 0, g.M, start, end);
    }

    readonly struct RowBlocks<T, TKernel>(GemmArgs<T> g) : IRangeAction
        where T : unmanaged, INumber<T>
        where TKernel : struct, IMicroKernel<T>
    {
        public void Invoke(int start, int end) => Compute<T, TKernel>(g, start, end, 0, g.N);
    }
}
