using Ember.Kernels.Loops;
using Ember.Kernels.Norm;
using System.Runtime.Intrinsics.X86;
using Ember.Kernels.Operators;

namespace Ember.Tests.Kernels;

/// <summary>
/// Every <see cref="ISimd{TSelf, T}"/>-generic kernel at each width, forced through <see cref="SimdPath"/> (a width the
/// CPU lacks runs emulated: slow, but the same operations), against float64 references at every length 0–257, from
/// misaligned offsets and in place. The widths must also agree with one another bit for bit where each lane runs the
/// same operations (elementwise kernels); reductions sum in a width-dependent order and are checked by tolerance only.
/// </summary>
[Collection(KernelSettingsCollection.Name)]
public class SimdWidthKernelTests
{
    public static readonly SimdWidth[] Widths = [SimdWidth.Vector128, SimdWidth.Vector256, SimdWidth.Vector512];

    public static TheoryData<SimdWidth> AllWidths => new(Widths);

    static readonly int[] Offsets = [0, 1, 3];

    internal static void OnWidth(SimdWidth width, Action action)
    {
        SimdPath.Forced = width;
        try { action(); }
        finally { SimdPath.Forced = null; }
    }

    static float[] Data(int length, int seed, double scale)
    {
        var rng = new Random(seed);
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return a;
    }

    static double Gelu(double x) => x * 0.5 * (1 + ErrorFunction.Erf(x / Math.Sqrt(2)));

    static double GeluGrad(double x) => 0.5 * (1 + ErrorFunction.Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);

