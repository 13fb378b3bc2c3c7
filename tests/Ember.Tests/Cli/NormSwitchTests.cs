using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Cli;

/// <summary>`ember train --norm gn|cmbn` and the zoo's choice of normalization layer.</summary>
public class NormSwitchTests
{
    [Fact]
    public void TheCnnTakesGroupNormWithSixteenChannelsPerGroupOrCmBN()
    {
        var gn = ModelZoo.Create("cnn", norm: TrainJob.Norm(new TrainConfig { Norm = "gn" }));
        Assert.Empty(gn.Modules().OfType<BatchNorm>());
        Assert.Equal([(2, 32), (2, 32), (4, 64)], gn.Modules().OfType<GroupNorm>().Select(g => (g.NumGroups, g.NumChannels)));
        Assert.DoesNotContain(gn.StateDict().Keys, k => k.Contains("running_mean"));
        var cmbn = ModelZoo.Create("cnn", norm: TrainJob.Norm(new TrainConfig { Norm = "cmbn", Accumulate = 3 }));
        Assert.Equal([3, 3, 3], cmbn.Modules().OfType<CrossMiniBatchNorm2d>().Select(m => m.AccumulationSteps));
        Assert.Null(TrainJob.Norm(new TrainConfig()));
        Assert.Equal(3, ModelZoo.Create("cnn").Modules().OfType<BatchNorm2d>().Count());
        Assert.Contains("mlp has no choice of normalization layer", Assert.Throws<ArgumentException>(() => ModelZoo.Create("mlp", norm: c => new BatchNorm2d(c))).Message);
        Assert.Contains("vit has no choice of normalization layer", Assert.Throws<ArgumentException>(() => ModelZoo.Create("vit", norm: c => new BatchNorm2d(c))).Message);
    }

    [Fact]
    public void TheResNetsTakeGroupNormInEveryNormalizationSlot()
    {
        // the small resnet: stem, 3 stages × 2 blocks × 2, and the 2 projection shortcuts at widths 32, 64, 128
        var bn = ModelZoo.Create("resnet");
        var gn = ModelZoo.Create("resnet", norm: TrainJob.Norm(new TrainConfig { Model = "resnet", Norm = "gn" }));
        Assert.Empty(gn.Modules().OfType<BatchNorm>());
        var groups = gn.Modules().OfType<GroupNorm>().Select(g => (g.NumGroups, g.NumChannels)).ToList();
        Assert.Equal(bn.Modules().OfType<BatchNorm2d>().Select(b => (b.NumFeatures / 16, b.NumFeatures)), groups);
        Assert.Equal(15, groups.Count);
        Assert.Equal([2, 4, 8], groups.Select(g => g.NumGroups).Distinct().Order());
        // the same names as the BatchNorm model, less the running statistics: torchvision's norm_layer swap
        Assert.Equal(bn.StateDict().Keys.Where(k => !k.Contains("running_") && !k.Contains("num_batches_tracked")), gn.StateDict().Keys);
        // the torchvision resnets take it too, bottlenecks included
        var r50 = ModelZoo.Create("resnet50", norm: c => GroupNorm.WithChannelsPerGroup(c, 16));
        Assert.Empty(r50.Modules().OfType<BatchNorm>());
        Assert.Equal(2048 / 16, r50.Modules().OfType<GroupNorm>().Last().NumGroups);
        var cmbn = ModelZoo.Create("resnet", norm: TrainJob.Norm(new TrainConfig { Model = "resnet", Norm = "cmbn", Accumulate = 2 }));
        Assert.Equal(15, cmbn.Modules().OfType<CrossMiniBatchNorm2d>().Count());
    }

