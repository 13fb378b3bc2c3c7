using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Nn.Losses;
using Ember.Optim;

namespace Ember.Tests.Nn;

/// <summary>Fixed and learned (Kendall et al. 2018) weighting of several losses.</summary>
public class MultiTaskLossTests
{
    static Tensor Scalar(double v) => Torch.FromArray([v], [1]).Reshape([]);

    [Fact]
    public void FixedWeightsSumAndLogEachTerm()
    {
        var sum = new FixedLossWeights(new Dictionary<string, double> { ["box"] = 0.05, ["cls"] = 0.5 });
        var total = sum.Forward(new Dictionary<string, Tensor> { ["box"] = Scalar(2.0), ["cls"] = Scalar(0.3) });
        Assert.Equal(0.05 * 2.0 + 0.5 * 0.3, total.Item(), 6);
        Assert.Equal((2.0, 0.05, 0.1), sum.LastTerms["box"], TermComparer);
        Assert.Equal((0.3, 0.5, 0.15), sum.LastTerms["cls"], TermComparer);
    }

    [Fact]
    public void GradientOfTheLogVarianceIsKendallsClosedForm()
    {
        // d/ds [0.5 e^(−s) L + 0.5 s] = 0.5 − 0.5 e^(−s) L; d/ds [e^(−s) L + 0.5 s] = 0.5 − e^(−s) L; at s = 0.
        var weighting = new UncertaintyLossWeights(new Dictionary<string, TaskKind> { ["depth"] = TaskKind.Regression, ["label"] = TaskKind.Classification });
        var lossA = new Parameter(Scalar(0.04));
        var lossB = new Parameter(Scalar(2.0));
        var total = weighting.Forward(new Dictionary<string, Tensor> { ["depth"] = lossA, ["label"] = lossB });
        Assert.Equal(0.5 * 0.04 + 2.0, total.Item(), 6);
        total.Backward();
        TestUtil.Close([0.5 - 0.5 * 0.04, 0.5 - 2.0], weighting.LogVars.Grad!, rtol: 1e-6);
        Assert.Equal(0.5, lossA.Grad!.Item(), 6);   // the loss itself is weighted by 0.5·e^0
        Assert.Equal(1.0, lossB.Grad!.Item(), 6);
    }

    [Fact]
    public void LearnedLogVariancesSettleWhereTheTheorySays()
    {
        // Constant losses: the optimum is s = log L (regression) and s = log 2L (classification).
        var weighting = new UncertaintyLossWeights(new Dictionary<string, TaskKind> { ["a"] = TaskKind.Regression, ["b"] = TaskKind.Classification });
        var adam = new Adam(weighting.Parameters(), new AdamOptions { LearningRate = 0.05 });
        for (int step = 0; step < 600; step++)
        {
            adam.ZeroGrad();
            weighting.Forward(new Dictionary<string, Tensor> { ["a"] = Scalar(0.04), ["b"] = Scalar(2.0) }).Backward();
            adam.Step();
        }
        TestUtil.Close([Math.Log(0.04), Math.Log(4.0)], weighting.LogVars, rtol: 0, atol: 0.02);
    }

    [Fact]
    public void TheNoisierTaskIsGivenLessWeight()
    {
        // Two regression heads on the same inputs, one target with noise σ = 0.1, the other with σ = 1. At the optimum the
        // learned σᵢ² match each task's residual variance, so s_noisy − s_clean ≈ log(1 / 0.01) and the clean task gets
        // about a hundred times the weight.
        var g = new Generator(3);
        var x = Torch.Randn([512, 4], DType.Float32, g);
        var w = Torch.FromArray(new float[] { 0.5f, -1, 2, 0.3f, 1, 1, -0.5f, 0.2f }, [4, 2]);
        var clean = x.MatMul(w.Select(1, 0).Reshape(4, 1)) + Torch.Randn([512, 1], DType.Float32, g) * 0.1;
        var noisy = x.MatMul(w.Select(1, 1).Reshape(4, 1)) + Torch.Randn([512, 1], DType.Float32, g) * 1.0;
        var model = new Linear(4, 2, generator: new Generator(4));
        var weighting = new UncertaintyLossWeights(new Dictionary<string, TaskKind> { ["clean"] = TaskKind.Regression, ["noisy"] = TaskKind.Regression });
        var adam = new Adam(model.Parameters().Concat(weighting.Parameters()), new AdamOptions { LearningRate = 0.03 });
        for (int step = 0; step < 800; step++)
        {
            adam.ZeroGrad();
            var y = model.Forward(x);
            weighting.Forward(new Dictionary<string, Tensor>
            {
                ["clean"] = F.MseLoss(y.Narrow(1, 0, 1), clean),
                ["noisy"] = F.MseLoss(y.Narrow(1, 1, 1), noisy),
            }).Backward();
            adam.Step();
        }
        var s = weighting.LogVars.ToDoubleArray();
        Assert.InRange(s[1] - s[0], Math.Log(100) - 0.5, Math.Log(100) + 0.5);
        Assert.True(weighting.LastTerms["clean"].Weight > 50 * weighting.LastTerms["noisy"].Weight,
            $"weights clean {weighting.LastTerms["clean"].Weight:G3}, noisy {weighting.LastTerms["noisy"].Weight:G3}");
    }

    [Fact]
    public void WrongNamesAndShapesAreErrors()
    {
        var weighting = new UncertaintyLossWeights(new Dictionary<string, TaskKind> { ["a"] = TaskKind.Regression });
        var e = Assert.Throws<ArgumentException>(() => weighting.Forward(new Dictionary<string, Tensor> { ["b"] = Scalar(1) }));
        Assert.Contains("missing the loss 'a'", e.Message);
        e = Assert.Throws<ArgumentException>(() => weighting.Forward(new Dictionary<string, Tensor> { ["a"] = Scalar(1), ["b"] = Scalar(1) }));
        Assert.Contains("unexpected losses b", e.Message);
        e = Assert.Throws<ArgumentException>(() => weighting.Forward(new Dictionary<string, Tensor> { ["a"] = Torch.Ones([3]) }));
        Assert.Contains("'a' has shape [3], expected a scalar", e.Message);
        e = Assert.Throws<ArgumentException>(() => new FixedLossWeights(new Dictionary<string, double> { ["a"] = -1 }));
        Assert.Contains("'a' is -1", e.Message);
    }

    static readonly IEqualityComparer<(double, double, double)> TermComparer = new Near();

    sealed class Near : IEqualityComparer<(double, double, double)>
    {
        public bool Equals((double, double, double) a, (double, double, double) b)
            => Math.Abs(a.Item1 - b.Item1) < 1e-6 && Math.Abs(a.Item2 - b.Item2) < 1e-6 && Math.Abs(a.Item3 - b.Item3) < 1e-6;
        public int GetHashCode((double, double, double) obj) => 0;
    }
}
