using Ember.Kernels.Loops;

namespace Ember.Tests.Kernels;

public class ActivationGradientTests
{
    [Theory]
    [InlineData(37)]          // scalar tail only
    [InlineData(100_003)]     // vector body, several parallel chunks and a tail
    public void ReluBackward_passes_the_gradient_where_the_output_is_positive(int n)
    {
        var rng = new Random(n);
        var g = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var y = Enumerable.Range(0, n).Select(i => i % 7 == 0 ? 0f : i % 11 == 0 ? float.NaN : (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var dx = new float[n];
        ActivationGradients.ReluBackward<float>(g, y, dx);
        for (int i = 0; i < n; i++) Assert.Equal(y[i] > 0 ? g[i] : 0f, dx[i]);   // 0 at y = 0 and at NaN, like threshold_backward

        var gd = g.Select(v => (double)v).ToArray();
        var yd = y.Select(v => (double)v).ToArray();
        var dxd = new double[n];
        ActivationGradients.ReluBackward<double>(gd, yd, dxd);
        for (int i = 0; i < n; i++) Assert.Equal(yd[i] > 0 ? gd[i] : 0.0, dxd[i]);
    }

    [Fact]
    public void ReluBackward_rejects_short_inputs()
    {
        var ex = Assert.Throws<ArgumentException>(() => ActivationGradients.ReluBackward<float>(new float[3], new float[2], new float[3]));
        Assert.Contains("ReluBackward", ex.Message);
        Assert.Contains("3-element", ex.Message);
    }
}