    static string[] Losses(string project, TrainConfig config)
    {
        Assert.Equal(0, TrainJob.Run(config with { Project = project }, null, new StringWriter()));
        var run = Directory.GetDirectories(project).Single();
        return [.. File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => l.Split(',')[1])];
    }

    [Fact]
    public void EachNormChangesTheRunAndAGroupNormRunEvaluates()
    {
        var project = Directory.CreateTempSubdirectory("ember-norm").FullName;
        try
        {
            var baseline = new TrainConfig { Model = "cnn", Epochs = 1, BatchSize = 16, Limit = 64, Accumulate = 2, Plain = true, Seed = 2 };
            var bn = Losses(Path.Combine(project, "bn"), baseline);
            Assert.NotEqual(bn, Losses(Path.Combine(project, "gn"), baseline with { Norm = "gn" }));
            Assert.NotEqual(bn, Losses(Path.Combine(project, "cmbn"), baseline with { Norm = "cmbn" }));
            // eval rebuilds the model from args.yaml: a GroupNorm checkpoint loads into a GroupNorm model
            var run = Directory.GetDirectories(Path.Combine(project, "gn")).Single();
            var (code, _, stderr) = CliFailureTests.Invoke(["eval", run]);
            Assert.True(code == 0, stderr);
        }
        finally { Directory.Delete(project, true); }
    }

    [Fact]
    public void AGroupNormResNetNormalizesEachImageOnItsOwn()
    {
        // BatchNorm in training mode mixes the images of a batch; GroupNorm does not: an image's output is the same
        // alone or beside others. The two models share every weight but the norms'.
        Torch.ManualSeed(4);
        var bn = ModelZoo.Create("resnet");
        var gn = ModelZoo.Create("resnet", norm: TrainJob.Norm(new TrainConfig { Model = "resnet", Norm = "gn" }));
        var shared = bn.StateDict().Where(kv => gn.StateDict().ContainsKey(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        gn.LoadStateDict(shared);
        var x = Torch.Randn([3, 1, 28, 28]);
        var first = x.Narrow(0, 0, 1);
        Assert.InRange(MaxDifference(gn.Call(first), gn.Call(x).Narrow(0, 0, 1)), 0, 1e-5);
        Assert.True(MaxDifference(bn.Call(x.Narrow(0, 0, 2)).Narrow(0, 0, 1), bn.Call(x).Narrow(0, 0, 1)) > 1e-3);
    }

    static double MaxDifference(Tensor a, Tensor b)
    {
        float[] x = a.ToArray<float>(), y = b.ToArray<float>();
        double max = 0;
        for (int i = 0; i < x.Length; i++) max = Math.Max(max, Math.Abs(x[i] - y[i]));
        return max;
    }

    [Theory]
    [InlineData("--norm ln", "unknown norm 'ln'; valid choices: bn, gn, cmbn")]
    [InlineData("--norm gn --model mlp", "norm gn applies to the convolutional models cnn and resnet only (mlp keeps its own normalization: BatchNorm1d")]
    [InlineData("--norm gn --model vit", "norm gn applies to the convolutional models cnn and resnet only (vit keeps its own normalization: LayerNorm")]
    [InlineData("--norm cmbn", "norm cmbn has no effect with accumulate 1")]
    public void MisusedNormsAreNamedErrors(string options, string message)
        => TrainSwitchErrors.AssertRefused(options, message);

    [Fact]
    public void NormsAreAblationComponents()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ember-ablate").FullName, "study.yaml");
        File.WriteAllText(path, """
            baseline: {model: cnn, epochs: 1, accumulate: 2}
            components:
              gn: {norm: gn}
              cmbn: {norm: cmbn}
            design: singles
            """);
        var study = AblationStudy.Load(path);
        Assert.Equal("gn", study.Configure(study.Baseline, "gn").Norm);
        Assert.Equal("cmbn", study.Configure(study.Baseline, "cmbn").Norm);
        File.WriteAllText(path, File.ReadAllText(path).Replace("accumulate: 2", "accumulate: 1"));
        Assert.Contains("norm cmbn has no effect with accumulate 1", Assert.Throws<ConfigException>(() => AblationStudy.Load(path)).Message);
    }
}
