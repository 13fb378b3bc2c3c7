using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Data;
using Ember.Data.Transforms;
using Ember.Metrics;
using Ember.Models;
using Ember.Tests.Distributed;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>`ember train --nproc N`: the launcher, the ranks, one run folder, and signals across processes.</summary>
public class DistributedTrainTests
{
    [MpiFact]
    public void TwoProcessesWriteOneRunFolderWhoseCheckpointLoadsIntoAPlainModel()
    {
        var project = Directory.CreateTempSubdirectory("ember-ddp").FullName;
        var output = RunCli(0, "train", "--nproc", "2", "--model", "mlp", "--epochs", "2", "--limit", "512", "--batch-size", "64", "--plain", "--project", project);
        Assert.Equal(["exp1"], Directory.GetDirectories(project).Select(Path.GetFileName));
        var run = Path.Combine(project, "exp1");
        Assert.Contains("2 processes × 32 samples", output);
        Assert.Contains("nproc: 2", File.ReadAllText(Path.Combine(run, "args.yaml")));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
        // saved as the wrapped model: the keys of a one-process run, no "module." prefix
        var state = Checkpoint.Load(Path.Combine(run, "last"), ModelZoo.Create("mlp"));
        Assert.Equal((2, true), (state.Epoch, state.EpochComplete));
        ShardedTestScoresEqualOneProcessScoringTheWholeTestSet(run);
        Directory.Delete(project, true);
    }

