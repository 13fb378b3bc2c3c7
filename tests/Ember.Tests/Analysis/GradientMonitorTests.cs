using Ember.Analysis;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;
using Xunit.Abstractions;

namespace Ember.Tests.Analysis;

public class GradientMonitorTests(ITestOutputHelper output)
{
    const int Depth = GradientFlowExperiment.Depth;

    static GradientReport RunExperiment(string kind) => GradientFlowExperiment.Run(kind);

    [Fact]
    public void Deep_sigmoid_mlp_gradients_vanish_toward_the_input_while_relu_bn_and_residual_keep_them()
    {
        // Notes 003: in a deep sigmoid net the layers near the input get vanishing gradients; ReLU with BN, or residual
        // connections, keep them comparable across depth.
        var sigmoid = RunExperiment("sigmoid");
        var reluBn = RunExperiment("relu+bn");
        var residual = RunExperiment("residual");
        var relu = RunExperiment("relu");   // printed for docs/analysis.md, not asserted
        foreach (var (name, r) in new[] { ("sigmoid", sigmoid), ("relu", relu), ("relu+bn", reluBn), ("residual", residual) })
            output.WriteLine($"== {name} ==\n{r}\n");
        Assert.Equal(Depth, sigmoid.Layers.Count);
        Assert.True(sigmoid.FirstToLastGradNorm < 1e-3, $"sigmoid first/last = {sigmoid.FirstToLastGradNorm}");
        // Monotone decay toward the input across the hidden layers.
        for (int i = 1; i < Depth - 1; i++) Assert.True(sigmoid.Layers[i - 1].MeanGradNorm < sigmoid.Layers[i].MeanGradNorm);
        Assert.InRange(reluBn.FirstToLastGradNorm, 0.1, 10);
        Assert.InRange(residual.FirstToLastGradNorm, 0.1, 10);
        Assert.Empty(reluBn.Flagged);
        Assert.Empty(residual.Flagged);
    }

    [Fact]
    public void Experiment_is_seeded_and_rejects_unknown_architectures()
    {
        Assert.Equal(RunExperiment("relu").Layers.Select(l => l.MeanGradNorm), RunExperiment("relu").Layers.Select(l => l.MeanGradNorm));
        var ex = Assert.Throws<ArgumentException>(() => GradientFlowExperiment.Build("tanh"));
        Assert.Contains("valid choices: sigmoid, relu, relu+bn, residual", ex.Message);
    }

    [Fact]
    public void Report_flags_vanishing_exploding_and_missing_layers()
    {
        var model = new Sequential(new Linear(4, 4), new Linear(4, 4), new Linear(4, 2));
        var monitor = new GradientMonitor(model);
        Assert.Equal(["0.weight", "1.weight", "2.weight"], monitor.Names);
        var w = model.Parameters().Where(p => p.Rank == 2).ToList();
        using (Torch.NoGrad())
        {
            w[0].Grad = Torch.FullLike(w[0], 1e-9);                  // tiny relative to U(−½, ½) weights
            w[1].Grad = Torch.FullLike(w[1], 1e3);
        }
        var step = monitor.Record();
        Assert.Equal(Math.Sqrt(16) * 1e3, step[1].GradNorm, 6);
        Assert.True(double.IsNaN(step[2].GradNorm));
        var report = monitor.Report();
        Assert.Equal([GradientFlag.Vanishing, GradientFlag.Exploding, GradientFlag.Missing], report.Layers.Select(l => l.Flag));
        Assert.Contains("Vanishing", report.ToString());
        Assert.Equal(GradientFlag.Ok, monitor.Report(vanishingRatio: 1e-12).Layers[0].Flag);
    }

    [Fact]
    public void Report_without_steps_and_empty_filters_are_errors()
    {
        var model = new Sequential(new Linear(2, 2));
        var ex = Assert.Throws<InvalidOperationException>(() => new GradientMonitor(model).Report());
        Assert.Contains("GradientMonitor.Report", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => new GradientMonitor(model, (_, p) => p.Rank > 5));
        Assert.Contains("Sequential", ex2.Message);
    }
}
