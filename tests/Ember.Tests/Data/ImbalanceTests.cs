using Ember.Data;
using Ember.Data.Imbalance;

namespace Ember.Tests.Data;

public class ImbalanceTests
{
    // A synthetic imbalanced set: 90 samples of class 0 around (0, 0), 10 of class 1 around (5, 5), 0 of class 2.
    static (Tensor X, long[] Y) Imbalanced()
    {
        var g = new Generator(0);
        var x = new float[100 * 2];
        var y = new long[100];
        for (int i = 0; i < 100; i++)
        {
            y[i] = i < 90 ? 0 : 1;
            x[2 * i] = (float)(g.NextNormal() + 5 * y[i]);
            x[2 * i + 1] = (float)(g.NextNormal() + 5 * y[i]);
        }
        return (Torch.FromArray(x, [100, 2]), y);
    }

    [Fact]
    public void CountsAndInverseFrequencyWeights()
    {
        var (_, y) = Imbalanced();
        Assert.Equal(new long[] { 90, 10, 0 }, ClassWeights.Counts(y, 3));
        var w = ClassWeights.InverseFrequency(y, 3);
        TestUtil.Close([100.0 / (3 * 90), 100.0 / (3 * 10), 0], w);
        var sw = ClassWeights.SampleWeights(y, 3);
        Assert.Equal(1.0 / 90, sw[0], 12);
        Assert.Equal(1.0 / 10, sw[95], 12);
        var e = Assert.Throws<ArgumentException>(() => ClassWeights.Counts([0, 1, 7], 3));
        Assert.Contains("sample 2", e.Message);
        Assert.Contains("label 7", e.Message);
    }

    [Fact]
    public void WeightedSamplerWithSampleWeightsBalancesClasses()
    {
        var (_, y) = Imbalanced();
        var sampler = new WeightedRandomSampler(ClassWeights.SampleWeights(y, 2), 4000);
        var drawn = sampler.Indices(new Generator(1)).Select(i => y[i]).ToArray();
        Assert.InRange(drawn.Count(l => l == 1) / 4000.0, 0.46, 0.54);
    }

    [Fact]
    public void RandomOverAndUnderSampling()
    {
        var (_, y) = Imbalanced();
        var over = RandomOverSampler.Resample(y, 2, new Generator(0));
        Assert.Equal(180, over.Length);
        Assert.Equal(90, over.Count(i => y[i] == 1));
        Assert.Equal(Enumerable.Range(0, 100), over.Take(100));
        var under = RandomUnderSampler.Resample(y, 2, new Generator(0));
        Assert.Equal(20, under.Length);
        Assert.Equal(10, under.Count(i => y[i] == 0));
        Assert.Equal(under.Order(), under);
        Assert.Equal(under, RandomUnderSampler.Resample(y, 2, new Generator(0)));
    }

    [Fact]
    public void SmoteInterpolatesBetweenMinorityNeighbours()
    {
        var (x, y) = Imbalanced();
        var (xr, yr) = new Smote(k: 3).FitResample(x, Torch.FromArray(y, [100]), 2, new Generator(7));
        Assert.Equal(new Shape(180, 2), xr.Shape);
        Assert.Equal(DType.Float32, xr.DType);
        var labels = yr.ToArray<long>();
        Assert.Equal(90, labels.Count(l => l == 1));
        Assert.Equal(x.ToDoubleArray(), xr.Narrow(0, 0, 100).ToDoubleArray());
        // Every synthetic point lies on a segment between a minority sample and one of its 3 nearest minority neighbours.
        var minority = Enumerable.Range(90, 10).Select(i => (x[i, 0].Item(), x[i, 1].Item())).ToArray();
        var xs = xr.ToArray<float>();
        for (int s = 100; s < 180; s++)
        {
            Assert.Equal(1, labels[s]);
            double px = xs[2 * s], py = xs[2 * s + 1];
            bool onSegment = false;
            for (int a = 0; a < 10 && !onSegment; a++)
            {
                var near = Enumerable.Range(0, 10).Where(b => b != a)
                    .OrderBy(b => Math.Pow(minority[a].Item1 - minority[b].Item1, 2) + Math.Pow(minority[a].Item2 - minority[b].Item2, 2)).Take(3);
                foreach (var b in near)
                {
                    double dx = minority[b].Item1 - minority[a].Item1, dy = minority[b].Item2 - minority[a].Item2;
                    double u = Math.Abs(dx) > Math.Abs(dy) ? (px - minority[a].Item1) / dx : (py - minority[a].Item2) / dy;
                    if (u >= -1e-5 && u <= 1 + 1e-5 && Math.Abs(minority[a].Item1 + u * dx - px) < 1e-4 && Math.Abs(minority[a].Item2 + u * dy - py) < 1e-4)
                        onSegment = true;
                }
            }
            Assert.True(onSegment, $"synthetic sample {s} ({px}, {py}) is not between minority neighbours");
        }
        var again = new Smote(k: 3).FitResample(x, Torch.FromArray(y, [100]), 2, new Generator(7));
        Assert.Equal(xr.ToDoubleArray(), again.Features.ToDoubleArray());
    }
}