    [MpiFact]
    public void ShardedValidationWithEmaEqualsOneProcessScoringTheEmaWeights()
    {
        // with EMA each rank's shadow follows its own BatchNorm statistics; rank 0's must be the ones scored
        var project = Directory.CreateTempSubdirectory("ember-ddp").FullName;
        RunCli(0, "train", "--nproc", "2", "--model", "mlp", "--epochs", "1", "--limit", "512", "--batch-size", "64", "--ema", "0.9", "--plain", "--project", project);
        var run = Path.Combine(project, "exp1");
        var model = ModelZoo.Create("mlp");
        var ema = new ModelEma(model, decay: 0.9);
        Checkpoint.Load(Path.Combine(run, "last"), model, ema: ema);
        var (data, _) = DataSource.Resolve(TrainCommand.Resolve(null, new Dictionary<string, string?>()));
        var test = new Mnist(data.Folder, train: false, transform: new Normalize([data.Mean], [data.Std]));
        model.Eval();
        (ConfusionMatrix Confusion, double Loss, double Top5) scores;
        using (ema.Apply()) scores = TrainJob.Score(model.Call, new DataLoader<(Tensor, long)>(test, 500), data.Classes.Count);
        var row = File.ReadAllLines(Path.Combine(run, "metrics.csv"))[^1].Split(',');
        Assert.Equal(scores.Loss, double.Parse(row[3], CultureInfo.InvariantCulture), scores.Loss * 1e-5);
        Assert.Equal(scores.Confusion.Accuracy, double.Parse(row[4], CultureInfo.InvariantCulture), 1e-8);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"test accuracy of the final EMA weights: {100 * scores.Confusion.Accuracy:F2}%"), File.ReadAllText(Path.Combine(run, "summary.md")));
        Directory.Delete(project, true);
    }

    /// <summary>
    /// Each rank scored half of the test set; the reduced epoch validation (metrics.csv) and final test (summary.md:
    /// accuracy, macro F1, per-class precision and recall from the summed confusion matrix) must equal one process
    /// scoring the whole test set with the final weights (last/).
    /// </summary>
    static void ShardedTestScoresEqualOneProcessScoringTheWholeTestSet(string run)
    {
        var (model, config) = EvalCommand.Load(run, "last");
        var (data, _) = DataSource.Resolve(config);
        var test = new Mnist(data.Folder, train: false, transform: new Normalize([data.Mean], [data.Std]));
        var (confusion, loss, top5) = TrainJob.Score(model.Call, new DataLoader<(Tensor, long)>(test, 500), data.Classes.Count);
        Assert.Equal(10000, confusion.Total);
        var row = File.ReadAllLines(Path.Combine(run, "metrics.csv"))[^1].Split(',');
        double P(int i) => double.Parse(row[i], CultureInfo.InvariantCulture);
        Assert.Equal(loss, P(3), loss * 1e-5); // float32 batch means over other batches
        Assert.Equal(confusion.Accuracy, P(4), 1e-8); // G9 in the file
        Assert.Equal(top5, P(5), 1e-8);
        var summary = File.ReadAllText(Path.Combine(run, "summary.md"));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"test accuracy of the final weights: {100 * confusion.Accuracy:F2}%, macro F1 {confusion.F1(Average.Macro):F4}"), summary);
        for (int k = 0; k < confusion.NumClasses; k++)
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"| {data.Classes[k]} | {confusion.Precision(k):F3} | {confusion.Recall(k):F3} | {confusion.F1(k):F3} |"), summary);
    }

    [Theory]
    [InlineData(10, 1)]
    [InlineData(10, 3)]
    [InlineData(2, 4)]
    public void TestShardsCoverEachImageOnceWithoutPadding(int count, int world)
    {
        var seen = new List<int>();
        for (int rank = 0; rank < world; rank++)
        {
            var shard = TrainJob.TestShard(count, rank, world);
            Assert.All(shard, i => Assert.Equal(rank, i % world));
            seen.AddRange(shard);
        }
        Assert.Equal(Enumerable.Range(0, count), seen.Order());
    }

    [MpiFact]
    public void SigtermToTheLauncherStopsBothRanksAtOneBatchAndTheRunResumesInOneProcess()
    {
        var project = Directory.CreateTempSubdirectory("ember-ddp").FullName;
        // 16384 images, global batch 64 (32 per rank): 256 batches per epoch. With 2048 images the whole run (64 steps of
        // ~3 ms since DDP's world-of-one and warm-up changes) could end before the signal arrived, and the run then
        // finished instead of being interrupted (1 run in 3 failed).
        var (exit, output) = SignalTests.StopAfter(["train", "--nproc", "2", "--model", "mlp", "--epochs", "2", "--limit", "16384", "--batch-size", "64", "--schedule", "none", "--plain", "--project", project],
            "epoch 1/2", 15, lineSeconds: 180, exitSeconds: 90);
        Assert.True(exit == 143, $"exit code {exit}: {output}");
        Assert.Contains("interrupted (SIGTERM); resume with: ember train --resume", output);
        var run = Path.Combine(project, "exp1");
        var saved = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.True(saved.Epoch < 2 || !saved.EpochComplete, "stopped before the end of the run");
        // the cut epoch's sums cover both ranks (global batch 64); one process resuming takes their total
        if (!saved.EpochComplete) Assert.Equal(saved.BatchesDone * 64L, saved.PartialEpoch!.Samples);
        Assert.Equal(0, TrainJob.Run(new TrainConfig(), run, new StringWriter(), resumeOverrides: new Dictionary<string, string?> { ["nproc"] = "1" }));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
        Assert.Contains("nproc: 1", File.ReadAllText(Path.Combine(run, "args.yaml")));
        Directory.Delete(project, true);
    }

    /// <summary>Runs the CLI to its end and returns its output; fails on another exit code than <paramref name="expected"/>.</summary>
    static string RunCli(int expected, params string[] args)
    {
        var (exit, output) = SignalTests.RunToEnd(args, exitSeconds: 240);
        Assert.True(exit == expected, $"exit code {exit}, expected {expected}: {output}");
        return output;
    }

    [MpiFact]
    public void A_two_process_run_cut_by_SIGTERM_mid_epoch_resumes_in_two_processes_onto_the_unbroken_runs_rows()
    {
        var project = Directory.CreateTempSubdirectory("ember-ddp").FullName;
        // 8192 images, global batch 64 (32 per rank): 128 batches per epoch. The signal follows epoch 1's first-quarter
        // line (batch 32), so 224 batches are left for it to arrive before the run would end.
        string[] options = ["train", "--nproc", "2", "--model", "mlp", "--epochs", "2", "--limit", "8192", "--batch-size", "64", "--schedule", "onecycle", "--plain"];
        var (exit, output) = SignalTests.StopAfter([.. options, "--project", Path.Combine(project, "cut")], "epoch 1/2", 15, lineSeconds: 180, exitSeconds: 90);
        Assert.True(exit == 143, $"exit code {exit}: {output}");
        var run = Path.Combine(project, "cut", "exp1");
        var saved = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.True(saved.Epoch < 2 || !saved.EpochComplete, "stopped before the end of the run");
        // A stop that lands exactly on epoch 1's end (the signal 96 batches late) saves a whole epoch and no sums; the
        // rows must still match, but the sums are checked only when the cut fell inside an epoch (as it nearly always does).
        if (!saved.EpochComplete)
        {
            Assert.Equal(saved.BatchesDone * 64L, saved.PartialEpoch!.Samples);
            Assert.Equal([saved.BatchesDone * 32L, saved.BatchesDone * 32L], saved.PartialEpochRanks!.Select(r => r.Samples));
            Assert.Equal(PartialEpochSums.Total(saved.PartialEpochRanks!), saved.PartialEpoch);
        }

        // resumed as a job of two processes (args.yaml says nproc 2), then the same run unbroken
        Assert.Contains($"resuming {run}", RunCli(0, "train", "--resume", run, "--plain"));
        RunCli(0, [.. options, "--project", Path.Combine(project, "whole")]);
        var whole = Path.Combine(project, "whole", "exp1");
        var a = File.ReadAllLines(Path.Combine(whole, "metrics.csv"));
        var b = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.Equal(3, b.Length);
        // every column but time_s, the cut epoch's train_loss and train_acc included
        for (int i = 1; i < a.Length; i++) Assert.Equal(a[i][..a[i].LastIndexOf(',')], b[i][..b[i].LastIndexOf(',')]);
        Assert.True(ResumeTests.Sha256(Path.Combine(whole, "last", "model.safetensors")) == ResumeTests.Sha256(Path.Combine(run, "last", "model.safetensors")),
            "last/model.safetensors differs from the unbroken run's");
        Directory.Delete(project, true);
    }

    /// <summary>
    /// A two-process run that trained its epochs but lost its closing outputs (memory ran out in the final test, or the
    /// disk filled): `--resume`, again as two processes, scores the test set on both ranks and writes what is missing,
    /// training nothing; resumed as one process it scores the whole test set to the same numbers.
    /// </summary>
    [MpiFact]
    public void A_finished_two_process_run_without_its_closing_outputs_is_finished_by_resume_without_training()
    {
        var project = Directory.CreateTempSubdirectory("ember-ddp").FullName;
        RunCli(0, "train", "--nproc", "2", "--model", "mlp", "--epochs", "1", "--limit", "512", "--batch-size", "64", "--plain", "--project", project);
        var run = Path.Combine(project, "exp1");
        var summary = File.ReadAllText(Path.Combine(run, "summary.md"));
        string[] closing = ["summary.md", "results.png", "confusion_matrix.png"];
        foreach (var file in closing) File.Delete(Path.Combine(run, file));
        var single = Path.Combine(project, "single");
        TestFolders.Copy(run, single);
        var before = CliFailureTests.Snapshot(run);

        var output = RunCli(0, "train", "--resume", run, "--plain");
        Assert.Contains($"{run} finished its 1 epochs without its test scores; writing them", output);
        Assert.DoesNotContain("epoch 1/1", output);
        // the same test scores as the uninterrupted run's, and nothing else changed
        Assert.Equal(summary, File.ReadAllText(Path.Combine(run, "summary.md")));
        var after = CliFailureTests.Snapshot(run);
        foreach (var file in closing) Assert.True(after.Remove(file), file);
        Assert.Equal(before, after);
        Assert.Contains($"{run} already finished its 1 epochs", RunCli(0, "train", "--resume", run, "--plain"));

        // one process scores the whole test set: the same accuracy and F1 (the shards' confusion matrices summed)
        Assert.Equal(0, TrainJob.Run(new TrainConfig(), single, new StringWriter(), resumeOverrides: new Dictionary<string, string?> { ["nproc"] = "1" }));
        string Scores(string text) => text.Split('\n').Single(l => l.StartsWith("- test accuracy", StringComparison.Ordinal));
        Assert.Equal(Scores(summary), Scores(File.ReadAllText(Path.Combine(single, "summary.md"))));
        Directory.Delete(project, true);
    }

    [MpiFact]
    public void AnErrorOnRankZeroEndsTheWholeJobWithItsMessageInsteadOfLeavingRankOneWaiting()
    {
        // rank 0 cannot create the run folder; rank 1 has gone on to the model check's all-gather and waits there
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (exit, output) = SignalTests.RunToEnd(["train", "--nproc", "2", "--model", "mlp", "--limit", "64", "--epochs", "1", "--plain", "--project", "/proc/ember-cannot-write-here"], exitSeconds: 120);
        Assert.NotEqual(0, exit);
        Assert.Contains("[rank 0/2] aborting the job:", output);
        Assert.Contains("/proc/ember-cannot-write-here", output);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(100), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData(new[] { "--nproc", "3", "--batch-size", "128" }, "batch_size 128 does not divide among nproc 3 processes")]
    [InlineData(new[] { "--nproc", "0" }, "nproc must be between 1 and 4096, got 0")]
    [InlineData(new[] { "--sync-bn" }, "sync_bn has no effect with nproc 1")]
    public void AProcessCountThatCannotWorkIsAConfigurationError(string[] options, string message)
    {
        var overrides = new Dictionary<string, string?>();
        for (int i = 0; i < options.Length; i++)
            overrides[options[i][2..].Replace('-', '_')] = i + 1 < options.Length && !options[i + 1].StartsWith("--") ? options[++i] : "true";
        var e = Assert.Throws<ConfigException>(() => TrainCommand.Resolve(null, overrides));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void WeightedSamplingIsAcceptedWithSeveralProcesses()
    {
        var config = TrainCommand.Resolve(null, new Dictionary<string, string?> { ["nproc"] = "2", ["sampler"] = "weighted" });
        Assert.Equal((2, "weighted"), (config.Nproc, config.Sampler));
    }

    [Fact]
    public void OneProcessWithoutALauncherRefusesToTrainAsSeveral()
    {
        var e = Assert.Throws<ConfigException>(() => TrainJob.Run(new TrainConfig { Nproc = 2, Limit = 64, Epochs = 1, Project = Path.GetTempPath() }, null, new StringWriter()));
        Assert.Contains("nproc 2 needs the processes that `ember train --nproc 2` starts through mpirun", e.Message);
    }
}
