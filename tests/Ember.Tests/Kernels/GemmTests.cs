using System.Numerics;
using System.Runtime.Intrinsics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;

namespace Ember.Tests.Kernels;

/// <summary>Sgemm/Dgemm against the naive <see cref="Gemm.Reference{T}"/> on every micro-kernel width.</summary>
/// <remarks>
/// Widths are forced through GemmDriver.ForcedIsa. To also run with the JIT's own fallbacks, use DOTNET_EnableAVX512=0
/// and DOTNET_EnableAVX2=0: on .NET 10 DOTNET_EnableAVX512F=0 no longer turns Vector512 acceleration off.
/// </remarks>
[Collection(KernelSettingsCollection.Name)]
public sealed class GemmTests
{
    // Straddles the 12×32 / 6×16 / 6×8 tiles, the 144-row A block and the 256-deep slices (float; double tiles are half as wide).
    static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 1, 7), (2, 3, 1), (5, 7, 3), (1, 40, 9), (40, 1, 9),
        (6, 8, 4), (11, 31, 5), (12, 32, 16), (13, 33, 17), (25, 65, 2), (7, 9, 255),
        (143, 17, 256), (145, 35, 257), (24, 64, 513), (3, 2049, 2), (290, 3, 7),
        (64, 70, 288), (128, 10, 128), (37, 129, 300),
        (32, 45, 20), (16, 100, 300), (8, 33, 7),    // 8-row kernel (12-row panels would waste > 10%)
    ];

    static readonly (float Alpha, float Beta)[] Scalars = [(1f, 0f), (0.5f, 2f), (-1.5f, 1f), (2f, -0.25f)];

    // Names, not the enum: GemmIsa is internal and xunit theories must be public.
    public static TheoryData<string> Isas()
    {
        var data = new TheoryData<string> { nameof(GemmIsa.Vector128) };
        // Wider paths forced on hardware without them would only run in software emulation: slow and no new coverage.
        if (Vector256.IsHardwareAccelerated) data.Add(nameof(GemmIsa.Vector256));
        if (Vector512.IsHardwareAccelerated) data.Add(nameof(GemmIsa.Vector512));
        return data;
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void Sgemm_MatchesReference(string isa) => WithIsa(isa, () => CheckAll<float>(1e-5));

    [Theory]
    [MemberData(nameof(Isas))]
    public void Dgemm_MatchesReference(string isa) => WithIsa(isa, () => CheckAll<double>(1e-13));

    // Operands read in place (A transposed, B not, and A row-major on a kernel that reads rows of A: AVX2's, AVX-512's) on
    // every shape, including partial edge panels, which are packed.
    [Theory]
    [MemberData(nameof(Isas))]
    public void InPlaceOperands_MatchReference(string isa) => WithIsa(isa, () => WithInPlace(true, () =>
    {
        CheckAll<float>(1e-5);
        CheckAll<double>(1e-13);
    }));

    // Reading an operand in place runs the same multiply-adds in the same order as packing it: the bits agree, so the
    // size rule that picks one may change without changing any result.
    [Theory]
    [MemberData(nameof(Isas))]
    public void InPlaceOperands_BitIdenticalToPacked(string isa) => WithIsa(isa, () =>
    {
        int seed = 900;
        foreach (var (m, n, k) in new[] { (64, 64, 64), (13, 33, 17), (1, 40, 9), (40, 1, 9), (25, 65, 1), (37, 129, 300), (128, 10, 128), (130, 96, 1100), (64, 96, 1100) })
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    var (a, b, lda, ldb) = Operands<float>(ta, tb, m, n, k, pad: seed % 3, seed: seed);
                    int ldc = n + seed % 2;
                    float[] packed = Random<float>((m - 1) * ldc + n, seed + 1), inPlace = (float[])packed.Clone();
                    WithInPlace(false, () => Gemm.Sgemm(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, packed, ldc));
                    WithInPlace(true, () => Gemm.Sgemm(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, inPlace, ldc));
                    Assert.True(packed.AsSpan().SequenceEqual(inPlace), $"{isa} transA={ta} transB={tb} {m}×{n}×{k}: in-place and packed results differ");
                    seed++;
                }
    });

    [Theory]
    [InlineData(64, 64, false, 4, 48 << 10, true)]      // 16 KiB: read in place
    [InlineData(128, 128, false, 4, 48 << 10, true)]    // 64 KiB
    [InlineData(128, 128, false, 4, 32 << 10, true)]    // 64 KiB, just twice a 32 KiB L1
    [InlineData(128, 129, false, 4, 32 << 10, false)]
    [InlineData(128, 128, false, 8, 48 << 10, false)]   // double: 128 KiB
    [InlineData(256, 256, false, 4, 48 << 10, false)]   // 256 KiB: strided rows collide in L1 sets, packed
    [InlineData(1, 100000, false, 4, 48 << 10, false)]  // one row, but a huge stride
    [InlineData(784, 4096, true, 4, 48 << 10, true)]    // large, but its panels are swept once (batch 1)
    public void InPlaceRule_FollowsOperandSpan(int k, int ld, bool sweptOnce, int size, int l1, bool expected) =>
        Assert.Equal(expected, GemmDriver.ReadInPlace(k, ld, sweptOnce, size, l1));

    // The rows of A whose lines at one depth share an L1 set: with 64 sets of 64-byte lines (32 KiB 8-way, 48 KiB
    // 12-way), rows a multiple of 4 KiB apart all share one; a shift of a line or more per row spreads them.
    [Theory]
    [InlineData(12, 4096, 32 << 10, 8, 12)]   // 1024 floats: one set
    [InlineData(12, 8192, 32 << 10, 8, 12)]
    [InlineData(12, 4100, 32 << 10, 8, 12)]   // 1025 floats: 4 bytes a row, still the same line offset
    [InlineData(12, 4160, 32 << 10, 8, 1)]    // 1040 floats: a line further each row
    [InlineData(12, 2048, 32 << 10, 8, 6)]    // 512 floats: two sets
    [InlineData(12, 6144, 32 << 10, 8, 6)]
    [InlineData(12, 1024, 32 << 10, 8, 3)]    // 256 floats: four sets
    [InlineData(12, 4000, 32 << 10, 8, 1)]    // 1000 floats
    [InlineData(8, 4096, 32 << 10, 8, 8)]
    [InlineData(12, 4096, 48 << 10, 12, 12)]
    public void RowsPerSet_CountsRowsOnOneL1Set(int rows, long stride, int l1, int ways, int expected) =>
        Assert.Equal(expected, GemmDriver.RowsPerSet(rows, stride, l1, ways));

    // A row-major A is read in place only where its rows fit the ways of their L1 set: 12 rows of a 1024-column float A
    // overflow an 8-way L1 (Zen 4) and are packed, fill a 12-way one (Zen 5, Intel's) and are read in place.
    [Theory]
    [InlineData(512, 12, 1024, 4, 32 << 10, 8, false)]
    [InlineData(512, 12, 1024, 4, 48 << 10, 12, true)]
    [InlineData(512, 8, 1024, 4, 32 << 10, 8, true)]
    [InlineData(512, 12, 1040, 4, 32 << 10, 8, true)]
    [InlineData(512, 12, 512, 8, 32 << 10, 8, false)]   // 512 doubles: 4 KiB
    [InlineData(513, 12, 1040, 4, 32 << 10, 8, false)]  // past RowsOfAColumns: packed anyway
    public void RowsOfAInPlaceRule_FollowsL1Ways(int columns, int rows, int lda, int size, int l1, int ways, bool expected) =>
        Assert.Equal(expected, GemmDriver.ReadRowsOfAInPlace(columns, rows, lda, size, l1, ways));

    // A broadcast A sliver (6 rows × 4 copies × kc floats, 96 bytes a step) is used where it fits half of L1: on a
    // 48 KiB L1 up to kc = 256; a deeper product is cut into equal slices of at most KC = 512 (1024 → 2 × 512).
    [Theory]
    [InlineData(256, 48 << 10, true)]
    [InlineData(257, 48 << 10, false)]
    [InlineData(512, 48 << 10, false)]
    [InlineData(1024, 48 << 10, false)]
    [InlineData(170, 32 << 10, true)]
    [InlineData(171, 32 << 10, false)]
    public void BroadcastSliverRule_FollowsL1(int k, int l1, bool expected) =>
        Assert.Equal(expected, GemmDriver.BroadcastSliverFits(k, 512, 6 * 4 * sizeof(float), l1));

    [Theory]
    [MemberData(nameof(Isas))]
    public void BetaZero_IgnoresNaNInC(string isa) => WithIsa(isa, () =>
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                var (a, b, lda, ldb) = Operands<float>(ta, tb, 29, 45, 70, pad: 0, seed: 3);
                float[] c = new float[29 * 45];
                Array.Fill(c, float.NaN);
                Gemm.Sgemm(ta, tb, 29, 45, 70, 1.25f, a, lda, b, ldb, 0f, c, 45);
                Assert.All(c, v => Assert.True(float.IsFinite(v)));
            }
    });

    // Tiny blocks put many block edges into small products: KC = 16 makes K = 37 three slices of 13 (equal depths), MC
    // and NC of two tiles make edge blocks of one tile and of a part tile, in both directions, on every machine.
    [Theory]
    [MemberData(nameof(Isas))]
    public void SmallBlocking_MatchesReference(string isa) => WithIsa(isa, () =>
    {
        GemmIsa width = Enum.Parse<GemmIsa>(isa);
        int mr = width == GemmIsa.Vector512 ? 12 : 6;
        int nr = 2 * (width == GemmIsa.Vector512 ? Vector512<float>.Count : width == GemmIsa.Vector256 ? Vector256<float>.Count : Vector128<float>.Count);
        GemmDriver.ForcedBlocking = new GemmBlocking(16, 2 * mr, 2 * nr);
        try
        {
            int seed = 500;
            foreach (var (m, n, k) in new[] { (5 * mr + 1, 5 * nr + 3, 37), (2 * mr, 2 * nr, 16), (4 * mr - 1, 3 * nr, 33), (7, 9 * nr + 1, 70) })
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                    {
                        Check<float>(ta, tb, m, n, k, 1.5f, 0f, seed % 3, seed++, 1e-5);
                        Check<float>(ta, tb, m, n, k, 1f, 0.5f, seed % 3, seed++, 1e-5);
                        Check<double>(ta, tb, m, n, k, -1d, 2d, seed % 3, seed++, 1e-13);
                    }
        }
        finally { GemmDriver.ForcedBlocking = null; }
    });

    [Theory]
    [InlineData(32 << 10, 1 << 20, 12, 32, 4, 256)]  // AVX-512 kernel, 32 KiB L1 (Zen 4)
    [InlineData(48 << 10, 2 << 20, 12, 32, 4, 384)]  // the same kernel with a 48 KiB L1 (Sapphire Rapids)
    [InlineData(32 << 10, 512 << 10, 6, 16, 4, 512)] // AVX2 kernel on a 32 KiB L1 (Zen 2/3)
    [InlineData(16 << 10, 512 << 10, 6, 8, 8, 128)]  // AVX2 kernel in double, 16 KiB L1
    [InlineData(2 << 10, 64 << 10, 6, 16, 4, 64)]    // tiny L1: KC floor
    [InlineData(1 << 20, 8 << 20, 6, 16, 4, 512)]    // huge L1: KC ceiling
    public void Blocking_FollowsCacheSizes(int l1, int l2, int mr, int nr, int size, int expectedKc)
    {
        GemmBlocking b = GemmBlocking.For(mr, nr, size, l1, l2, 32L << 20, 2);
        Assert.Equal(expectedKc, b.KC);
        // The A sliver that stays in L1 takes at most 3/8 of it unless KC is at its floor; KC is a multiple of 8.
        Assert.Equal(0, b.KC % 8);
        if (b.KC > 64) Assert.True(mr * b.KC * size <= l1 * 3 / 8, $"A sliver of {mr * b.KC * size} B overflows 3/8 of L1 {l1}");
        // NC is whole tiles, its B block within half of L2 unless at one tile, at most 4096 columns.
        Assert.Equal(0, b.NC % nr);
        Assert.InRange(b.NC, nr, 4096);
        Assert.True(b.NC == nr || b.NC * b.KC * size <= l2 / 2, $"B block {b.KC}×{b.NC} overflows half of L2 {l2}");
        // MC is whole tiles, between 8 tiles and 4096 rows, its A block within a quarter of the per-core L3 unless at the floor.
        Assert.Equal(0, b.MC % mr);
        Assert.InRange(b.MC, 8 * mr, 4096);
        Assert.True(b.MC == 8 * mr || (long)b.MC * b.KC * size <= (32L << 20) / 2 / 4, $"A block {b.MC}×{b.KC} overflows a quarter of L3 per core");
    }

    // A remainder under an eighth of MC joins the block before it (MC = 2046, the AVX2 kernel's on a 32 MiB L3, cut 2048
    // rows into 2046 and 2); otherwise the rows split into equal blocks of whole tiles, none over MC and an eighth.
    [Theory]
    [InlineData(2046, 6, 2048, 2052)]
    [InlineData(2046, 6, 2046, 2046)]
    [InlineData(2046, 6, 3000, 1500)]
    [InlineData(2046, 6, 4096, 2052)]
    [InlineData(2724, 12, 2048, 2052)]
    [InlineData(12, 6, 31, 12)]
    [InlineData(144, 12, 5, 12)]
    public void RowBlock_JoinsSmallRemainders(int mc, int mr, int rows, int expected)
    {
        int block = new GemmBlocking(256, mc, 256).RowBlock(rows, mr);
        Assert.Equal(expected, block);
        Assert.Equal(0, block % mr);
        Assert.True(block <= mc + mc / 8 + mr, $"block of {block} rows for MC = {mc}");
    }

    [Theory]
    [InlineData("48K", 48L << 10)]
    [InlineData("2048K\n", 2048L << 10)]
    [InlineData("260M", 260L << 20)]
    [InlineData("512", 512L)]
    [InlineData("junk", 0L)]
    public void CacheSize_ParsesSysfsText(string text, long expected) => Assert.Equal(expected, CacheSizes.Parse(text));

    // Each thread packs all of the operand the split does not cut: the split goes where that operand is the cheap one to
    // pack (a row copy), unless whole-tile imbalance outweighs it. Every operand packed here (ForcedInPlace false).
    [Theory]
    [InlineData(false, false, 256, 256, 256, true)]  // A needs the transposing pack, B is a copy: cut A (rows)
    [InlineData(true, true, 256, 256, 256, false)]   // A is a copy, B needs the transpose: cut B (columns)
    [InlineData(false, false, 12, 4096, 256, false)] // one row tile cannot be split: columns
    [InlineData(true, true, 4096, 32, 256, true)]    // one column tile cannot be split: rows
    public unsafe void TwoThreadSplit_CutsTheExpensiveOperand(bool ta, bool tb, int m, int n, int k, bool rows)
    {
        var g = new GemmArgs<float>(ta, tb, m, n, k, 1f, null, 1, null, 1, 0f, null, 1);
        GemmDriver.ForcedInPlace = false;
        try { Assert.Equal(rows, GemmDriver.SplitRows<float, MicroKernel512<float>>(g, 2)); }
        finally { GemmDriver.ForcedInPlace = null; }
    }

    // An operand read in place costs no packing, so the split cuts the one that is packed: at 256² the 12×32 kernel reads
    // the rows of A where they lie (up to 512 columns of C), so B, which both threads would pack whole under a row
    // split, is cut (columns); at 1536² (768 columns a thread) A is packed again, and the row split packs it once in all.
    [Theory]
    [InlineData(256, false)]
    [InlineData(1536, true)]
    public unsafe void TwoThreadSplit_CutsThePackedOperand(int size, bool rows)
    {
        var g = new GemmArgs<float>(false, false, size, size, size, 1f, null, size, null, size, 0f, null, size);
        Assert.Equal(rows, GemmDriver.SplitRows<float, MicroKernel512<float>>(g, 2));
    }

    // At 128² the two splits cost the same work; a column cut off the cache lines of C makes both threads write a line of
    // every row, so the rows are cut then, and the columns only when the cut falls on line boundaries of every row.
    [Theory]
    [InlineData(0, 128, true)]    // C at address 0, rows of 512 bytes: the cut at column 64 lies on a line boundary
    [InlineData(16, 128, false)]  // C 16 bytes past a line: every row's cut shares a line
    [InlineData(0, 130, false)]   // rows of 520 bytes: most rows' cuts share a line
    public unsafe void TwoThreadSplit_AvoidsColumnCutsThroughCacheLines(int cOffset, int ldc, bool columns)
    {
        var g = new GemmArgs<float>(false, false, 128, 128, 128, 1f, null, 128, null, 128, 0f, (float*)cOffset, ldc);
        Assert.Equal(!columns, GemmDriver.SplitRows<float, MicroKernel512<float>>(g, 2));
    }

    [Theory]
    [InlineData(0, 5, 3)]
    [InlineData(4, 0, 3)]
    [InlineData(4, 5, 0)]
    public void EmptySizes_FollowBlas(int m, int n, int k)
    {
        float[] c = new float[m * n];
        Array.Fill(c, 3f);
        Gemm.Sgemm(false, false, m, n, k, 1f, new float[m * k], Math.Max(k, 0), new float[k * n], n, 2f, c, n);
        Assert.All(c, v => Assert.Equal(6f, v)); // k == 0: C = beta·C
        Array.Fill(c, float.NaN);
        Gemm.Sgemm(false, false, m, n, k, 1f, new float[m * k], k, new float[k * n], n, 0f, c, n);
        Assert.All(c, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void AlphaZero_ScalesCWithoutReadingOperands()
    {
        float[] a = [float.NaN, float.NaN, float.NaN, float.NaN], c = [1f, 2f, 3f, 4f];
        Gemm.Sgemm(false, false, 2, 2, 2, 0f, a, 2, a, 2, 0.5f, c, 2);
        Assert.Equal([0.5f, 1f, 1.5f, 2f], c);
    }

    [Fact]
    public void TooShortSpan_Throws()
    {
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 3, 3, 3, 1f, new float[8], 3, new float[9], 3, 0f, new float[9], 3));
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 3, 3, 3, 1f, new float[9], 2, new float[9], 3, 0f, new float[9], 3));
    }

    public static TheoryData<string, bool, bool, int, int, int> ThreadCases()
    {
        var data = new TheoryData<string, bool, bool, int, int, int>();
        foreach (string isa in Isas())
        {
            data.Add(isa, false, false, 300, 700, 600); // split over rows (A needs the transposing pack)
            data.Add(isa, true, true, 700, 300, 600);   // split over columns (B needs it)
            data.Add(isa, false, true, 64, 3136, 576);  // conv-like
            data.Add(isa, true, false, 2000, 10, 300);  // narrow n: computed as Cᵀ, split over the swapped columns
            data.Add(isa, false, false, 257, 259, 1100); // edge tiles on both sides, several k-slices
            data.Add(isa, true, false, 121, 130, 100);   // both operands read in place, edge panels packed
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ThreadCases))]
    public void ThreadCount_DoesNotChangeBits(string isa, bool ta, bool tb, int m, int n, int k) => WithIsa(isa, () =>
    {
        var (a, b, lda, ldb) = Operands<float>(ta, tb, m, n, k, pad: 1, seed: 11);
        float[] one = Random<float>(m * n, 5), two = (float[])one.Clone();
        int saved = ParallelRange.MaxThreads;
        try
        {
            ParallelRange.MaxThreads = 1;
            Gemm.Sgemm(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, one, n);
            ParallelRange.MaxThreads = 2;
            Gemm.Sgemm(ta, tb, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, two, n);
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
        }
        Assert.True(one.AsSpan().SequenceEqual(two), $"{isa}: results differ between 1 and 2 threads");
    });

    // The 12-row AVX-512 kernel runs the rows past its last whole tile as 8-row tiles (M mod 12 = 8: one, 4: two), the
    // 6-row AVX2 kernel as 4-row tiles (M mod 6 = 4: one, 2: two), A read in place or packed, instead of a zero-padded
    // tile: bit for bit the same C as the padded tile, with A transposed or not, edge columns, several k-slices, beta 0
    // or not, a bias, 1 and 2 threads, float and double.
    [Theory]
    [InlineData(false, false, 256, 256, 256, 0.0, 1, false)]
    [InlineData(false, true, 128, 256, 784, 0.0, 1, false)]
    [InlineData(false, true, 128, 256, 784, 0.0, 2, true)]
    [InlineData(true, false, 20, 70, 130, 0.5, 1, false)]
    [InlineData(false, false, 44, 45, 1100, 0.5, 2, false)]
    [InlineData(true, true, 28, 100, 40, 0.0, 1, true)]
    [InlineData(false, false, 52, 33, 9, 0.5, 2, false)]
    [InlineData(false, false, 128, 600, 300, 0.5, 1, false)]  // A packed (over 512 columns): packed short panels
    [InlineData(true, false, 256, 130, 700, 0.0, 2, true)]
    [InlineData(false, true, 44, 700, 1100, 0.0, 2, false)]
    [InlineData(false, false, 28, 100, 40, 0.5, 1, false)]
    public void ShortTail_BitIdenticalToPackedTile(bool ta, bool tb, int m, int n, int k, double beta, int threads, bool bias)
    {
        // The 12-row kernel's 8-row tails, then the 6-row kernel's 4-row tails (each only where the hardware has it).
        if (Vector512.IsHardwareAccelerated) SameBitsWithAndWithoutTail(nameof(GemmIsa.Vector512), ta, tb, m, n, k, beta, threads, bias);
        if (Vector256.IsHardwareAccelerated) SameBitsWithAndWithoutTail(nameof(GemmIsa.Vector256), ta, tb, m, n, k, beta, threads, bias);
    }

    static void SameBitsWithAndWithoutTail(string isa, bool ta, bool tb, int m, int n, int k, double beta, int threads, bool bias) =>
        WithIsa(isa, () =>
        {
            int saved = ParallelRange.MaxThreads;
            ParallelRange.MaxThreads = threads;
            try
            {
                SameBitsWithAndWithoutTail<float>(ta, tb, m, n, k, (float)beta, bias);
                SameBitsWithAndWithoutTail<double>(ta, tb, m, n, k, beta, bias);
            }
            finally
            {
                ParallelRange.MaxThreads = saved;
                GemmDriver.ForcedShortTail = null;
            }
        });

    [Theory]
    [InlineData(256, 16, 4)]
    [InlineData(128, 8, 8)]
    [InlineData(8, 8, 8)]
    [InlineData(16, 16, 4)]
    [InlineData(4, 0, 4)]
    [InlineData(2, 0, 0)]
    [InlineData(132, 0, 0)]
    [InlineData(13, 0, 0)]
    [InlineData(64, 16, 4)]
    public void ShortTailRows_WholeShortTiles(int m, int tail12, int tail6)
    {
        Assert.Equal(tail12, GemmDriver.ShortTailRows<float, MicroKernel512<float>>(m));
        Assert.Equal(tail6, GemmDriver.ShortTailRows<float, MicroKernel256<float>>(m));
    }

    static void SameBitsWithAndWithoutTail<T>(bool ta, bool tb, int m, int n, int k, T beta, bool bias)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (a, b, lda, ldb) = Operands<T>(ta, tb, m, n, k, pad: 3, seed: m + k);
        T[] packed = Random<T>(m * n, 17), tail = (T[])packed.Clone(), expected = (T[])packed.Clone(), row = Random<T>(n, 5);
        T alpha = T.CreateChecked(0.75);
        void Call(T[] c)
        {
            if (typeof(T) == typeof(float))
            {
                if (bias) Gemm.SgemmWithBias(ta, tb, m, n, k, (float)(object)alpha, (float[])(object)a, lda, (float[])(object)b, ldb, (float[])(object)row, (float[])(object)c, n);
                else Gemm.Sgemm(ta, tb, m, n, k, (float)(object)alpha, (float[])(object)a, lda, (float[])(object)b, ldb, (float)(object)beta, (float[])(object)c, n);
            }
            else if (bias) Gemm.DgemmWithBias(ta, tb, m, n, k, (double)(object)alpha, (double[])(object)a, lda, (double[])(object)b, ldb, (double[])(object)row, (double[])(object)c, n);
            else Gemm.Dgemm(ta, tb, m, n, k, (double)(object)alpha, (double[])(object)a, lda, (double[])(object)b, ldb, (double)(object)beta, (double[])(object)c, n);
        }
        GemmDriver.ForcedShortTail = false;
        Call(packed);
        GemmDriver.ForcedShortTail = true;
        Call(tail);
        Assert.True(packed.AsSpan().SequenceEqual(tail), $"{typeof(T).Name} {m}×{n}×{k} ta={ta} tb={tb} bias={bias}: the 8-row tail tiles change the bits");
        if (bias)
        {
            for (int i = 0; i < m; i++) Array.Copy(row, 0, expected, i * n, n);
            beta = T.One;
        }
        Gemm.Reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, expected, n);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(double.Abs(double.CreateChecked(tail[i] - expected[i])) <= 1e-3, $"{typeof(T).Name} {m}×{n}×{k}: C[{i}] = {tail[i]}, expected {expected[i]}");
    }

    // The Vector128 kernel over broadcast A panels (x86 without FMA) does the multiply-adds of the plain one in the same
    // order: bit for bit the same C, on one thread and on both threaded paths, with edge tiles, several k-slices,
    // A transposed or not, beta 0 or not, float and double.
    [Theory]
    [InlineData(false, false, 13, 130, 40, 0.0, 1, false)]
    [InlineData(false, true, 131, 200, 1100, 0.5, 1, false)]
    [InlineData(true, false, 97, 150, 300, 0.5, 1, false)]
    [InlineData(true, true, 200, 180, 600, 0.0, 2, false)]
    [InlineData(false, false, 300, 257, 520, 0.5, 2, false)]
    [InlineData(false, true, 300, 257, 520, 0.5, 2, true)]
    public void BroadcastPanels_BitIdenticalToPlainKernel(bool ta, bool tb, int m, int n, int k, double beta, int threads, bool shared) =>
        WithIsa("Vector128", () =>
        {
            int saved = ParallelRange.MaxThreads;
            GemmDriver.ForcedSharedPacking = shared;
            ParallelRange.MaxThreads = threads;
            try
            {
                SameBitsWithAndWithoutBroadcast<float>(ta, tb, m, n, k, (float)beta);
                SameBitsWithAndWithoutBroadcast<double>(ta, tb, m, n, k, beta);
            }
            finally
            {
                ParallelRange.MaxThreads = saved;
                GemmDriver.ForcedSharedPacking = null;
                GemmDriver.ForcedBroadcastA = null;
            }
        });

    static void SameBitsWithAndWithoutBroadcast<T>(bool ta, bool tb, int m, int n, int k, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (a, b, lda, ldb) = Operands<T>(ta, tb, m, n, k, pad: 3, seed: m + k);
        T[] plain = Random<T>(m * n, 17), broadcast = (T[])plain.Clone(), expected = (T[])plain.Clone();
        T alpha = T.CreateChecked(0.75);
        void Call(T[] c)
        {
            if (typeof(T) == typeof(float))
                Gemm.Sgemm(ta, tb, m, n, k, (float)(object)alpha, (float[])(object)a, lda, (float[])(object)b, ldb, (float)(object)beta, (float[])(object)c, n);
            else
                Gemm.Dgemm(ta, tb, m, n, k, (double)(object)alpha, (double[])(object)a, lda, (double[])(object)b, ldb, (double)(object)beta, (double[])(object)c, n);
        }
        GemmDriver.ForcedBroadcastA = false;
        Call(plain);
        GemmDriver.ForcedBroadcastA = true;
        Call(broadcast);
        Assert.True(plain.AsSpan().SequenceEqual(broadcast), $"{typeof(T).Name} {m}×{n}×{k} ta={ta} tb={tb}: broadcast panels change the bits");
        Gemm.Reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, expected, n);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(double.Abs(double.CreateChecked(broadcast[i] - expected[i])) <= 1e-3, $"{typeof(T).Name} {m}×{n}×{k}: C[{i}] = {broadcast[i]}, expected {expected[i]}");
    }

    // A helper that wakes too late to join (held back here) leaves the caller to compute the whole product: on both
    // threaded paths the call must still return, with the single-threaded bits.
    [Theory]
    [MemberData(nameof(SharedPackingCases))]
    public void LateHelper_CallerComputesAll_SameBits(string isa, bool shared) => WithIsa(isa, () =>
    {
        const int m = 200, n = 180, k = 150;
        var (a, b, lda, ldb) = Operands<float>(false, true, m, n, k, pad: 1, seed: 3);
        float[] one = Random<float>(m * n, 9), two = (float[])one.Clone();
        int saved = ParallelRange.MaxThreads;
        using var hold = new ManualResetEventSlim(false);
        GemmDriver.ForcedSharedPacking = shared;
        try
        {
            ParallelRange.MaxThreads = 1;
            Gemm.Sgemm(false, true, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, one, n);
            ParallelRange.MaxThreads = 2;
            WorkerPool.HelperHold = hold;
            var run = new Thread(() => Gemm.Sgemm(false, true, m, n, k, 0.75f, a, lda, b, ldb, 0.5f, two, n));
            run.Start();
            Assert.True(run.Join(TimeSpan.FromSeconds(20)), $"{isa}: the call waited for a helper that never joined");
        }
        finally
        {
            WorkerPool.HelperHold = null;
            hold.Set();
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedSharedPacking = null;
        }
        Assert.True(one.AsSpan().SequenceEqual(two), $"{isa} shared={shared}: results differ between 1 thread and a late helper");
    });

    // Tiny blocks make a threaded product of many blocks (row blocks × 16-deep slices × column blocks): with shared
    // packing the buffers alternate between blocks and every slice accumulates onto the one before it. On both threaded
    // paths the result must match the reference and, bit for bit, the single-threaded result.
    [Theory]
    [MemberData(nameof(SharedPackingCases))]
    public void SmallBlocking_ThreadCountDoesNotChangeBits(string isa, bool shared) => WithIsa(isa, () =>
    {
        GemmIsa width = Enum.Parse<GemmIsa>(isa);
        int mr = width == GemmIsa.Vector512 ? 12 : 6;
        int nr = 2 * (width == GemmIsa.Vector512 ? Vector512<float>.Count : width == GemmIsa.Vector256 ? Vector256<float>.Count : Vector128<float>.Count);
        GemmDriver.ForcedBlocking = new GemmBlocking(16, 2 * mr, 2 * nr);
        GemmDriver.ForcedSharedPacking = shared;
        int saved = ParallelRange.MaxThreads;
        try
        {
            // All above the threading threshold (80³ multiply-adds); the last has fewer A slivers than threads × 8.
            foreach (var (m, n, k) in new[] { (7 * mr + 5, 9 * nr + 3, 150), (100, 90, 70), (2 * mr, 120 * nr, 120) })
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                    {
                        var (a, b, lda, ldb) = Operands<float>(ta, tb, m, n, k, pad: 2, seed: m + n);
                        float[] one = Random<float>(m * n, 7), two = (float[])one.Clone(), expected = (float[])one.Clone();
                        Gemm.Reference(ta, tb, m, n, k, 1.5f, a, lda, b, ldb, 0.5f, expected, n);
                        ParallelRange.MaxThreads = 1;
                        Gemm.Sgemm(ta, tb, m, n, k, 1.5f, a, lda, b, ldb, 0.5f, one, n);
                        ParallelRange.MaxThreads = 2;
                        Gemm.Sgemm(ta, tb, m, n, k, 1.5f, a, lda, b, ldb, 0.5f, two, n);
                        Assert.True(one.AsSpan().SequenceEqual(two), $"{isa} {m}×{n}×{k} ta={ta} tb={tb}: 1 and 2 threads differ");
                        for (int i = 0; i < expected.Length; i++)
                            Assert.True(Math.Abs(two[i] - expected[i]) <= 1e-3f, $"{isa} {m}×{n}×{k} ta={ta} tb={tb}: C[{i}] = {two[i]}, expected {expected[i]}");
                    }
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedBlocking = null;
            GemmDriver.ForcedSharedPacking = null;
        }
    });

    public static TheoryData<string, bool> SharedPackingCases()
    {
        var data = new TheoryData<string, bool>();
        foreach (string isa in Isas())
        {
            data.Add(isa, true);
            data.Add(isa, false);
        }
        return data;
    }

    static void CheckAll<T>(double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int seed = 0;
        foreach (var (m, n, k) in Shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    foreach (var (alpha, beta) in Scalars)
                    {
                        int pad = seed % 3 == 0 ? 0 : seed % 5 + 1; // minimum and larger leading dimensions
                        Check<T>(ta, tb, m, n, k, T.CreateChecked(alpha), T.CreateChecked(beta), pad, seed++, tolerance);
                    }
    }

    static void Check<T>(bool ta, bool tb, int m, int n, int k, T alpha, T beta, int pad, int seed, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (a, b, lda, ldb) = Operands<T>(ta, tb, m, n, k, pad, seed);
        int ldc = n + pad;
        T[] c = Random<T>(Math.Max(0, (m - 1) * ldc + n), seed + 1000);
        T[] expected = (T[])c.Clone();
        Gemm.Reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
        // The error bound scales with Σ|a·b| + |beta·c|, computed by the same oracle on absolute values.
        T[] scale = c.Select(T.Abs).ToArray();
        Gemm.Reference(ta, tb, m, n, k, T.Abs(alpha), a.Select(T.Abs).ToArray(), lda, b.Select(T.Abs).ToArray(), ldb, T.Abs(beta), scale, ldc);

        if (typeof(T) == typeof(float))
            Gemm.Sgemm(ta, tb, m, n, k, (float)(object)alpha, (float[])(object)a, lda, (float[])(object)b, ldb, (float)(object)beta, (float[])(object)c, ldc);
        else
            Gemm.Dgemm(ta, tb, m, n, k, (double)(object)alpha, (double[])(object)a, lda, (double[])(object)b, ldb, (double)(object)beta, (double[])(object)c, ldc);

        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                int at = i * ldc + j;
                double diff = Math.Abs(double.CreateChecked(c[at] - expected[at]));
                double bound = tolerance * (double.CreateChecked(scale[at]) + 1e-30);
                Assert.True(diff <= bound,
                    $"{typeof(T).Name} transA={ta} transB={tb} m={m} n={n} k={k} alpha={alpha} beta={beta} pad={pad}: " +
                    $"C[{i},{j}] = {c[at]}, expected {expected[at]} (diff {diff:G3} > {bound:G3})");
            }
        // Padding between rows of C must be untouched.
        for (int i = 0; i + 1 < m; i++)
            for (int j = n; j < ldc; j++)
                Assert.Equal(expected[i * ldc + j], c[i * ldc + j]);
    }

    static (T[] A, T[] B, int Lda, int Ldb) Operands<T>(bool ta, bool tb, int m, int n, int k, int pad, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + pad, ldb = bCols + pad;
        return (Random<T>(Math.Max(0, (aRows - 1) * lda + aCols), seed * 2 + 1), Random<T>(Math.Max(0, (bRows - 1) * ldb + bCols), seed * 2 + 2), lda, ldb);
    }

    static T[] Random<T>(int length, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        var data = new T[length];
        for (int i = 0; i < length; i++) data[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        return data;
    }

    static void WithInPlace(bool inPlace, Action test)
    {
        GemmDriver.ForcedInPlace = inPlace;
        try { test(); }
        finally { GemmDriver.ForcedInPlace = null; }
    }

    internal static void WithIsa(string isa, Action test)
    {
        GemmDriver.ForcedIsa = Enum.Parse<GemmIsa>(isa);
        try { test(); }
        finally { GemmDriver.ForcedIsa = GemmIsa.Auto; }
    }
}