    static double GeluTanhInner(double x) => Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);

    // PyTorch's formulas (tanh form of GELU, SiLU), in float64
    static (double Y, double Grad) Reference(Activation activation, double x)
    {
        switch (activation)
        {
            case Activation.Gelu: return (Gelu(x), GeluGrad(x));
            case Activation.GeluTanh:
                double t = Math.Tanh(GeluTanhInner(x));
                return (0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * Math.Sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * x * x));
            default:
                double s = 1 / (1 + Math.Exp(-x));
                return (x * s, s * (1 + x * (1 - s)));
        }
    }

    public static TheoryData<SimdWidth, Activation> WidthsAndActivations()
    {
        var data = new TheoryData<SimdWidth, Activation>();
        foreach (var width in Widths)
            foreach (var activation in Enum.GetValues<Activation>()) data.Add(width, activation);
        return data;
    }

    [Theory, MemberData(nameof(WidthsAndActivations))]
    public void Activations_at_each_width_match_float64_for_every_length_offset_and_in_place(SimdWidth width, Activation activation) => OnWidth(width, () =>
    {
        for (int n = 0; n <= 257; n++)
            foreach (int offset in Offsets)
            {
                var x = Data(n + offset, n * 7 + offset, 5);
                var g = Data(n + offset, n * 7 + offset + 1, 1);
                var y = new float[n + offset];
                var dx = new float[n + offset];
                ActivationKernel.Forward<float>(activation, x.AsSpan(offset), y.AsSpan(offset));
                ActivationKernel.Backward<float>(activation, g.AsSpan(offset), x.AsSpan(offset), dx.AsSpan(offset));
                var expected = new double[n];
                var expectedGrad = new double[n];
                for (int i = 0; i < n; i++)
                {
                    var (value, grad) = Reference(activation, x[offset + i]);
                    expected[i] = value;
                    expectedGrad[i] = g[offset + i] * grad;
                }
                KernelAssert.Close(expected, y.AsSpan(offset), 1e-6, $"{activation} {width} n={n} offset={offset}");
                KernelAssert.Close(expectedGrad, dx.AsSpan(offset), 1e-6, $"{activation} backward {width} n={n} offset={offset}");
                Assert.All(y.AsSpan(0, offset).ToArray(), v => Assert.Equal(0f, v));   // nothing written before the span

                var inPlace = (float[])x.Clone();
                ActivationKernel.Forward<float>(activation, inPlace.AsSpan(offset), inPlace.AsSpan(offset));
                Assert.Equal(y.AsSpan(offset).ToArray(), inPlace.AsSpan(offset).ToArray());
            }
    });

    [Theory]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.GeluTanh)]
    [InlineData(Activation.Silu)]
    public void Activations_keep_special_values_and_saturate(Activation activation)
    {
        float[] x = [float.NaN, float.PositiveInfinity, 100f, -100f, 0f, 1e-30f];
        var y = new float[x.Length];
        var dx = new float[x.Length];
        ActivationKernel.Forward<float>(activation, x, y);
        ActivationKernel.Backward<float>(activation, Enumerable.Repeat(1f, x.Length).ToArray(), x, dx);
        Assert.True(float.IsNaN(y[0]) && float.IsNaN(dx[0]));
        Assert.Equal(float.PositiveInfinity, y[1]);
        Assert.Equal(100f, y[2]);
        Assert.Equal(1f, dx[2]);
        Assert.Equal(0f, y[3]);   // −0 or +0
        Assert.Equal(0f, dx[3]);
        Assert.Equal(0f, y[4]);
        Assert.Equal(0.5f, dx[4], 1e-6f);
        Assert.Equal(Reference(activation, 1e-30).Y, y[5], 1e-36);
    }

    // SiLU's and the tanh GELU's e^(−t) clamps t into [−88, 88.5] (VectorErf.ExpClampedSingle): 0 from t ≈ −87.68, +∞
    // from t ≈ 88.38. Around every switch (one float either side), at the specials and far out, each result is within
    // 4e-7 relative of float64 or, for results under 1e-36 (where e^(−t) is subnormal or past float), within 1e-36.
    [Theory, MemberData(nameof(AllWidths))]
    public void Silu_and_gelu_tanh_match_float64_around_the_exp_clamp_and_at_special_values(SimdWidth width) => OnWidth(width, () =>
    {
        var x = new List<float> { 0f, -0f, 1e-30f, -1e-30f, 1e-40f, -1e-40f, 1f, -1f, 17f, -17f, 100f, -100f, 1e30f, -1e30f,
            float.MaxValue, -float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN };
        foreach (float b in new[] { 87.34f, 87.68f, 88f, 88.376f, 88.5f, 88.72f, 89f })
            foreach (float v in new[] { b, -b })
                x.AddRange([v, MathF.BitDecrement(v), MathF.BitIncrement(v)]);
        float[] xs = [.. x];
        var y = new float[xs.Length];
        var dx = new float[xs.Length];
        ActivationKernel.Forward<float>(Activation.Silu, xs, y);
        ActivationKernel.Backward<float>(Activation.Silu, Enumerable.Repeat(1f, xs.Length).ToArray(), xs, dx);
        for (int i = 0; i < xs.Length; i++)
        {
            var (value, grad) = Reference(Activation.Silu, xs[i]);
            AssertNear(value, y[i], 4e-7, $"SiLU({xs[i]:R})");
            AssertNear(grad, dx[i], 1e-6, $"SiLU'({xs[i]:R})");
        }
        Assert.True(float.IsNegative(y[1]), "SiLU(−0) is −0");
        Assert.True(float.IsNaN(y[Array.IndexOf(xs, float.NegativeInfinity)]), "SiLU(−∞) is NaN, as −∞/(1 + ∞) in PyTorch");

        // −2z reaches the clamp from |x| ≈ 9.3; the σ form of the reference has no cancellation for negative x
        float[] g = [.. xs, 9.3f, -9.3f, 9.4f, -9.4f, 12f, -12f];
        var yg = new float[g.Length];
        ActivationKernel.Forward<float>(Activation.GeluTanh, g, yg);
        for (int i = 0; i < g.Length; i++)
        {
            double t = g[i], minusTwoZ = -2 * Math.Sqrt(2 / Math.PI) * (t + 0.044715 * t * t * t);
            // the float rounding of −2z (up to |−2z|·6e-8) moves e^(−2z) by that much relative
            AssertNear(t / (1 + Math.Exp(minusTwoZ)), yg[i], 4e-7 + Math.Min(Math.Abs(minusTwoZ), 100) * 1.2e-7, $"GELU tanh({g[i]:R})");
        }

        void AssertNear(double expected, float actual, double rtol, string what) =>
            Assert.True(double.IsNaN(expected) ? float.IsNaN(actual) : actual == expected || Math.Abs(actual - expected) <= rtol * Math.Abs(expected) + 1e-36,
                $"{width}: {what} is {actual:R}, float64 gives {expected:R}");
    });

    [Fact]
    public void Activations_in_float64_match_the_reference_formulas()
    {
        var x = Enumerable.Range(-400, 801).Select(i => i * 0.0125).ToArray();
        var g = x.Select((v, i) => 1 + 0.001 * i).ToArray();
        foreach (var activation in Enum.GetValues<Activation>())
        {
            var y = new double[x.Length];
            var dx = new double[x.Length];
            ActivationKernel.Forward<double>(activation, x, y);
            ActivationKernel.Backward<double>(activation, g, x, dx);
            for (int i = 0; i < x.Length; i++)
            {
                var (value, grad) = Reference(activation, x[i]);
                Assert.Equal(value, y[i], 1e-13);
                Assert.Equal(g[i] * grad, dx[i], 1e-13);
            }
        }
    }

    [Fact]
    public void Elementwise_kernels_give_the_same_bits_at_every_width()
    {
        var x = Data(1000, 5, 6).Concat(new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, 3.99f, 4f }).ToArray();
        var g = Data(x.Length, 6, 1);
        float[] Run(SimdWidth width)
        {
            var y = new float[x.Length * 8];
            OnWidth(width, () =>
            {
                VectorErf.ErfSingle(x, y.AsSpan(0, x.Length));
                VectorErf.Erf(x, y.AsSpan(x.Length, x.Length));
                int at = 2 * x.Length;
                foreach (var activation in Enum.GetValues<Activation>())
                {
                    ActivationKernel.Forward<float>(activation, x, y.AsSpan(at, x.Length));
                    ActivationKernel.Backward<float>(activation, g, x, y.AsSpan(at + x.Length, x.Length));
                    at += 2 * x.Length;
                }
            });
            return y;
        }
        var reference = Run(SimdWidth.Vector128);
        foreach (var width in Widths)
        {
            var y = Run(width);
            // The single-precision erf on AVX-512 hardware (VectorErf.ErfSingleTable), on AVX2 + FMA (ErfSingleTable8)
            // and, at the reference's own width, on x64 with AVX (ErfSingleTable4) is another approximation with the same
            // bound: there its results and GELU's (the first two activation slots) only have to agree closely.
            bool tableErf = Avx.IsSupported || (width == SimdWidth.Vector512 && Avx512F.IsSupported) || (width == SimdWidth.Vector256 && Avx2.IsSupported && Fma.IsSupported);
            for (int i = 0; i < y.Length; i++)
            {
                int slot = i / x.Length;
                if (tableErf && slot is 0 or 2 or 3)
                {
                    // Two erfs within 1.5e-7 each differ by up to 3e-7, which GELU multiplies by up to |x|/2 (GELU(−5.47) is
                    // −1.2e-7: the split-chain erf gives −3.3e-7, the AVX-512 table −0, 1 + erf being a few ulp of 1).
                    double scale = Math.Max(1, Math.Max(Math.Abs(reference[i]), slot == 0 ? 0 : Math.Abs(x[i % x.Length]) / 2));
                    Assert.True(reference[i] == y[i] || Math.Abs(reference[i] - y[i]) <= 3e-7 * scale || (float.IsNaN(reference[i]) && float.IsNaN(y[i])),
                        $"{width}: element {i} (input {x[i % x.Length]:R}) is {y[i]:R}, Vector128 gave {reference[i]:R}");
                    continue;
                }
                // NaN in, NaN out: which NaN (sign, payload) depends on the operand order the JIT picks for a tier and
                // width, which a run may change, so any NaN matches any NaN; every other value must match bit for bit.
                Assert.True(BitConverter.SingleToInt32Bits(reference[i]) == BitConverter.SingleToInt32Bits(y[i]) || (float.IsNaN(reference[i]) && float.IsNaN(y[i])),
                    $"{width}: element {i} (input {x[i % x.Length]:R}) is {y[i]:R}, Vector128 gave {reference[i]:R}");
            }
        }
    }

    [Theory, MemberData(nameof(AllWidths))]
    public void Erf_single_is_within_its_bound_at_the_table_interval_boundaries_and_keeps_the_sign(SimdWidth width) => OnWidth(width, () =>
    {
        // The AVX-512 erf switches polynomials at every multiple of ¼ up to 4 (where 4|x| − ½ is a tie the rounding
        // sends to the even interval), the AVX2 one at every multiple of ½, and both saturate from 3.92: each boundary, one float either side, and both signs.
        var x = new List<float>();
        for (int m = 0; m <= 16; m++)
        {
            float b = m / 4f;
            x.AddRange([b, MathF.BitDecrement(b), MathF.BitIncrement(b), b + 0.125f]);
        }
        x.AddRange([3.92f, MathF.BitDecrement(3.92f), 1e-20f, 2e-38f]);
        // normal floats only: below 2⁻¹²⁶ the result is subnormal and its relative precision gone
        var all = x.Where(v => v >= 1.17549435e-38f).SelectMany(v => new[] { v, -v }).ToArray();
        var y = new float[all.Length];
        VectorErf.ErfSingle(all, y);
        for (int i = 0; i < all.Length; i++)
        {
            double expected = ErrorFunction.Erf(all[i]);
            Assert.True(Math.Abs(y[i] - expected) <= 1.5e-7 * Math.Abs(expected), $"{width}: erf({all[i]:R}) = {y[i]:R}, expected {expected:R}");
            Assert.Equal(float.IsNegative(all[i]), float.IsNegative(y[i]));
        }
    });

    [Theory, MemberData(nameof(AllWidths))]
    public void Erf_at_each_width_is_within_its_stated_error_for_every_length_and_offset(SimdWidth width)
    {
        for (int n = 0; n <= 257; n++)
            foreach (int offset in Offsets)
            {
                var x = Data(n + offset, n + 100 * offset, 4.5);
                var single = new float[n + offset];
                var rounded = new float[n + offset];
                switch (width)
                {
                    case SimdWidth.Vector128: VectorErf.ErfSingle<Simd128<float>>(x.AsSpan(offset), single.AsSpan(offset)); break;
                    case SimdWidth.Vector256: VectorErf.ErfSingle<Simd256<float>>(x.AsSpan(offset), single.AsSpan(offset)); break;
                    default: VectorErf.ErfSingle<Simd512<float>>(x.AsSpan(offset), single.AsSpan(offset)); break;
                }
                OnWidth(width, () => VectorErf.Erf(x.AsSpan(offset), rounded.AsSpan(offset)));
                for (int i = offset; i < n + offset; i++)
                {
                    double expected = ErrorFunction.Erf(x[i]);
                    Assert.True(Math.Abs(single[i] - expected) <= 2e-7 * Math.Abs(expected), $"erf single {width} n={n}: erf({x[i]:R}) = {single[i]:R}, expected {expected:R}");
                    Assert.Equal((float)expected, rounded[i]);
                }
            }
    }

    [Theory, MemberData(nameof(AllWidths))]
    public void ReluBackward_at_each_width_is_exact_for_every_length_and_offset(SimdWidth width) => OnWidth(width, () =>
    {
        for (int n = 0; n <= 257; n++)
            foreach (int offset in Offsets)
            {
                var y = Data(n + offset, n, 1);
                if (n > 3) { y[offset] = 0; y[offset + 1] = float.NaN; y[offset + 2] = -0f; }
                var g = Data(n + offset, n + 1, 1);
                var dx = new float[n + offset];
                ActivationGradients.ReluBackward<float>(g.AsSpan(offset), y.AsSpan(offset), dx.AsSpan(offset));
                for (int i = offset; i < n + offset; i++) Assert.Equal(y[i] <= 0 ? 0f : g[i], dx[i]); // NaN passes g, as threshold_backward
            }
    });

    // Large enough to take the blocked, parallel path of a reduction over an outer axis (Reduction.InnerBlock columns per
    // work item, four rows per pass for float sums), with column counts that leave partial blocks and partial vectors, and
    // row counts that leave 0–3 rows after the groups of four.
    [Theory, MemberData(nameof(AllWidths))]
    public void Column_reductions_at_each_width_match_float64_in_blocks_and_tails(SimdWidth width) => OnWidth(width, () =>
    {
        foreach (ReduceOp op in new[] { ReduceOp.Sum, ReduceOp.Max, ReduceOp.Prod })
            foreach (int reduced in new[] { 1, 2, 5, 64, 65, 66, 67 })
                foreach (int inner in new[] { 1021, 1024, 1100, 2051 })
                {
                    const int Outer = 2;
                    var x = Data(Outer * reduced * inner + 1, reduced * inner, 2);
                    if (op == ReduceOp.Prod) for (int i = 0; i < x.Length; i++) x[i] = 1 + x[i] / 64;
                    var y = new float[Outer * inner];
                    Reduction.Reduce<float>(op, x.AsSpan(1), Outer, reduced, inner, y);
                    var expected = new double[Outer * inner];
                    for (int o = 0; o < Outer; o++)
                        for (int i = 0; i < inner; i++)
                        {
                            double acc = x[1 + o * reduced * inner + i];
                            for (int r = 1; r < reduced; r++)
                            {
                                double v = x[1 + (o * reduced + r) * inner + i];
                                acc = op switch { ReduceOp.Sum => acc + v, ReduceOp.Prod => acc * v, _ => Math.Max(acc, v) };
                            }
                            expected[o * inner + i] = acc;
                        }
                    KernelAssert.Close(expected, y, op == ReduceOp.Max ? 0 : 2e-6 * Math.Sqrt(reduced), $"{op} {width} [{Outer}, {reduced}, {inner}]");
                }
    });

    // Sums along the last axis (inner 1) run Reduction's own multi-accumulator row loop: every row length 0–257 and a
    // few long ones, float32, float64 and int64, from misaligned starts. The summation order depends only on the row
    // length and the width, so the same values summed from another address give the same bits.
    [Theory, MemberData(nameof(AllWidths))]
    public void Row_sums_at_each_width_match_float64_and_do_not_depend_on_alignment(SimdWidth width) => OnWidth(width, () =>
    {
        const int Outer = 3;
        foreach (int reduced in ContiguousTests.Lengths.Concat([1024, 1031, 4099]))
        {
            var x = Data(Outer * reduced + 4, reduced, 2);
            var expected = new double[Outer];
            for (int o = 0; o < Outer; o++)
                for (int r = 0; r < reduced; r++) expected[o] += x[1 + o * reduced + r];
            var y = new float[Outer];
            Reduction.Reduce<float>(ReduceOp.Sum, x.AsSpan(1), Outer, reduced, 1, y);
            KernelAssert.Close(expected, y, 2e-7 * Math.Max(1, reduced), $"float32 row sum {width} length {reduced}");
            foreach (int offset in Offsets)
            {
                var shifted = new float[Outer * reduced + 4];
                Array.Copy(x, 1, shifted, offset, Outer * reduced);
                var ys = new float[Outer];
                Reduction.Reduce<float>(ReduceOp.Sum, shifted.AsSpan(offset), Outer, reduced, 1, ys);
                Assert.Equal(y, ys);
            }
            var xd = Array.ConvertAll(x, v => (double)v);
            var yd = new double[Outer];
            Reduction.Reduce<double>(ReduceOp.Sum, xd.AsSpan(1), Outer, reduced, 1, yd);
            KernelAssert.Close(expected, yd, 1e-15 * Math.Max(1, reduced), $"float64 row sum {width} length {reduced}");
            var xl = Array.ConvertAll(x, v => (long)(v * 1e6) * 1_000_003L);
            var yl = new long[Outer];
            Reduction.Reduce<long>(ReduceOp.Sum, xl.AsSpan(1), Outer, reduced, 1, yl);
            for (int o = 0; o < Outer; o++)
            {
                long exact = 0;
                for (int r = 0; r < reduced; r++) exact += xl[1 + o * reduced + r];
                Assert.Equal(exact, yl[o]);
            }
        }
    });

    // The AVX-512 path sums rows with 256-bit loads (faster from L3 on the Zen 5 machine, see Reduction.SumLastAxis), so
    // its row sums are the AVX2 path's bit for bit, at every length and from any alignment.
    [Fact]
    public void Row_sums_on_the_Vector512_path_equal_the_Vector256_path_bit_for_bit()
    {
        const int Outer = 3;
        foreach (int reduced in ContiguousTests.Lengths.Concat([1024, 1031, 4099, 20000]))
        {
            var x = Data(Outer * reduced + 4, reduced + 7, 3);
            var xd = Array.ConvertAll(x, v => (double)v * 1.000001);
            float[] y256 = new float[Outer], y512 = new float[Outer];
            double[] yd256 = new double[Outer], yd512 = new double[Outer];
            OnWidth(SimdWidth.Vector256, () =>
            {
                Reduction.Reduce<float>(ReduceOp.Sum, x.AsSpan(1), Outer, reduced, 1, y256);
                Reduction.Reduce<double>(ReduceOp.Sum, xd.AsSpan(3), Outer, reduced, 1, yd256);
            });
            OnWidth(SimdWidth.Vector512, () =>
            {
                Reduction.Reduce<float>(ReduceOp.Sum, x.AsSpan(1), Outer, reduced, 1, y512);
                Reduction.Reduce<double>(ReduceOp.Sum, xd.AsSpan(3), Outer, reduced, 1, yd512);
            });
            Assert.Equal(y256, y512);
            Assert.Equal(yd256, yd512);
        }
    }

    // A full sum of 4M positive float32 values (the worst case for rounding: every partial sum grows) stays within 1e-6
    // relative of the float64 sum: the row-sum loop sums in blocks, so no lane accumulates millions of terms (simulated
    // for uniform data in [0.9, 1.1]: without the blocks 16 and 32 lanes give 3.2e-6 and 1.6e-6, with them under 1e-7).
    [Theory, MemberData(nameof(AllWidths))]
    public void A_long_float32_sum_stays_accurate(SimdWidth width) => OnWidth(width, () =>
    {
        const int N = 1 << 22;
        var src = ContiguousTests.Data(N, 11, 0.9f, 1.1f);
        double exact = 0;
        foreach (float v in src) exact += v;
        var dst = new float[1];
        Reduction.Reduce<float>(ReduceOp.Sum, src, 1, N, 1, dst);
        Assert.True(Math.Abs(dst[0] - exact) <= 1e-6 * exact, $"{width}: {dst[0]} vs {exact} (relative error {Math.Abs(dst[0] - exact) / exact:E2})");
    });

    [Theory, MemberData(nameof(AllWidths))]
    public void Softmax_at_each_width_matches_float64_over_rows_and_inner_axes(SimdWidth width) => OnWidth(width, () =>
    {
        int[] reduced = [.. Enumerable.Range(1, 40), 63, 64, 65, 255, 256, 257];
        foreach (int r in reduced)
            foreach (int inner in new[] { 1, 5, 16, 19 })
                foreach (bool log in new[] { false, true })
                {
                    const int Outer = 2;
                    int count = Outer * r * inner;
                    var x = Data(count + 1, r * inner, 8);
                    var y = new float[count + 1];
                    Reduction.Softmax<float>(x.AsSpan(1), Outer, r, inner, y.AsSpan(1), log);
                    var expected = new double[count];
                    for (int o = 0; o < Outer; o++)
                        for (int i = 0; i < inner; i++)
                        {
                            double max = double.NegativeInfinity, sum = 0;
                            for (int k = 0; k < r; k++) max = Math.Max(max, x[1 + (o * r + k) * inner + i]);
                            for (int k = 0; k < r; k++) sum += Math.Exp(x[1 + (o * r + k) * inner + i] - max);
                            for (int k = 0; k < r; k++)
                            {
                                double z = x[1 + (o * r + k) * inner + i] - max;
                                expected[(o * r + k) * inner + i] = log ? z - Math.Log(sum) : Math.Exp(z) / sum;
                            }
                        }
                    KernelAssert.Close(expected, y.AsSpan(1), log ? 2e-6 : 1e-6, $"{(log ? "log_softmax" : "softmax")} {width} [{Outer}, {r}, {inner}]");

                    var inPlace = (float[])x.Clone();
                    Reduction.Softmax<float>(inPlace.AsSpan(1), Outer, r, inner, inPlace.AsSpan(1), log);
                    Assert.Equal(y.AsSpan(1).ToArray(), inPlace.AsSpan(1).ToArray());
                }
    });

    [Theory, MemberData(nameof(AllWidths))]
    public void Softmax_backward_at_each_width_matches_float64_over_rows_and_inner_axes(SimdWidth width) => OnWidth(width, () =>
    {
        int[] reduced = [1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 257];
        foreach (int r in reduced)
            foreach (int inner in new[] { 1, 5, 16, 19 })
                foreach (bool log in new[] { false, true })
                {
                    const int Outer = 3;
                    int count = Outer * r * inner;
                    var x = Data(count + 1, r * inner + 1, 4);
                    var g = Data(count + 1, r * inner + 2, 1);
                    var y = new float[count + 1];
                    Reduction.Softmax<float>(x.AsSpan(1), Outer, r, inner, y.AsSpan(1), log);
                    var dx = new float[count + 1];
                    Reduction.SoftmaxBackward<float>(g.AsSpan(1), y.AsSpan(1), Outer, r, inner, dx.AsSpan(1), log);
                    var expected = new double[count];
                    for (int o = 0; o < Outer; o++)
                        for (int i = 0; i < inner; i++)
                        {
                            // from the float32 output y, as the kernel: softmax y·(g − Σg·y), log-softmax g − e^y·Σg
                            double sum = 0;
                            for (int k = 0; k < r; k++)
                            {
                                int at = 1 + (o * r + k) * inner + i;
                                sum += log ? g[at] : (double)g[at] * y[at];
                            }
                            for (int k = 0; k < r; k++)
                            {
                                int at = 1 + (o * r + k) * inner + i;
                                expected[at - 1] = log ? g[at] - Math.Exp(y[at]) * sum : y[at] * (g[at] - sum);
                            }
                        }
                    KernelAssert.Close(expected, dx.AsSpan(1), 2e-6, $"{(log ? "log_softmax" : "softmax")} backward {width} [{Outer}, {r}, {inner}]");
                    Assert.Equal(0f, dx[0]);   // nothing written before the span

                    var inPlace = (float[])g.Clone();
                    Reduction.SoftmaxBackward<float>(inPlace.AsSpan(1), y.AsSpan(1), Outer, r, inner, inPlace.AsSpan(1), log);
                    Assert.Equal(dx.AsSpan(1).ToArray(), inPlace.AsSpan(1).ToArray());
                }
    });

    [Theory, MemberData(nameof(AllWidths))]
    public void Softmax_keeps_its_special_value_rules_at_each_width(SimdWidth width) => OnWidth(width, () =>
    {
        // a NaN poisons its row; a row of −∞ gives NaN (0/0), as PyTorch; +∞ gives NaN at the ∞ and 0 elsewhere
        const int R = 37;
        var x = new float[3 * R];
        for (int i = 0; i < x.Length; i++) x[i] = i % 5;
        x[20] = float.NaN;
        for (int i = R; i < 2 * R; i++) x[i] = float.NegativeInfinity;
        x[2 * R + 30] = float.PositiveInfinity;
        var y = new float[x.Length];
        Reduction.Softmax<float>(x, 3, R, 1, y, false);
        Assert.All(y[..(2 * R)], v => Assert.True(float.IsNaN(v)));
        for (int i = 2 * R; i < 3 * R; i++) Assert.True(i == 2 * R + 30 ? float.IsNaN(y[i]) : y[i] == 0, $"element {i}: {y[i]}");
    });

    [Theory, MemberData(nameof(AllWidths))]
    public void LayerNorm_at_each_width_matches_float64_forward_and_backward(SimdWidth width) => OnWidth(width, () =>
    {
        const int Rows = 3;
        int[] cols = [.. Enumerable.Range(1, 40), 63, 64, 65, 255, 256, 257];
        // (weight, bias): both, neither, and each alone (the forward's vector loop has its own path for both)
        foreach (int d in cols)
            foreach (var (hasWeight, hasBias) in new[] { (true, true), (false, false), (true, false), (false, true) })
            {
                var x = Data(Rows * d + 1, d, 3);
                for (int i = 1; i < x.Length; i++) x[i] += 2;   // a mean far from 0
                var dy = Data(Rows * d + 1, d + 1, 1);
                var w = hasWeight ? Data(d + 1, d + 2, 1) : [];
                var b = hasBias ? Data(d + 1, d + 3, 1) : [];
                var y = new float[Rows * d + 1];
                var mean = new float[Rows];
                var rstd = new float[Rows];
                ReadOnlySpan<float> ws = hasWeight ? w.AsSpan(1) : default, bs = hasBias ? b.AsSpan(1) : default;
                LayerNormKernel.Forward<float>(x.AsSpan(1), Rows, d, ws, bs, 1e-5f, y.AsSpan(1), mean, rstd);
                var dx = new float[Rows * d + 1];
                var dw = new float[d];
                var db = new float[d];
                LayerNormKernel.Backward<float>(x.AsSpan(1), dy.AsSpan(1), Rows, d, ws, mean, rstd, dx.AsSpan(1), hasWeight ? dw : default, hasWeight ? db : default);

                var ey = new double[Rows * d];
                var edx = new double[Rows * d];
                var edw = new double[d];
                var edb = new double[d];
                for (int r = 0; r < Rows; r++)
                {
                    double m = 0, v = 0;
                    for (int c = 0; c < d; c++) m += x[1 + r * d + c];
                    m /= d;
                    for (int c = 0; c < d; c++) v += Math.Pow(x[1 + r * d + c] - m, 2);
                    double inv = 1 / Math.Sqrt(v / d + 1e-5);
                    double sg = 0, sgx = 0;
                    for (int c = 0; c < d; c++)
                    {
                        double xh = (x[1 + r * d + c] - m) * inv, gw = dy[1 + r * d + c] * (hasWeight ? w[1 + c] : 1);
                        ey[r * d + c] = xh * (hasWeight ? w[1 + c] : 1) + (hasBias ? b[1 + c] : 0);
                        sg += gw;
                        sgx += gw * xh;
                        edw[c] += dy[1 + r * d + c] * xh;
                        edb[c] += dy[1 + r * d + c];
                    }
                    for (int c = 0; c < d; c++)
                    {
                        double xh = (x[1 + r * d + c] - m) * inv, gw = dy[1 + r * d + c] * (hasWeight ? w[1 + c] : 1);
                        edx[r * d + c] = inv * (gw - sg / d - xh * sgx / d);
                    }
                }
                string what = $"layer_norm {width} [{Rows}, {d}] weight={hasWeight} bias={hasBias}";
                KernelAssert.Close(ey, y.AsSpan(1), 2e-5, what);
                KernelAssert.Close(edx, dx.AsSpan(1), 5e-5, what + " dx");
                if (hasWeight)
                {
                    KernelAssert.Close(edw, dw, 2e-5, what + " dw");
                    KernelAssert.Close(edb, db, 2e-5, what + " db");
                }
            }
    });

    // A forward output of NonTemporal.MinBytes or more is written with non-temporal stores after one partial vector up to
    // the first aligned element of each chunk; from misaligned outputs it must have the bits of short (cached) calls.
    [Theory, MemberData(nameof(AllWidths))]
    public void Activation_streamed_forward_at_each_width_has_the_bits_of_short_calls(SimdWidth width) => OnWidth(width, () =>
    {
        const int N = (1 << 20) + 37, Piece = 1 << 16;
        Assert.True((long)N * sizeof(float) >= NonTemporal.MinBytes && (long)Piece * sizeof(float) < NonTemporal.MinBytes, "one call streamed, the pieces not");
        var x = Data(N, 21, 5);
        var piece = new float[Piece];
        foreach (var activation in Enum.GetValues<Activation>())
            foreach (int offset in Offsets)
            {
                var y = new float[N + offset];
                ActivationKernel.Forward<float>(activation, x, y.AsSpan(offset));
                for (int start = 0; start < N; start += Piece)
                {
                    int n = Math.Min(Piece, N - start);
                    ActivationKernel.Forward<float>(activation, x.AsSpan(start, n), piece.AsSpan(0, n));
                    for (int i = 0; i < n; i++)
                        if (BitConverter.SingleToInt32Bits(piece[i]) != BitConverter.SingleToInt32Bits(y[offset + start + i]))
                            Assert.Fail($"{activation} {width} streamed n={N} offset {offset}: y[{start + i}] = {y[offset + start + i]:R}, in pieces {piece[i]:R}");
                }
            }
    });

    // Outputs of NonTemporal.MinBytes or more are written with non-temporal stores from the first register-aligned
    // element of each row: with an odd row length and a misaligned output every row starts at another alignment, and the
    // result must have the bits of the same rows normalized one call at a time (cached stores, checked against float64 above).
    [Theory, MemberData(nameof(AllWidths))]
    public void LayerNorm_streamed_output_at_each_width_has_the_bits_of_row_by_row_calls(SimdWidth width) => OnWidth(width, () =>
    {
        const int Rows = 1025, Cols = 1027;
        Assert.True((long)Rows * Cols * sizeof(float) >= NonTemporal.MinBytes, "the shape must reach the streamed path");
        var x = Data(Rows * Cols, 11, 3);
        var w = Data(Cols, 12, 1);
        var b = Data(Cols, 13, 1);
        foreach (int offset in new[] { 0, 1, 3 })
            foreach (bool affine in new[] { true, false })
            {
                var y = new float[Rows * Cols + offset];
                var mean = new float[Rows];
                var rstd = new float[Rows];
                LayerNormKernel.Forward<float>(x, Rows, Cols, affine ? w : default, affine ? b : default, 1e-5f, y.AsSpan(offset), mean, rstd);
                var row = new float[Cols];
                var rowMean = new float[1];
                var rowRstd = new float[1];
                for (int r = 0; r < Rows; r++)
                {
                    LayerNormKernel.Forward<float>(x.AsSpan(r * Cols, Cols), 1, Cols, affine ? w : default, affine ? b : default, 1e-5f, row, rowMean, rowRstd);
                    for (int c = 0; c < Cols; c++)
                        if (BitConverter.SingleToInt32Bits(row[c]) != BitConverter.SingleToInt32Bits(y[offset + r * Cols + c]))
                            Assert.Fail($"layer_norm {width} streamed [{Rows}, {Cols}] offset {offset} affine={affine}: y[{r}, {c}] = {y[offset + r * Cols + c]:R}, row by row {row[c]:R}");
                    Assert.Equal(rowMean[0], mean[r]);
                    Assert.Equal(rowRstd[0], rstd[r]);
                }
            }
    });

    // Softmax over the last axis with an output of NonTemporal.MinBytes or more stages each row's exponentials in a stack
    // row and streams the result (the backward streams dx) from the first register-aligned element of each row: from
    // misaligned outputs and odd rows it must have the bits of the same rows computed one call at a time (cached stores).
    [Theory, MemberData(nameof(AllWidths))]
    public void Softmax_streamed_forward_and_backward_at_each_width_have_the_bits_of_row_by_row_calls(SimdWidth width) => OnWidth(width, () =>
    {
        const int Rows = 1025, Cols = 1027;
        Assert.True((long)Rows * Cols * sizeof(float) >= NonTemporal.MinBytes, "the shape must reach the streamed path");
        var x = Data(Rows * Cols, 31, 4);
        var g = Data(Rows * Cols, 32, 1);
        var row = new float[Cols];
        foreach (int offset in new[] { 0, 1, 3 })
            foreach (bool log in new[] { false, true })
            {
                var y = new float[Rows * Cols + offset];
                Reduction.Softmax<float>(x, Rows, Cols, 1, y.AsSpan(offset), log);
                var dx = new float[Rows * Cols + offset];
                Reduction.SoftmaxBackward<float>(g, y.AsSpan(offset), Rows, Cols, 1, dx.AsSpan(offset), log);
                if (offset == 0)
                {
                    // in place (dst = src, dx = g), as the ops allow
                    var inPlace = (float[])x.Clone();
                    Reduction.Softmax<float>(inPlace, Rows, Cols, 1, inPlace, log);
                    Assert.True(inPlace.AsSpan().SequenceEqual(y), $"softmax {width} streamed in place log={log}");
                    var gInPlace = (float[])g.Clone();
                    Reduction.SoftmaxBackward<float>(gInPlace, y, Rows, Cols, 1, gInPlace, log);
                    Assert.True(gInPlace.AsSpan().SequenceEqual(dx), $"softmax backward {width} streamed in place log={log}");
                }
                for (int r = 0; r < Rows; r++)
                {
                    Reduction.Softmax<float>(x.AsSpan(r * Cols, Cols), 1, Cols, 1, row, log);
                    for (int c = 0; c < Cols; c++)
                        if (BitConverter.SingleToInt32Bits(row[c]) != BitConverter.SingleToInt32Bits(y[offset + r * Cols + c]))
                            Assert.Fail($"softmax {width} streamed [{Rows}, {Cols}] offset {offset} log={log}: y[{r}, {c}] = {y[offset + r * Cols + c]:R}, row by row {row[c]:R}");
                    Reduction.SoftmaxBackward<float>(g.AsSpan(r * Cols, Cols), y.AsSpan(offset + r * Cols, Cols), 1, Cols, 1, row, log);
                    for (int c = 0; c < Cols; c++)
                        if (BitConverter.SingleToInt32Bits(row[c]) != BitConverter.SingleToInt32Bits(dx[offset + r * Cols + c]))
                            Assert.Fail($"softmax backward {width} streamed [{Rows}, {Cols}] offset {offset} log={log}: dx[{r}, {c}] = {dx[offset + r * Cols + c]:R}, row by row {row[c]:R}");
                }
            }
    });

    [Theory, MemberData(nameof(AllWidths))]
    public void BatchNorm_at_each_width_matches_float64_forward_and_backward(SimdWidth width) => OnWidth(width, () =>
    {
        const int N = 2, C = 3;
        int[] spatial = [.. Enumerable.Range(1, 40), 63, 64, 65, 255, 257];
        foreach (int s in spatial)
        {
            int count = N * C * s;
            var x = Data(count + 1, s, 2);
            for (int i = 1; i < x.Length; i++) x[i] += 1;
            var g = Data(count + 1, s + 1, 1);
            float[] w = [0.5f, 1.5f, -2f], b = [0.1f, -0.2f, 0.3f];
            var y = new float[count + 1];
            var mean = new float[C];
            var invStd = new float[C];
            BatchNormKernel.Forward<float>(x.AsSpan(1), N, C, s, w, b, 1e-5f, y.AsSpan(1), mean, invStd);
            var dx = new float[count + 1];
            var dw = new float[C];
            var db = new float[C];
            BatchNormKernel.Backward<float>(x.AsSpan(1), g.AsSpan(1), N, C, s, w, mean, invStd, dx.AsSpan(1), dw, db);

            var ey = new double[count];
            var edx = new double[count];
            var edw = new double[C];
            var edb = new double[C];
            int m = N * s;
            for (int c = 0; c < C; c++)
            {
                double mu = 0, v = 0, sg = 0, sgx = 0;
                for (int n = 0; n < N; n++) for (int k = 0; k < s; k++) mu += x[1 + (n * C + c) * s + k];
                mu /= m;
                for (int n = 0; n < N; n++) for (int k = 0; k < s; k++) v += Math.Pow(x[1 + (n * C + c) * s + k] - mu, 2);
                double inv = 1 / Math.Sqrt(v / m + 1e-5);
                for (int n = 0; n < N; n++)
                    for (int k = 0; k < s; k++)
                    {
                        int at = (n * C + c) * s + k;
                        double xh = (x[1 + at] - mu) * inv;
                        ey[at] = xh * w[c] + b[c];
                        sg += g[1 + at];
                        sgx += g[1 + at] * xh;
                    }
                edw[c] = sgx;
                edb[c] = sg;
                for (int n = 0; n < N; n++)
                    for (int k = 0; k < s; k++)
                    {
                        int at = (n * C + c) * s + k;
                        double xh = (x[1 + at] - mu) * inv;
                        edx[at] = w[c] * inv / m * (m * g[1 + at] - sg - xh * sgx);
                    }
            }
            string what = $"batch_norm {width} [{N}, {C}, {s}]";
            KernelAssert.Close(ey, y.AsSpan(1), 2e-5, what);
            KernelAssert.Close(edx, dx.AsSpan(1), 2e-4, what + " dx");   // s = 1: M = 2, invstd up to ~300
            KernelAssert.Close(edw, dw, 2e-5, what + " dw");
            KernelAssert.Close(edb, db, 2e-5, what + " db");
        }
    });
}
