using Ember.Kernels.Loops;

namespace Ember.Tests.Kernels;

public class ActivationGradientTests
{
    [Theory]
    [InlineData(37)]          // scalar tail only
    [InlineData(100_003)]     // vector body, several parallel chunks and a tail
    public void ReluBackward_passes_the_gradient_where_the_output_is_positive_or_NaN(int n)
    {
        var rng = new Random(n);
        var g = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var y = Enumerable.Range(0, n).Select(i => i % 7 == 0 ? 0f : i % 11 == 0 ? float.NaN : (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var dx = new float[n];
        ActivationGradients.ReluBackward<float>(g, y, dx);
        // 0 at y ≤ 0, g at NaN, like threshold_backward (libtorch 2.10 via torch-oracle: see ElementwiseOpsTests' relu NaN test)
        for (int i = 0; i < n; i++) Assert.Equal(y[i] <= 0 ? 0f : g[i], dx[i]);

        var gd = g.Select(v => (double)v).ToArray();
        var yd = y.Select(v => (double)v).ToArray();
        var dxd = new double[n];
        ActivationGradients.ReluBackward<double>(gd, yd, dxd);
        for (int i = 0; i < n; i++) Assert.Equal(yd[i] <= 0 ? 0.0 : gd[i], dxd[i]);
    }

    [Fact]
    public void ReluBackward_rejects_short_inputs()
    {
        var ex = Assert.Throws<ArgumentException>(() => ActivationGradients.ReluBackward<float>(new float[3], new float[2], new float[3]));
        Assert.Contains("ReluBackward", ex.Message);
        Assert.Contains("3-element", ex.Message);
    }
}
