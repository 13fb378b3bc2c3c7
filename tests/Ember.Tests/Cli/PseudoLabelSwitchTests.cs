using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>`ember train --labelled N --pseudo-label T`.</summary>
public class PseudoLabelSwitchTests
{
    [Fact]
    public void LabelledSplitKeepsTheFirstImagesOfEachClassInEqualShares()
    {
        long[] labels = [2, 0, 1, 0, 2, 1, 0, 2, 1, 0, 0];
        var (labelled, unlabelled) = PseudoLabelStage.LabelledSplit(labels, classes: 3, count: 7); // quotas 3, 2, 2
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], labelled);
        Assert.Equal([7, 8, 9, 10], unlabelled);
        var (few, rest) = PseudoLabelStage.LabelledSplit(labels, classes: 3, count: 3);      // one per class
        Assert.Equal([0, 1, 2], few);
        Assert.Equal(labels.Length - 3, rest.Length);
    }

    static (string Run, string[] Losses) Train(string project, TrainConfig config)
    {
        Assert.Equal(0, TrainJob.Run(config with { Project = project }, null, new StringWriter()));
        var run = Directory.GetDirectories(project).Single();
        return (run, [.. File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => l.Split(',')[1])]);
    }

    [Fact]
    public void PseudoLabelsJoinTheLabelledImagesAndChangeTheRun()
    {
        var project = Directory.CreateTempSubdirectory("ember-pseudo").FullName;
        try
        {
            var baseline = new TrainConfig { Model = "mlp", Epochs = 2, BatchSize = 32, Limit = 160, Labelled = 40, Plain = true, Seed = 5 };
            var (plainRun, plain) = Train(Path.Combine(project, "a"), baseline);
            Assert.False(File.Exists(Path.Combine(plainRun, "pseudo_labels.csv")));
            // every softmax over 10 classes has a top probability ≥ 0.1: all 120 unlabelled images are taken
            var (allRun, all) = Train(Path.Combine(project, "b"), baseline with { PseudoLabel = 0.1 });
            var row = File.ReadAllLines(Path.Combine(allRun, "pseudo_labels.csv"));
            Assert.Equal(PseudoLabelStage.CsvHeader, row[0]);
            var fields = row[1].Split(',');
            Assert.Equal(["40", "120", "0.1", "120"], fields[..4]);
            double precision = double.Parse(fields[4], CultureInfo.InvariantCulture);
            Assert.InRange(precision, 0, 1);
            Assert.NotEqual(plain, all);
            // a threshold above every confidence reached takes none: the run then trains on the 40 labelled images alone
            var (noneRun, _) = Train(Path.Combine(project, "c"), baseline with { PseudoLabel = 0.999999 });
            Assert.Equal("0", File.ReadAllLines(Path.Combine(noneRun, "pseudo_labels.csv"))[1].Split(',')[3]);
        }
        finally { Directory.Delete(project, true); }
    }

    [Theory]
    [InlineData("--pseudo-label 0.9", "pseudo_label 0.9 has no effect without labelled")]
    [InlineData("--labelled 100 --pseudo-label 1", "pseudo_label must be 0 (off) or a confidence threshold in (0, 1), got 1")]
    [InlineData("--labelled -1", "labelled must be 0 (every image labelled) or a positive number")]
    public void MisusedSwitchesAreNamedErrors(string options, string message)
    {
        var parts = options.Split(' ');
        var overrides = new Dictionary<string, string?>();
        for (int i = 0; i < parts.Length; i += 2) overrides[parts[i][2..].Replace('-', '_')] = parts[i + 1];
        var e = Assert.Throws<ConfigException>(() => TrainCommand.Resolve(null, overrides));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void MoreLabelledImagesThanTheRunHasIsAnError()
    {
        var project = Directory.CreateTempSubdirectory("ember-pseudo").FullName;
        try
        {
            var e = Assert.Throws<ConfigException>(() => TrainJob.Run(new TrainConfig { Model = "mlp", Epochs = 1, Limit = 50, Labelled = 60, Plain = true, Project = project }, null, new StringWriter()));
            Assert.Contains("labelled 60 is more than the 50 training images", e.Message);
        }
        finally { Directory.Delete(project, true); }
    }
}
