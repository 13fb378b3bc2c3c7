using System.Runtime.Intrinsics;
using Ember.Kernels.Gemm;
using Ember.Kernels.Threading;

namespace Ember.Tests.Kernels;

/// <summary>
/// The bias epilogue of <see cref="Gemm.SgemmWithBias"/> (C = alpha·op(A)·op(B) + bias on every row): bit for bit the product with
/// beta 1 onto a C filled with the bias, on every micro-kernel width, edge tiles, several k-slices, narrow products (never
/// swapped), both threaded paths; and the reference values.
/// </summary>
[Collection(KernelSettingsCollection.Name)]
public sealed class GemmBiasTests
{
    static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (5, 7, 3), (6, 16, 4), (13, 33, 17), (12, 32, 16), (7, 9, 255), (145, 35, 257), (24, 64, 513),
        (128, 10, 128), (2000, 10, 30), (64, 128, 128), (37, 129, 300), (32, 45, 20),
    ];

    public static TheoryData<string> Isas() => GemmTests.Isas();

    [Theory]
    [MemberData(nameof(Isas))]
    public void Bias_BitIdenticalToBetaOneOntoFilledC(string isa) => GemmTests.WithIsa(isa, () =>
    {
        int seed = 40;
        foreach (var (m, n, k) in Shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    CheckAgainstFilled(ta, tb, m, n, k, 1f, seed);
                    CheckAgainstFilled(ta, tb, m, n, k, 0.75f, seed + 1);
                    seed += 2;
                }
    });

    // Tiny blocks: several k-slices (only the first starts from the bias), edge blocks both ways, and both threaded paths.
    [Theory]
    [MemberData(nameof(GemmTests.SharedPackingCases), MemberType = typeof(GemmTests))]
    public void Bias_SmallBlockingAndThreads_SameBits(string isa, bool shared) => GemmTests.WithIsa(isa, () =>
    {
        GemmIsa width = Enum.Parse<GemmIsa>(isa);
        int mr = width == GemmIsa.Vector512 ? 12 : 6;
        int nr = 2 * (width == GemmIsa.Vector512 ? Vector512<float>.Count : width == GemmIsa.Vector256 ? Vector256<float>.Count : Vector128<float>.Count);
        GemmDriver.ForcedBlocking = new GemmBlocking(16, 2 * mr, 2 * nr);
        GemmDriver.ForcedSharedPacking = shared;
        int saved = ParallelRange.MaxThreads;
        try
        {
            int seed = 70;
            foreach (var (m, n, k) in new[] { (7 * mr + 5, 9 * nr + 3, 150), (100, 90, 70), (2 * mr, 120 * nr, 37) })
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                        foreach (int threads in new[] { 1, 2 })
                        {
                            ParallelRange.MaxThreads = threads;
                            CheckAgainstFilled(ta, tb, m, n, k, 1.5f, seed++);
                        }
        }
        finally
        {
            ParallelRange.MaxThreads = saved;
            GemmDriver.ForcedBlocking = null;
            GemmDriver.ForcedSharedPacking = null;
        }
    });

    [Fact]
    public void Bias_MatchesReference_Double()
    {
        const int m = 37, n = 41, k = 300;
        var rng = new Random(5);
        double[] a = Enumerable.Range(0, m * k).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double[] b = Enumerable.Range(0, n * k).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double[] bias = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
        double[] c = new double[m * n], expected = new double[m * n];
        for (int i = 0; i < m; i++) bias.CopyTo(expected, i * n);
        Gemm.Reference(false, true, m, n, k, 2d, a, k, b, k, 1d, expected, n);
        Gemm.DgemmWithBias(false, true, m, n, k, 2d, a, k, b, k, bias, c, n);
        for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(c[i] - expected[i]) <= 1e-12, $"C[{i}] = {c[i]}, expected {expected[i]}");
    }

    // k = 0 and alpha = 0 leave the product out: every row of C is the bias (NaN in C is overwritten, NaN in A not read).
    [Fact]
    public void Bias_EmptyProduct_IsTheBias()
    {
        float[] bias = [1f, -2f, 3f], c = new float[6];
        Array.Fill(c, float.NaN);
        Gemm.SgemmWithBias(false, false, 2, 3, 0, 1f, [], 0, [], 3, bias, c, 3);
        Assert.Equal([1f, -2f, 3f, 1f, -2f, 3f], c);
        Array.Fill(c, float.NaN);
        float[] nan = [float.NaN, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN];
        Gemm.SgemmWithBias(false, false, 2, 3, 2, 0f, nan, 2, nan, 3, bias, c, 3);
        Assert.Equal([1f, -2f, 3f, 1f, -2f, 3f], c);
    }

    [Fact]
    public void Bias_OfWrongLength_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.SgemmWithBias(false, false, 2, 3, 2, 1f, new float[4], 2, new float[6], 3, new float[2], new float[6], 3));
        Assert.Contains("bias of n = 3", e.Message);
    }

    static void CheckAgainstFilled(bool ta, bool tb, int m, int n, int k, float alpha, int seed)
    {
        var rng = new Random(seed);
        int pad = seed % 3, lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + seed % 2;
        float[] a = Random(rng, ((ta ? k : m) - 1) * lda + (ta ? m : k));
        float[] b = Random(rng, ((tb ? n : k) - 1) * ldb + (tb ? k : n));
        float[] bias = Random(rng, n);
        float[] filled = Random(rng, (m - 1) * ldc + n), fused = (float[])filled.Clone();
        for (int i = 0; i < m; i++) bias.CopyTo(filled, i * ldc);
        Gemm.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, 1f, filled, ldc);
        Gemm.SgemmWithBias(ta, tb, m, n, k, alpha, a, lda, b, ldb, bias, fused, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc && i * ldc + j < fused.Length; j++)
            {
                int at = i * ldc + j;
                // the padding between rows keeps what it held: compare it too (filled only wrote the n columns)
                Assert.True(BitConverter.SingleToInt32Bits(filled[at]) == BitConverter.SingleToInt32Bits(fused[at]),
                    $"{GemmDriver.SelectedIsa} {m}×{n}×{k} ta={ta} tb={tb} alpha={alpha}: C[{i},{j}] = {fused[at]} with the bias epilogue, {filled[at]} with beta 1 onto the bias");
            }
    }

    static float[] Random(Random rng, int length)
    {
        var data = new float[Math.Max(0, length)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        return data;
    }
}
