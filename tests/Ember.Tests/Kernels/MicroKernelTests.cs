using System.Numerics;
using System.Runtime.InteropServices;
using Ember.Kernels.Gemm;

namespace Ember.Tests.Kernels;

/// <summary>
/// The <see cref="IMicroKernel{T}"/> contract on every kernel: each entry point (a packed panel, operands read in place,
/// rows of A, B gathered through offsets, the narrow and short forms) gives the bits of <see cref="IMicroKernel{T}.Run"/>,
/// and those bits are alpha·A·B + beta·C to within rounding of a float64 product. The kernels share one loop per vector
/// width (Tile), so a source handled wrongly there shows here as other bits or other values.
/// </summary>
/// <remarks>
/// Vector512 and Vector256 kernels run on any x86 machine (the JIT emulates an unaccelerated width), so every kernel is
/// checked on every path; run with DOTNET_EnableAVX512=0 and DOTNET_EnableAVX2=0 for the emulated forms.
/// </remarks>
public sealed unsafe class MicroKernelTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string kernel in new[] { "512", "512Rows8", "256", "256Rows4", "128" })
            foreach (int kc in new[] { 1, 5, 64 })
                data.Add(kernel, kc);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryFormGivesTheBitsOfThePackedTile(string kernel, int kc)
    {
        switch (kernel)
        {
            case "512": Check<MicroKernel512<float>, float>(kc, 1e-5); Check<MicroKernel512<double>, double>(kc, 1e-13); break;
            case "512Rows8": Check<MicroKernel512Rows8<float>, float>(kc, 1e-5); Check<MicroKernel512Rows8<double>, double>(kc, 1e-13); break;
            case "256": Check<MicroKernel256<float>, float>(kc, 1e-5); Check<MicroKernel256<double>, double>(kc, 1e-13); break;
            case "256Rows4": Check<MicroKernel256Rows4<float>, float>(kc, 1e-5); Check<MicroKernel256Rows4<double>, double>(kc, 1e-13); break;
            default: Check<MicroKernel128<float>, float>(kc, 1e-5); Check<MicroKernel128<double>, double>(kc, 1e-13); break;
        }
    }

    static void Check<TKernel, T>(int kc, double tolerance)
        where TKernel : struct, IMicroKernel<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int lda = kc + 3, ldb = nr + 5, ldat = mr + 1, ldc = nr + 2;
        var rng = new Random(mr * 1000 + nr * 10 + kc);
        T Next() => T.CreateTruncating(rng.NextDouble() * 2 - 1);
        // A as rows (mr × kc, lda apart), its packed panel (kc groups of mr) and its transpose in place (ldat apart).
        T[] rows = new T[mr * lda], panelA = new T[kc * mr], transposedA = new T[kc * ldat];
        for (int r = 0; r < mr; r++)
            for (int p = 0; p < kc; p++)
                rows[r * lda + p] = panelA[p * mr + r] = transposedA[p * ldat + r] = Next();
        // B as a row-major matrix (ldb apart), its packed panel and its rows scattered in reverse for the offsets.
        T[] rowMajorB = new T[kc * ldb], panelB = new T[kc * nr], scatteredB = new T[kc * ldb];
        int[] offsets = new int[kc];
        for (int p = 0; p < kc; p++)
        {
            offsets[p] = (kc - 1 - p) * ldb;
            for (int j = 0; j < nr; j++)
                rowMajorB[p * ldb + j] = panelB[p * nr + j] = scatteredB[offsets[p] + j] = Next();
        }
        T[] c0 = new T[mr * ldc];
        for (int i = 0; i < c0.Length; i++) c0[i] = Next();

        foreach ((T alpha, T beta) in new[] { (T.One, T.Zero), (T.CreateTruncating(1.25), T.CreateTruncating(-0.5)) })
        {
            T[] expected = Tile(c0, c => { fixed (T* a = panelA, b = panelB, cp = c) TKernel.Run(kc, a, b, cp, ldc, alpha, beta); });
            for (int r = 0; r < mr; r++)
                for (int j = 0; j < ldc; j++)
                {
                    double want = double.CreateTruncating(c0[r * ldc + j]), bound = 0;
                    if (j < nr)
                    {
                        double sum = 0, magnitude = 0;
                        for (int p = 0; p < kc; p++)
                        {
                            double term = double.CreateTruncating(rows[r * lda + p]) * double.CreateTruncating(rowMajorB[p * ldb + j]);
                            sum += term;
                            magnitude += Math.Abs(term);
                        }
                        double a = double.CreateTruncating(alpha), b = double.CreateTruncating(beta);
                        want = a * sum + (b == 0 ? 0 : b * want);
                        bound = tolerance * (Math.Abs(a) * magnitude + Math.Abs(b * double.CreateTruncating(c0[r * ldc + j])));
                    }
                    // Columns past NR are C's padding: left alone, exactly.
                    Assert.True(Math.Abs(double.CreateTruncating(expected[r * ldc + j]) - want) <= bound,
                        $"{typeof(TKernel).Name} kc {kc}: C[{r}, {j}] = {expected[r * ldc + j]}, float64 {want}");
                }

            AssertBits(expected, Tile(c0, c => { fixed (T* a = panelA, b = rowMajorB, cp = c) TKernel.RunStrided(kc, a, mr, b, ldb, cp, ldc, alpha, beta); }), "RunStrided, B in place");
            AssertBits(expected, Tile(c0, c => { fixed (T* a = transposedA, b = panelB, cp = c) TKernel.RunStrided(kc, a, ldat, b, nr, cp, ldc, alpha, beta); }), "RunStrided, A transposed in place");
            if (TKernel.ReadsRowsOfA)
                AssertBits(expected, Tile(c0, c => { fixed (T* a = rows, b = rowMajorB, cp = c) TKernel.RunRowsOfA(kc, a, lda, b, ldb, cp, ldc, alpha, beta); }), "RunRowsOfA");
            AssertBits(expected, Tile(c0, c => { fixed (T* a = panelA, b = scatteredB, cp = c) fixed (int* o = offsets) TKernel.RunIndexed(kc, a, b, o, cp, ldc, alpha, beta); }), "RunIndexed");
            if (TKernel.NarrowNR > 0)
            {
                // The narrow form writes C's first NarrowNR columns; the others keep C's values.
                T[] narrow = Tile(c0, c => { fixed (T* a = panelA, b = scatteredB, cp = c) fixed (int* o = offsets) TKernel.RunIndexedNarrow(kc, a, b, o, cp, ldc, alpha, beta); });
                T[] want = (T[])c0.Clone();
                for (int r = 0; r < mr; r++)
                    for (int j = 0; j < TKernel.NarrowNR; j++) want[r * ldc + j] = expected[r * ldc + j];
                AssertBits(want, narrow, "RunIndexedNarrow");
            }
            if (TKernel.ShortMR > 0)
            {
                // The short form: the first ShortMR rows, A packed ShortMR values per step; the rows past them keep C's values.
                int sr = TKernel.ShortMR;
                T[] shortPanel = new T[kc * sr];
                for (int p = 0; p < kc; p++)
                    for (int r = 0; r < sr; r++) shortPanel[p * sr + r] = panelA[p * mr + r];
                T[] shortTile = Tile(c0, c => { fixed (T* a = shortPanel, b = scatteredB, cp = c) fixed (int* o = offsets) TKernel.RunIndexedShort(kc, a, b, o, cp, ldc, alpha, beta); });
                T[] want = (T[])c0.Clone();
                Array.Copy(expected, want, sr * ldc);
                AssertBits(want, shortTile, "RunIndexedShort");
            }
        }
    }

    // A copy of C after one kernel call on it.
    static T[] Tile<T>(T[] c0, Action<T[]> run)
    {
        T[] c = (T[])c0.Clone();
        run(c);
        return c;
    }

    static void AssertBits<T>(T[] expected, T[] actual, string form) where T : unmanaged
    {
        byte[] want = MemoryMarshal.AsBytes(expected.AsSpan()).ToArray(), got = MemoryMarshal.AsBytes(actual.AsSpan()).ToArray();
        Assert.True(want.AsSpan().SequenceEqual(got), $"{form} ({typeof(T).Name}): bits differ from Run's");
    }
}
