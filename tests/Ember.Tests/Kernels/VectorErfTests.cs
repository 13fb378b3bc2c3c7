using Ember.Kernels.Operators;

namespace Ember.Tests.Kernels;

public class VectorErfTests
{
    [Fact]
    public void Matches_the_double_precision_erf_across_the_range()
    {
        double worst = 0;
        for (int i = -70000; i <= 70000; i++)
        {
            double x = i * 1e-4, expected = ErrorFunction.Erf(x), actual = VectorErf.Erf(x);
            worst = Math.Max(worst, Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-300));
        }
        Assert.True(worst < 1e-13, $"worst relative error {worst:E2}");
        Assert.Equal(0.8427007929497149, VectorErf.Erf(1.0), 1e-14);          // erf(1)
        Assert.Equal(-0.9953222650189527, VectorErf.Erf(-2.0), 1e-14);        // erf(−2)
    }

    [Fact]
    public void Keeps_special_values()
    {
        Assert.True(double.IsNaN(VectorErf.Erf(double.NaN)));
        Assert.Equal(1.0, VectorErf.Erf(double.PositiveInfinity));
        Assert.Equal(-1.0, VectorErf.Erf(double.NegativeInfinity));
        Assert.True(double.IsNegative(VectorErf.Erf(-0.0)) && VectorErf.Erf(-0.0) == 0);
        Assert.Equal(1e-300 * 1.1283791670955126, VectorErf.Erf(1e-300), 1e-310);   // linear near 0
    }

    [Fact]
    public void Float_spans_are_the_rounded_double_erf_on_vector_body_and_tail()
    {
        var x = Enumerable.Range(0, 1003).Select(i => (float)((i - 501) * 0.011)).Append(float.NaN).ToArray();
        var y = new float[x.Length];
        VectorErf.Erf(x, y);
        for (int i = 0; i < x.Length - 1; i++) Assert.Equal((float)ErrorFunction.Erf(x[i]), y[i]);
        Assert.True(float.IsNaN(y[^1]));
        VectorErf.Erf(x, x);   // in place
        Assert.Equal(y.Take(1003), x.Take(1003));
    }
}

public class VectorErfSingleTests
{
    [Fact]
    public void Single_precision_erf_is_within_its_stated_error_and_keeps_special_values()
    {
        // Every float step from −5 to 5 (and the tail path for the last few), against the double erf.
        var x = Enumerable.Range(-500000, 1000003).Select(i => (float)(i * 1e-5)).ToArray();
        var y = new float[x.Length];
        VectorErf.ErfSingle(x, y);
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = ErrorFunction.Erf(x[i]);
            if (expected != 0) worst = Math.Max(worst, Math.Abs(y[i] - expected) / Math.Abs(expected));
        }
        Assert.True(worst < 1.5e-7, $"worst relative error {worst:E2}");
        Assert.True(worst > 0);
        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, 1e-30f, 3.99f, 4f, 10f, -3.92f, -1e30f];
        var s = new float[special.Length];
        VectorErf.ErfSingle(special, s);
        Assert.True(float.IsNaN(s[0]));
        Assert.Equal([1f, -1f], s[1..3]);
        Assert.True(float.IsNegative(s[3]) && s[3] == 0 && s[4] == 0 && !float.IsNegative(s[4]));
        Assert.Equal(1.1283791e-30f, s[5], 1e-36f);
        Assert.Equal((float)ErrorFunction.Erf(3.99), s[6]);
        Assert.Equal([1f, 1f, -1f, -1f], s[7..]);   // from 3.92 on erf rounds to ±1 in float
    }

    [Fact]
    public void The_float_exp_inside_it_is_within_a_few_ulp_and_keeps_its_special_values()
    {
        double worst = 0;
        for (int i = -87000; i <= 88000; i++)
        {
            float x = i * 1e-3f;
            float e = VectorErf.ExpSmallSingle<Simd128<float>, float>(Simd128<float>.Create(x)).ToScalar();
            double expected = Math.Exp(x);
            worst = Math.Max(worst, Math.Abs(e - expected) / expected);
        }
        Assert.True(worst < 5e-7, $"worst relative error {worst:E2}");
        float[] special = [float.NegativeInfinity, -90f, float.NaN, 89f, float.PositiveInfinity, 0f];
        var got = special.Select(v => VectorErf.ExpSmallSingle<Simd128<float>, float>(Simd128<float>.Create(v)).ToScalar()).ToArray();
        Assert.Equal(0f, got[0]);
        Assert.Equal(0f, got[1]);
        Assert.True(float.IsNaN(got[2]));
        Assert.Equal(float.PositiveInfinity, got[3]);
        Assert.Equal(float.PositiveInfinity, got[4]);
        Assert.Equal(1f, got[5]);
    }
}
