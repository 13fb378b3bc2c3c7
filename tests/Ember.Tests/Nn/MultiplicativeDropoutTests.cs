using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

/// <summary>Gaussian and uniform dropout: noise statistics, evaluation identity, gradients and errors.</summary>
public class MultiplicativeDropoutTests
{
    static (double Mean, double Variance) Moments(double[] v)
    {
        double mean = v.Average();
        return (mean, v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
    }

    [Fact]
    public void GaussianNoiseHasDropoutsMeanAndVarianceButZeroesNothing()
    {
        var ones = Torch.Ones([200_000], DType.Float64);
        var y = F.GaussianDropout(ones, 0.3, training: true, new Generator(1)).ToDoubleArray();
        var (mean, variance) = Moments(y);
        Assert.Equal(1.0, mean, 2);                       // E = 1, like dropout's 1/(1 − p) scaling
        Assert.Equal(0.3 / 0.7, variance, 2);             // Var = p/(1 − p), dropout's mask variance
        var dropped = F.Dropout(ones, 0.3, true, new Generator(1)).ToDoubleArray();
        Assert.Equal(0.3 / 0.7, Moments(dropped).Variance, 2);
        Assert.Contains(0.0, dropped);
        Assert.DoesNotContain(0.0, y);
    }

    [Fact]
    public void UniformNoiseIsBoundedWithVarianceBetaSquaredOverThree()
    {
        var y = F.UniformDropout(Torch.Ones([200_000], DType.Float64), 0.2, true, new Generator(2)).ToDoubleArray();
        var (mean, variance) = Moments(y);
        Assert.Equal(1.0, mean, 3);
        Assert.Equal(0.04 / 3, variance, 3);
        Assert.InRange(y.Min(), 0.8, 0.801);
        Assert.InRange(y.Max(), 1.199, 1.2);
    }

    [Fact]
    public void EvaluationIsTheIdentityAndTheGradientIsTheNoise()
    {
        var x = TestUtil.Leaf([4, 5], seed: 3);
        foreach (Module layer in new Module[] { new GaussianDropout(0.4, new Generator(4)), new UniformDropout(0.3, new Generator(4)) })
        {
            layer.Eval();
            Assert.Same(x, layer.Forward(x));
            layer.Train();
            var y = layer.Forward(x);
            y.Sum().Backward();
            TestUtil.Close((y / x).Detach(), x.Grad!, rtol: 1e-12, atol: 1e-12);   // d(x·noise)/dx = noise
            x.Grad = null;
        }
    }

    [Fact]
    public void OutOfRangeParametersAreErrors()
    {
        Assert.Contains("p = 1 gives an infinite noise variance", Assert.Throws<ArgumentException>(() => F.GaussianDropout(Torch.Ones([2]), 1.0)).Message);
        Assert.Contains("beta must be in [0, 1], got 1.5", Assert.Throws<ArgumentException>(() => new UniformDropout(1.5)).Message);
        Assert.Contains("p must be below 1", Assert.Throws<ArgumentException>(() => new GaussianDropout(1.0)).Message);
    }
}
