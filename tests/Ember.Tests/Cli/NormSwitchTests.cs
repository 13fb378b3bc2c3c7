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

    [Theory]
    [InlineData("--norm ln", "unknown norm 'ln'; valid choices: bn, gn, cmbn")]
    [InlineData("--norm gn --model mlp", "norm gn applies to the cnn model only")]
    [InlineData("--norm cmbn", "norm cmbn has no effect with accumulate 1")]
    public void MisusedNormsAreNamedErrors(string options, string message)
    {
        var parts = options.Split(' ');
        var overrides = new Dictionary<string, string?>();
        for (int i = 0; i < parts.Length; i += 2) overrides[parts[i][2..].Replace('-', '_')] = parts[i + 1];
        var e = Assert.Throws<ConfigException>(() => TrainCommand.Resolve(null, overrides));
        Assert.Contains(message, e.Message);
    }

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
