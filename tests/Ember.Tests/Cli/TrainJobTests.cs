using Ember.Cli.Commands;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>Tiny end-to-end runs of `ember train` on a slice of the embedded Fashion-MNIST.</summary>
public class TrainJobTests
{
    static TrainConfig Tiny(string project, int epochs) => new()
    {
        Model = "mlp", Epochs = epochs, BatchSize = 64, Limit = 512, Project = project, Plain = true, Seed = 3, Schedule = "cosine",
    };

    [Fact]
    public void A_tiny_run_fills_the_run_folder()
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        var output = new StringWriter();
        Assert.Equal(0, TrainJob.Run(Tiny(project, 1), null, output));
        var run = Path.Combine(project, "exp1");
        foreach (var file in new[] { "args.yaml", "metrics.csv", "results.png", "confusion_matrix.png", "summary.md", "last/checkpoint.json", "best/model.safetensors" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"missing {file}");
        var csv = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.Equal("epoch,train_loss,train_acc,val_loss,top1,top5,lr,time_s", csv[0]);
        Assert.Equal(2, csv.Length);
        Assert.Contains("epoch 1/1: train loss", output.ToString()); // plain mode: lines, no redraws
        Assert.DoesNotContain("\u001b[", output.ToString());
        Assert.Contains("| T-shirt/top |", File.ReadAllText(Path.Combine(run, "summary.md")));
        Assert.Equal(0, TrainJob.Run(Tiny(project, 1), null, new StringWriter()));
        Assert.True(Directory.Exists(Path.Combine(project, "exp2"))); // N counts up
        Directory.Delete(project, true);
    }

    [Fact]
    public void A_run_interrupted_mid_epoch_resumes_onto_the_same_curve()
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        TrainJob.Run(Tiny(project, 2), null, new StringWriter());
        var straight = File.ReadAllLines(Path.Combine(project, "exp1", "metrics.csv"));
        // 8 batches per epoch: stop after batch 5 of epoch 1, as Ctrl-C would, then resume from the run folder
        Assert.Equal(130, TrainJob.Run(Tiny(project, 2), null, new StringWriter(), interruptAfterBatches: 5));
        var cut = Path.Combine(project, "exp2");
        Assert.False(Checkpoint(cut).EpochComplete);
        Assert.Equal(5, Checkpoint(cut).BatchesDone);
        Assert.Equal(0, TrainJob.Run(new TrainConfig(), cut, new StringWriter()));
        var resumed = File.ReadAllLines(Path.Combine(cut, "metrics.csv"));
        Assert.Equal(3, resumed.Length);
        string[] Columns(string line, params int[] k) => k.Select(i => line.Split(',')[i]).ToArray();
        // epoch 1's validation and all of epoch 2 are bit-identical (epoch 1's train mean covers only the resumed batches)
        Assert.Equal(Columns(straight[1], 3, 4, 5), Columns(resumed[1], 3, 4, 5));
        Assert.Equal(Columns(straight[2], 1, 2, 3, 4, 5, 6), Columns(resumed[2], 1, 2, 3, 4, 5, 6));
        Directory.Delete(project, true);
    }

    static Ember.Training.CheckpointState Checkpoint(string run) => Ember.Training.Checkpoint.ReadState(Path.Combine(run, "last"));

    [Fact]
    public void A_missing_resume_folder_or_data_folder_gives_a_clear_message()
    {
        var ex = Assert.Throws<DirectoryNotFoundException>(() => TrainJob.Run(new TrainConfig(), "/nonexistent/runs/train/exp42"));
        Assert.Contains("resume folder not found: /nonexistent/runs/train/exp42", ex.Message);
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        var ex2 = Assert.Throws<DirectoryNotFoundException>(() => TrainJob.Run(new TrainConfig { Data = "/nonexistent/fmnist", Project = project }, null, new StringWriter()));
        Assert.Contains("data folder not found: /nonexistent/fmnist", ex2.Message);
        Assert.Contains("train-images-idx3-ubyte.gz", ex2.Message);
    }
}
