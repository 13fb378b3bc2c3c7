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
