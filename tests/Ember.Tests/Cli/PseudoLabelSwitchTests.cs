using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Training;

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

    [Fact]
    public void AnInterruptedPseudoLabelRunResumesOnTheSamePseudoLabelsAndWeights()
    {
        var project = Directory.CreateTempSubdirectory("ember-pseudo").FullName;
        try
        {
            // 40 labelled + up to 120 pseudo-labelled images in batches of 32; a threshold that depends on the teacher
            var config = new TrainConfig { Model = "mlp", Epochs = 2, BatchSize = 32, Lr = 0.01, Limit = 160, Labelled = 40, PseudoLabel = 0.3, Plain = true, Seed = 5, Project = project };
            Assert.Equal(0, TrainJob.Run(config, null, new StringWriter()));
            Assert.Equal(130, TrainJob.Run(config, null, new StringWriter(), interruptAfterBatches: 3)); // Ctrl-C in epoch 1
            string straight = Path.Combine(project, "exp1"), cut = Path.Combine(project, "exp2");
            var selection = File.ReadAllText(Path.Combine(cut, PseudoLabelStage.SelectionFile));
            var summary = File.ReadAllText(Path.Combine(cut, "pseudo_labels.csv"));
            Assert.Equal(File.ReadAllText(Path.Combine(straight, PseudoLabelStage.SelectionFile)), selection);
            int taken = int.Parse(summary.Split('\n')[1].Split(',')[3], CultureInfo.InvariantCulture);
            Assert.Equal(taken + 1, selection.TrimEnd('\n').Split('\n').Length); // header + one row per pseudo-label
            Assert.InRange(taken, 1, 120); // the selection depends on the teacher

            Assert.Equal(0, TrainJob.Run(new TrainConfig(), cut, new StringWriter()));
            foreach (var saved in new[] { "last/model.safetensors", "last/optimizer.safetensors", "best/model.safetensors" })
                Assert.True(ResumeTests.Sha256(Path.Combine(straight, saved)) == ResumeTests.Sha256(Path.Combine(cut, saved)), $"{saved} differs from the uninterrupted run's");

            // extending both runs by an epoch: the teacher would now train 3 epochs, but the recorded pseudo-labels stay
            var more = new Dictionary<string, string?> { ["epochs"] = "3" };
            Assert.Equal(0, TrainJob.Run(new TrainConfig(), straight, new StringWriter(), resumeOverrides: more));
            Assert.Equal(0, TrainJob.Run(new TrainConfig(), cut, new StringWriter(), resumeOverrides: more));
            Assert.Equal(selection, File.ReadAllText(Path.Combine(cut, PseudoLabelStage.SelectionFile)));
            Assert.Equal(summary, File.ReadAllText(Path.Combine(cut, "pseudo_labels.csv")));
            Assert.Equal(ResumeTests.Sha256(Path.Combine(straight, "last/model.safetensors")), ResumeTests.Sha256(Path.Combine(cut, "last/model.safetensors")));

            // the resumed run trains on what the file says: other labels give other weights
            var file = Path.Combine(cut, PseudoLabelStage.SelectionFile);
            var rows = File.ReadAllLines(file);
            File.WriteAllLines(file, [rows[0], .. rows.Skip(1).Select(r => r.Split(',')[0] + "," + ((long.Parse(r.Split(',')[1], CultureInfo.InvariantCulture) + 1) % 10).ToString(CultureInfo.InvariantCulture))]);
            Assert.Equal(0, TrainJob.Run(new TrainConfig(), cut, new StringWriter(), resumeOverrides: new Dictionary<string, string?> { ["epochs"] = "4" }));
            Assert.Equal(0, TrainJob.Run(new TrainConfig(), straight, new StringWriter(), resumeOverrides: new Dictionary<string, string?> { ["epochs"] = "4" }));
            Assert.NotEqual(ResumeTests.Sha256(Path.Combine(straight, "last/model.safetensors")), ResumeTests.Sha256(Path.Combine(cut, "last/model.safetensors")));

            // a damaged or missing record is a named error, not a silent new teacher
            File.WriteAllLines(file, [rows[0], "59999,3"]);
            var e = Assert.Throws<CheckpointException>(() => TrainJob.Run(new TrainConfig(), cut, new StringWriter(), resumeOverrides: new Dictionary<string, string?> { ["epochs"] = "5" }));
            Assert.Contains("row 2 names training image 59999, which is not an unlabelled image of this run", e.Message);
            File.Delete(file);
            e = Assert.Throws<CheckpointException>(() => TrainJob.Run(new TrainConfig(), cut, new StringWriter(), resumeOverrides: new Dictionary<string, string?> { ["epochs"] = "5" }));
            Assert.Contains($"{PseudoLabelStage.SelectionFile} is missing", e.Message);
        }
        finally { Directory.Delete(project, true); }
    }

    [Theory]
    [InlineData("--pseudo-label 0.9", "pseudo_label 0.9 has no effect without labelled")]
    [InlineData("--labelled 100 --pseudo-label 1", "pseudo_label must be 0 (off) or a confidence threshold in (0, 1), got 1")]
    [InlineData("--labelled -1", "labelled must be 0 (every image labelled) or a positive number")]
    public void MisusedSwitchesAreNamedErrors(string options, string message)
        => TrainSwitchErrors.AssertRefused(options, message);

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
