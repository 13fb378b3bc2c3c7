using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Data;
using Ember.Data.Imbalance;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Cli;

/// <summary>`ember train --dropout-kind`, `--drop-block`, `--undersample tomek`, `--oversample smote-tomek` and `--tta`, and every technique switch as an ablation component.</summary>
public class TechniqueSwitchTests
{
    static TrainConfig Tiny(string model = "mlp") => new() { Model = model, Epochs = 1, BatchSize = 16, Limit = 64, Plain = true, Seed = 3 };

    static (string Run, string[] Losses, TrainOutcome Outcome) Train(string project, TrainConfig config)
    {
        TrainOutcome? outcome = null;
        Assert.Equal(0, TrainJob.Run(config with { Project = project }, null, new StringWriter(), finished: o => outcome = o));
        var run = Directory.GetDirectories(project).Single();
        return (run, [.. File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => l.Split(',')[1])], outcome!);
    }

    [Fact]
    public void DropoutKindReplacesEveryDropoutLayerWithTheSameRate()
    {
        var mlp = TrainJob.CreateModel(Tiny() with { DropoutKind = "gaussian" }, 10);
        Assert.Empty(mlp.Modules().OfType<Dropout>());
        Assert.Equal([0.2, 0.2], mlp.Modules().OfType<GaussianDropout>().Select(d => d.P));
        var cnn = TrainJob.CreateModel(Tiny("cnn") with { DropoutKind = "uniform" }, 10);
        Assert.Empty(cnn.Modules().OfType<Dropout>());
        Assert.Equal([0.3, 0.3], cnn.Modules().OfType<UniformDropout>().Select(d => d.Beta));
        Assert.Equal(2, TrainJob.CreateModel(Tiny(), 10).Modules().OfType<Dropout>().Count());
    }

    [Fact]
    public void EachDropoutKindChangesTheRun()
    {
        var project = Directory.CreateTempSubdirectory("ember-dropout").FullName;
        try
        {
            var standard = Train(Path.Combine(project, "s"), Tiny()).Losses;
            var gaussian = Train(Path.Combine(project, "g"), Tiny() with { DropoutKind = "gaussian" }).Losses;
            var uniform = Train(Path.Combine(project, "u"), Tiny() with { DropoutKind = "uniform" }).Losses;
            Assert.NotEqual(standard, gaussian);
            Assert.NotEqual(standard, uniform);
            Assert.NotEqual(gaussian, uniform);
        }
        finally { Directory.Delete(project, true); }
    }

    [Fact]
    public void DropBlockActsAfterTheFirstPoolInTrainingOnlyAndAddsNoState()
    {
        Torch.ManualSeed(1);
        var plain = new FashionCnn();
        var block = new DropBlock2d(0, 7);
        var blocked = new FashionCnn(dropBlock: block);
        blocked.LoadStateDict(plain.StateDict());
        Assert.Equal(plain.StateDict().Keys, blocked.StateDict().Keys);
        var x = Torch.Randn([4, 1, 28, 28]);
        // eval everywhere so that the classifier's dropout is off; DropBlock is then the only noise
        plain.Eval(); blocked.Eval();
        block.DropProb = 0.5;
        var expected = plain.Call(x).ToArray<float>();
        Assert.Equal(expected, blocked.Call(x).ToArray<float>()); // the identity in evaluation
        block.Train(); // the block alone in training mode
        Assert.NotEqual(expected, blocked.Call(x).ToArray<float>());
        block.DropProb = 0;
        Assert.Equal(expected, blocked.Call(x).ToArray<float>());
    }

    [Fact]
    public void DropBlockIsScheduledByTheTrainerAndChangesACnnRun()
    {
        var model = TrainJob.CreateModel(Tiny("cnn") with { DropBlock = 0.2, DropBlockSize = 5 }, 10);
        Assert.Equal(5, model.Modules().OfType<DropBlock2d>().Single().BlockSize);
        var project = Directory.CreateTempSubdirectory("ember-dropblock").FullName;
        try
        {
            var plain = Train(Path.Combine(project, "a"), Tiny("cnn")).Losses;
            // (it adds no state, so eval's rebuilt model loads the checkpoint: see the test above)
            var (_, blocked, _) = Train(Path.Combine(project, "b"), Tiny("cnn") with { DropBlock = 0.5 });
            Assert.NotEqual(plain, blocked);
        }
        finally { Directory.Delete(project, true); }
    }

    // 2-D points stored as 1×1×2 images
    static (IDataset<(Tensor Image, long Label)> Set, long[] Labels) Points(float[,] xy, long[] labels)
    {
        var images = Torch.FromArray(Enumerable.Range(0, labels.Length).SelectMany(i => new[] { xy[i, 0], xy[i, 1] }).ToArray(), [labels.Length, 1, 1, 2]);
        var set = new TensorDataset(images, Torch.FromArray(labels, [labels.Length]));
        return (new TransformDataset<Tensor[], (Tensor, long)>(set, (item, _) => (item[0], (long)item[1].Item())), labels);
    }

    [Fact]
    public void UndersampleTomekRemovesTheMajorityMemberOfEachLink()
    {
        // (3, 3) of class 0 and (3.2, 3) of class 1 are each other's nearest neighbours: a link. (6, 6)'s nearest is
        // (3.2, 3) but not the other way round, so it is in no link; class 1 is the minority and keeps its member.
        var (set, labels) = Points(new float[,] { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 3, 3 }, { 3.2f, 3 }, { 6, 6 } }, [0, 0, 0, 0, 1, 1]);
        var (kept, keptLabels) = TrainJob.TomekUndersample(set, labels, classes: 2);
        Assert.Equal([0L, 0, 0, 1, 1], keptLabels);
        Assert.Equal([3.2f, 3f], kept[3].Image.ToArray<float>());
        Assert.Equal([6f, 6f], kept[4].Image.ToArray<float>());
    }

    [Fact]
    public void OversampleSmoteTomekRemovesBothMembersOfTheLinksSmoteLeaves()
    {
        var (set, _) = Points(new float[,] { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 }, { 3, 3 }, { 2.6f, 2.6f }, { 5, 5 }, { 5, 4 } }, [0, 0, 0, 0, 0, 1, 1, 1]);
        var (smote, smoteLabels) = TrainJob.SmoteOversample(set, 2, seed: 4);
        var (both, bothLabels) = TrainJob.SmoteOversample(set, 2, seed: 4, tomek: true);
        Assert.Equal(10, smote.Count); // 5 + 5: the minority grown to the majority's size
        var features = Torch.Stack(Enumerable.Range(0, smote.Count).Select(i => smote[i].Image).ToArray()).Reshape([smote.Count, 2]);
        var links = TomekLinks.Find(features, Torch.FromArray(smoteLabels, [smoteLabels.Length]));
        Assert.NotEmpty(links); // (3, 3) and (2.6, 2.6) at least
        Assert.Equal(smote.Count - 2 * links.Count, both.Count);
        var removed = links.SelectMany(l => new[] { l.First, l.Second }).ToHashSet();
        Assert.Equal([.. Enumerable.Range(0, smote.Count).Where(i => !removed.Contains(i)).Select(i => smoteLabels[i])], bothLabels);
    }

    [Fact]
    public void TtaScoresTheFinalWeightsAsEvalTtaDoes()
    {
        var project = Directory.CreateTempSubdirectory("ember-tta").FullName;
        try
        {
            var (plainRun, _, plain) = Train(Path.Combine(project, "a"), Tiny());
            var (ttaRun, _, tta) = Train(Path.Combine(project, "b"), Tiny() with { Tta = true });
            // the same training, scored two ways
            Assert.Equal(ResumeTests.Sha256(Path.Combine(plainRun, "last", "model.safetensors")), ResumeTests.Sha256(Path.Combine(ttaRun, "last", "model.safetensors")));
            Assert.NotEqual(plain.Top1, tta.Top1);
            var (code, stdout, stderr) = CliFailureTests.Invoke(["eval", ttaRun, "--tta", "--checkpoint", "last"]);
            Assert.True(code == 0, stderr);
            var line = stdout.Split('\n').Single(l => l.StartsWith("with TTA top-1", StringComparison.Ordinal));
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"top-1 {100 * tta.Top1:F2}%"), line);
            Assert.Contains("with TTA", File.ReadAllText(Path.Combine(ttaRun, "summary.md")));
        }
        finally { Directory.Delete(project, true); }
    }

    [Theory]
    [InlineData("--dropout-kind gaussian --model resnet", "dropout_kind gaussian has no effect with model resnet")]
    [InlineData("--dropout-kind poisson", "unknown dropout_kind 'poisson'; valid choices: standard, gaussian, uniform")]
    [InlineData("--drop-block 0.1 --model mlp", "drop_block 0.1 applies to the cnn model only")]
    [InlineData("--drop-block 1", "drop_block must be 0 (off) or a target drop probability in (0, 1), got 1")]
    [InlineData("--drop-block 0.1 --drop-block-size 15", "drop_block_size must be between 1 and 14")]
    [InlineData("--drop-block-size 5", "drop_block_size 5 has no effect without drop_block")]
    [InlineData("--undersample random", "unknown undersample 'random'; valid choices: none, tomek")]
    [InlineData("--oversample smote-tomek --augment true", "oversample smote-tomek interpolates the stored images")]
    public void MisusedSwitchesAreNamedErrors(string options, string message)
        => TrainSwitchErrors.AssertRefused(options, message);

    [Fact]
    public void EveryClassificationTechniqueIsAnAblationComponent()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ember-ablate").FullName, "study.yaml");
        File.WriteAllText(path, """
            baseline: {model: cnn, epochs: 1, accumulate: 2, imbalance: 10}
            components:
              gaussian: {dropout_kind: gaussian}
              uout: {dropout_kind: uniform}
              dropblock: {drop_block: 0.1, drop_block_size: 7}
              gn: {norm: gn}
              cmbn: {norm: cmbn}
              prior: {bias_prior: true}
              focal: {loss: focal}
              weighted: {sampler: weighted}
              smote: {oversample: smote}
              smote_tomek: {oversample: smote-tomek}
              tomek: {undersample: tomek}
              pseudo: {labelled: 1000, pseudo_label: 0.9}
              tta: {tta: true}
              velocity: {optimizer: sgd, momentum_form: velocity}
            design: singles
            """);
        var study = AblationStudy.Load(path);
        var b = study.Baseline;
        Assert.Equal("gaussian", study.Configure(b, "gaussian").DropoutKind);
        Assert.Equal("uniform", study.Configure(b, "uout").DropoutKind);
        Assert.Equal((0.1, 7), (study.Configure(b, "dropblock").DropBlock, study.Configure(b, "dropblock").DropBlockSize));
        Assert.Equal("gn", study.Configure(b, "gn").Norm);
        Assert.Equal("cmbn", study.Configure(b, "cmbn").Norm);
        Assert.True(study.Configure(b, "prior").BiasPrior);
        Assert.Equal("focal", study.Configure(b, "focal").Loss);
        Assert.Equal("weighted", study.Configure(b, "weighted").Sampler);
        Assert.Equal("smote", study.Configure(b, "smote").Oversample);
        Assert.Equal("smote-tomek", study.Configure(b, "smote_tomek").Oversample);
        Assert.Equal("tomek", study.Configure(b, "tomek").Undersample);
        Assert.Equal((1000, 0.9), (study.Configure(b, "pseudo").Labelled, study.Configure(b, "pseudo").PseudoLabel));
        Assert.True(study.Configure(b, "tta").Tta);
        Assert.Equal("velocity", study.Configure(b, "velocity").MomentumForm);
    }
}
