using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

public class InitTests
{
    static (double Mean, double Std, double Min, double Max) Stats(Tensor t)
    {
        var v = t.ToDoubleArray();
        double mean = v.Average();
        return (mean, Math.Sqrt(v.Select(x => (x - mean) * (x - mean)).Average()), v.Min(), v.Max());
    }

    [Fact]
    public void Gains_and_fans_follow_PyTorch()
    {
        Assert.Equal(1, Init.CalculateGain(Nonlinearity.Linear));
        Assert.Equal(5.0 / 3, Init.CalculateGain(Nonlinearity.Tanh));
        Assert.Equal(Math.Sqrt(2), Init.CalculateGain(Nonlinearity.Relu));
        Assert.Equal(Math.Sqrt(2 / 1.0001), Init.CalculateGain(Nonlinearity.LeakyRelu), 12);
        Assert.Equal(Math.Sqrt(1.0 / 3), Init.CalculateGain(Nonlinearity.LeakyRelu, Math.Sqrt(5)), 12);
        Assert.Equal(0.75, Init.CalculateGain(Nonlinearity.Selu));
        Assert.Equal((3 * 9, 16 * 9), Init.CalculateFanInAndFanOut(Torch.Zeros(16, 3, 3, 3)));
        var ex = Assert.Throws<ArgumentException>(() => Init.CalculateFanInAndFanOut(Torch.Zeros(5)));
        Assert.Contains("[5]", ex.Message);
    }

    [Fact]
    public void Uniform_family_stays_within_its_bounds_with_the_right_spread()
    {
        var g = new Generator(42);
        var w = Torch.Empty([400, 250]);
        double a = Math.Sqrt(6.0 / 650);
        var s = Stats(Init.XavierUniform(w, generator: g));
        Assert.True(s.Min >= -a && s.Max <= a);
        Assert.Equal(a / Math.Sqrt(3), s.Std, 0.01 * a);
        Assert.InRange(s.Mean, -0.01 * a, 0.01 * a);

        double b = Math.Sqrt(2) * Math.Sqrt(3.0 / 250);
        s = Stats(Init.KaimingUniform(w, nonlinearity: Nonlinearity.Relu, generator: g));
        Assert.True(s.Min >= -b && s.Max <= b && s.Max > 0.99 * b);
        double bOut = Math.Sqrt(2) * Math.Sqrt(3.0 / 400);
        s = Stats(Init.KaimingUniform(w, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu, generator: g));
        Assert.True(s.Max <= bOut && s.Max > 0.99 * bOut);

        s = Stats(Init.Uniform(w, -2, 3, g));
        Assert.True(s.Min >= -2 && s.Max <= 3);
        Assert.Equal(0.5, s.Mean, 0.02);
    }

    [Fact]
    public void Normal_family_has_the_right_moments()
    {
        var g = new Generator(7);
        var w = Torch.Empty([500, 200]);
        var s = Stats(Init.Normal(w, 1, 2, g));
        Assert.Equal(1, s.Mean, 0.02);
        Assert.Equal(2, s.Std, 0.02);
        s = Stats(Init.XavierNormal(w, gain: 2, generator: g));
        Assert.Equal(2 * Math.Sqrt(2.0 / 700), s.Std, 0.002);
        s = Stats(Init.KaimingNormal(w, mode: FanMode.FanIn, nonlinearity: Nonlinearity.Relu, generator: g));
        Assert.Equal(Math.Sqrt(2.0 / 200), s.Std, 0.002);
        Init.Constant(w, 0.5);
        Assert.All(w.ToDoubleArray(), v => Assert.Equal(0.5, v));
        Assert.All(Init.Zeros(w).ToDoubleArray(), v => Assert.Equal(0, v));
        Assert.All(Init.Ones(w).ToDoubleArray(), v => Assert.Equal(1, v));
    }

    [Fact]
    public void TruncNormal_respects_its_bounds_and_the_truncated_moments()
    {
        var w = Torch.Empty([100000]);
        var s = Stats(Init.TruncNormal(w, mean: 0, std: 1, a: -1, b: 2, generator: new Generator(3)));
        Assert.True(s.Min >= -1 && s.Max <= 2);
        // truncated N(0,1) on [α, β] = [−1, 2], Z = Φ(β) − Φ(α): mean = (φ(α) − φ(β))/Z = 0.2296,
        // var = 1 + (αφ(α) − βφ(β))/Z − mean² = 0.5198, std = 0.7210
        Assert.Equal(0.2296, s.Mean, 0.01);
        Assert.Equal(0.7210, s.Std, 0.01);
        s = Stats(Init.TruncNormal(w, mean: 0, std: 0.02, generator: new Generator(4)));
        Assert.Equal(0.02, s.Std, 0.0005); // ViT's trunc_normal(std=.02): bounds ±2 are 100σ away
    }

    [Fact]
    public void Orthogonal_gives_orthonormal_rows_or_columns()
    {
        var tall = Init.Orthogonal(Torch.Empty([6, 4]), generator: new Generator(1));
        TestUtil.Close(Torch.Eye(4), tall.T.MatMul(tall), 1e-5, 1e-5);
        var wide = Init.Orthogonal(Torch.Empty([3, 2, 4]), gain: 2, generator: new Generator(2)).Reshape(3, 8);
        TestUtil.Close(Torch.Eye(3) * 4.0, wide.MatMul(wide.T), 1e-5, 1e-5);
    }

    [Fact]
    public void Layer_defaults_equal_PyTorch_reset_parameters()
    {
        Torch.ManualSeed(0);
        var lin = new Linear(64, 300, generator: new Generator(9));
        double bound = 1 / Math.Sqrt(64);
        var w = Stats(lin.Weight);
        Assert.True(w.Min >= -bound && w.Max <= bound && w.Max > 0.99 * bound);
        Assert.Equal(bound / Math.Sqrt(3), w.Std, 0.02 * bound);
        var b = Stats(lin.Bias!);
        Assert.True(b.Min >= -bound && b.Max <= bound && b.Max > 0.9 * bound);
        var emb = Stats(new Embedding(1000, 50, generator: new Generator(1)).Weight);
        Assert.Equal(0, emb.Mean, 0.02);
        Assert.Equal(1, emb.Std, 0.02);
        var bn = new BatchNorm2d(4);
        TestUtil.Close([1, 1, 1, 1], bn.Weight!);
        TestUtil.Close([0, 0, 0, 0], bn.Bias!);
        TestUtil.Close([1, 1, 1], new LayerNorm(3).Weight!);
        // same generator seed, same weights
        TestUtil.Close(new Linear(3, 2, generator: new Generator(5)).Weight, new Linear(3, 2, generator: new Generator(5)).Weight, 0, 0);
    }
}
