using Ember.Kernels.Gemm;
using Ember.Kernels.Numerics;
using Ember.Kernels.Threading;

namespace Ember.Tests.Kernels;

/// <summary>
/// HalfGemm (half operands widened inside the packing step) against Sgemm on the same operands converted to float32
/// first, bit for bit: on every micro-kernel width, both transposes, edge tiles, tiny blocks, one and two threads, the
/// shared-packing path, and with in-place reading forced (which the float reference then uses and the half operands
/// must not).
/// </summary>
[Collection(KernelSettingsCollection.Name)]
public sealed class HalfGemmTests
{
    static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (2, 3, 1), (5, 7, 3), (1, 40, 9), (40, 1, 9), (11, 31, 5), (12, 32, 16), (13, 33, 17),
        (7, 9, 255), (145, 35, 257), (3, 130, 70), (64, 70, 288), (128, 10, 128), (37, 129, 300), (32, 45, 20),
    ];

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        var isas = new List<string> { nameof(GemmIsa.Vector128) };
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) isas.Add(nameof(GemmIsa.Vector256));
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) isas.Add(nameof(GemmIsa.Vector512));
        foreach (var isa in isas)
        {
            data.Add(isa, false);
            data.Add(isa, true);
        }
        return data;
    }

    // The float32 micro-kernel's register tile (MR rows × NR columns) on each path, for blockings of a few tiles.
    static (int Mr, int Nr) RegisterTileOf(string isa) => Enum.Parse<GemmIsa>(isa) switch
    {
        GemmIsa.Vector512 => (12, 32),
        GemmIsa.Vector256 => (6, 16),
        _ => (6, 8),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesConvertThenSgemm_BitForBit(string isa, bool bfloat) => WithIsa(isa, () =>
    {
        int seed = 10;
        foreach (var (m, n, k) in Shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    Check(bfloat, ta, tb, m, n, k, seed % 3, seed++, seed % 2 == 0 ? (1f, 0f) : (0.75f, 0.5f), $"{isa}");
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void ThreadsSharedPackingAndTinyBlocks_StillBitIdentical(string isa, bool bfloat) => WithIsa(isa, () =>
    {
        var (mr, nr) = RegisterTileOf(isa);
        int saved = ParallelRange.MaxThreads;
        try
        {
            ParallelRange.MaxThreads = 2;
            foreach (bool? shared in new bool?[] { true, false })
                foreach (var blocking in new GemmBlocking?[] { null, new GemmBlocking(16, 2 * mr, 2 * nr) })
                {
                    GemmDriver.ForcedSharedPacking = shared;
                    GemmDriver.ForcedBlocking = blocking;
                    int seed = 70;
                    foreach (var (m, n, k) in new[] { (100, 90, 70), (7 * mr + 5, 9 * nr + 3, 150), (2 * mr, 40 * nr, 120) })
                        foreach (bool ta in new[] { false, true })
                            foreach (bool tb in new[] { false, true })
                                Check(bfloat, ta, tb, m, n, k, 1, seed++, (1.5f, 0.5f), $"{isa} shared={shared} blocking={blocking}");
                }
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedSharedPacking = null;
            GemmDriver.ForcedBlocking = null;
        }
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void InPlaceForced_HalfOperandsArePackedAnyway(string isa, bool bfloat) => WithIsa(isa, () =>
    {
        GemmDriver.ForcedInPlace = true;
        try
        {
            int seed = 40;
            foreach (var (m, n, k) in new[] { (13, 33, 17), (64, 64, 64), (1, 40, 9), (40, 1, 9), (37, 129, 300) })
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                        Check(bfloat, ta, tb, m, n, k, 2, seed++, (1f, 0f), $"{isa} in place");
        }
        finally { GemmDriver.ForcedInPlace = null; }
    });

    // NaN and ±inf in the operands travel through the widening exactly as through the float32 copy.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SpecialValues_MatchConvertThenSgemm(bool bfloat)
    {
        const int m = 20, n = 40, k = 30;
        var a = RandomFloats(m * k, 5);
        var b = RandomFloats(k * n, 6);
        a[3] = float.NaN; a[50] = float.PositiveInfinity; b[77] = float.NegativeInfinity; b[100] = -0f;
        Run(bfloat, false, false, m, n, k, a, k, b, n, 1f, 0f, new float[m * n], n, out var half, out var reference);
        for (int i = 0; i < half.Length; i++)
            Assert.True(BitConverter.SingleToUInt32Bits(half[i]) == BitConverter.SingleToUInt32Bits(reference[i]), $"C[{i}] = {half[i]}, expected {reference[i]}");
        Assert.Contains(half, float.IsNaN);
    }

    [Fact]
    public void ShortOperand_NamesIt()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            HalfGemm.Multiply(false, false, 4, 4, 4, 1f, new BFloat16[15], 4, new BFloat16[16], 4, 0f, new float[16], 4));
        Assert.Contains("A has 15 elements", e.Message);
    }

    // ---- half C: the product rounded as the GEMM stores it, against the float32-C product converted afterwards ----

    static readonly (int M, int N, int K)[] HalfCShapes =
    [
        (1, 1, 1), (5, 7, 3), (1, 40, 9), (40, 1, 9), (13, 33, 17), (12, 32, 16), (24, 64, 128), (145, 35, 257),
        (128, 10, 128), (100, 3, 50), (37, 129, 300), (64, 70, 600), (30, 50, 1100),
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void HalfC_MatchesFloatCThenRound_BitForBit(string isa, bool bfloat) => WithIsa(isa, () =>
    {
        int seed = 200;
        foreach (var (m, n, k) in HalfCShapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    CheckHalfC(bfloat, ta, tb, m, n, k, seed % 3, seed++, seed % 4 == 0 ? 0.75f : 1f, 2, $"{isa}");
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void HalfC_ThreadsSharedPackingTinyBlocksInPlace_StillBitIdentical(string isa, bool bfloat) => WithIsa(isa, () =>
    {
        var (mr, nr) = RegisterTileOf(isa);
        int saved = ParallelRange.MaxThreads;
        try
        {
            ParallelRange.MaxThreads = 2;
            foreach (bool? shared in new bool?[] { true, false })
                foreach (var blocking in new GemmBlocking?[] { null, new GemmBlocking(16, 2 * mr, 2 * nr) })
                    foreach (bool? inPlace in new bool?[] { null, true })
                    {
                        GemmDriver.ForcedSharedPacking = shared;
                        GemmDriver.ForcedBlocking = blocking;
                        GemmDriver.ForcedInPlace = inPlace;
                        int seed = 300;
                        foreach (var (m, n, k) in new[] { (100, 90, 70), (7 * mr + 5, 9 * nr + 3, 150), (2 * mr, 40 * nr, 120), (90, 4, 40) })
                            foreach (bool ta in new[] { false, true })
                                foreach (bool tb in new[] { false, true })
                                    CheckHalfC(bfloat, ta, tb, m, n, k, 1, seed++, 1f, 2, $"{isa} shared={shared} blocking={blocking} inPlace={inPlace}");
                    }
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedSharedPacking = null;
            GemmDriver.ForcedBlocking = null;
            GemmDriver.ForcedInPlace = null;
        }
    });

    // Sums past float16's range (±inf), NaN and tiny products (subnormal results) round as the conversion rounds them.
    [Theory]
    [MemberData(nameof(Cases))]
    public void HalfC_OverflowNaNAndSubnormals_MatchFloatCThenRound(string isa, bool bfloat) => WithIsa(isa, () =>
    {
        int seed = 400;
        foreach (float scale in new[] { 300f, 1e-3f })
            foreach (var (m, n, k) in new[] { (13, 33, 17), (30, 50, 700) })
                CheckHalfC(bfloat, false, true, m, n, k, 0, seed++, 1f, scale, $"{isa} scale {scale}", nan: seed % 2 == 0);
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HalfC_EmptyDepth_WritesZerosInsideCOnly(bool bfloat)
    {
        const int m = 3, n = 4, ldc = 6;
        var c = new ushort[(m - 1) * ldc + n];
        Array.Fill(c, (ushort)0x1234);
        if (bfloat)
            HalfGemm.Multiply(false, false, m, n, 0, 1f, ReadOnlySpan<BFloat16>.Empty, 1, ReadOnlySpan<BFloat16>.Empty, n,
                System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, BFloat16>(c.AsSpan()), ldc);
        else
            HalfGemm.Multiply(false, false, m, n, 0, 1f, ReadOnlySpan<Half>.Empty, 1, ReadOnlySpan<Half>.Empty, n,
                System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, Half>(c.AsSpan()), ldc);
        for (int i = 0; i < c.Length; i++)
            Assert.Equal(i % ldc < n ? 0 : 0x1234, c[i]);
    }

    [Fact]
    public void HalfC_ShortC_NamesIt()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            HalfGemm.Multiply(false, false, 4, 4, 4, 1f, new Half[16], 4, new Half[16], 4, new Half[15], 4));
        Assert.Contains("C has 15 elements", e.Message);
    }

    // The half-C product against HalfGemm's float32-C product (beta 0) rounded by the span conversion the tensors used
    // before (TensorPrimitives for float16, BFloat16Conversion): every element's bits, and the padding past each row of
    // C (ldc > n) left as it was.
    static void CheckHalfC(bool bfloat, bool ta, bool tb, int m, int n, int k, int pad, int seed, float alpha, float range, string label, bool nan = false)
    {
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad % 2;
        var a = RandomFloats(Math.Max(0, (aRows - 1) * lda + aCols), seed * 2 + 1, range);
        var b = RandomFloats(Math.Max(0, (bRows - 1) * ldb + bCols), seed * 2 + 2, range);
        if (nan && a.Length > 3) a[3] = float.NaN;
        int cLength = Math.Max(0, (m - 1) * ldc + n);
        var wide = new float[cLength];
        var expected = new ushort[cLength];
        var actual = new ushort[cLength];
        Array.Fill(actual, (ushort)0x1234);
        if (bfloat)
        {
            var ha = Rounded<BFloat16>(a); var hb = Rounded<BFloat16>(b);
            HalfGemm.Multiply(ta, tb, m, n, k, alpha, ha, lda, hb, ldb, 0f, wide, ldc);
            BFloat16Conversion.FromSingle(wide, System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, BFloat16>(expected.AsSpan()));
            HalfGemm.Multiply(ta, tb, m, n, k, alpha, ha, lda, hb, ldb, System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, BFloat16>(actual.AsSpan()), ldc);
        }
        else
        {
            var ha = Rounded<Half>(a); var hb = Rounded<Half>(b);
            HalfGemm.Multiply(ta, tb, m, n, k, alpha, ha, lda, hb, ldb, 0f, wide, ldc);
            System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(wide, System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, Half>(expected.AsSpan()));
            HalfGemm.Multiply(ta, tb, m, n, k, alpha, ha, lda, hb, ldb, System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, Half>(actual.AsSpan()), ldc);
        }
        for (int i = 0; i < cLength; i++)
        {
            ushort want = i % ldc < n ? expected[i] : (ushort)0x1234;
            if (actual[i] != want)
                Assert.Fail($"{label} {(bfloat ? "bf16" : "fp16")} {m}×{n}×{k} ta={ta} tb={tb} alpha={alpha}: C[{i}] = 0x{actual[i]:X4}, float32 C then round gives 0x{want:X4}");
        }
    }

    static T[] Rounded<T>(float[] v) where T : unmanaged => HalfTestData.Round<T>(v);

    static void Check(bool bfloat, bool ta, bool tb, int m, int n, int k, int pad, int seed, (float Alpha, float Beta) s, string label)
    {
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad % 2;
        var a = RandomFloats(Math.Max(0, (aRows - 1) * lda + aCols), seed * 2 + 1);
        var b = RandomFloats(Math.Max(0, (bRows - 1) * ldb + bCols), seed * 2 + 2);
        var c = RandomFloats(Math.Max(0, (m - 1) * ldc + n), seed + 1000);
        Run(bfloat, ta, tb, m, n, k, a, lda, b, ldb, s.Alpha, s.Beta, c, ldc, out var half, out var reference);
        for (int i = 0; i < half.Length; i++)
            if (BitConverter.SingleToUInt32Bits(half[i]) != BitConverter.SingleToUInt32Bits(reference[i]))
                Assert.Fail($"{label} {(bfloat ? "bf16" : "fp16")} {m}×{n}×{k} ta={ta} tb={tb}: C[{i}] = {half[i]:R}, convert-then-Sgemm gives {reference[i]:R}");
    }

    // Rounds a and b to the half type, then multiplies them both ways: HalfGemm on the half arrays, and Sgemm on float32
    // arrays widened element by element with the scalar casts.
    static void Run(bool bfloat, bool ta, bool tb, int m, int n, int k, float[] a, int lda, float[] b, int ldb, float alpha, float beta,
        float[] c, int ldc, out float[] half, out float[] reference)
    {
        half = (float[])c.Clone();
        reference = (float[])c.Clone();
        float[] wa = new float[a.Length], wb = new float[b.Length];
        if (bfloat)
        {
            var ha = new BFloat16[a.Length]; var hb = new BFloat16[b.Length];
            for (int i = 0; i < a.Length; i++) { ha[i] = (BFloat16)a[i]; wa[i] = ha[i]; }
            for (int i = 0; i < b.Length; i++) { hb[i] = (BFloat16)b[i]; wb[i] = hb[i]; }
            HalfGemm.Multiply(ta, tb, m, n, k, alpha, ha, lda, hb, ldb, beta, half, ldc);
        }
        else
        {
            var ha = new Half[a.Length]; var hb = new Half[b.Length];
            for (int i = 0; i < a.Length; i++) { ha[i] = (Half)a[i]; wa[i] = (float)ha[i]; }
            for (int i = 0; i < b.Length; i++) { hb[i] = (Half)b[i]; wb[i] = (float)hb[i]; }
            HalfGemm.Multiply(ta, tb, m, n, k, alpha, ha, lda, hb, ldb, beta, half, ldc);
        }
        Gemm.Sgemm(ta, tb, m, n, k, alpha, wa, lda, wb, ldb, beta, reference, ldc);
    }

    static float[] RandomFloats(int length, int seed, float range = 2)
    {
        var rng = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) * range;
        return data;
    }

    static void WithIsa(string isa, Action test)
    {
        GemmDriver.ForcedIsa = Enum.Parse<GemmIsa>(isa);
        try { test(); }
        finally { GemmDriver.ForcedIsa = GemmIsa.Auto; }
    }
}
