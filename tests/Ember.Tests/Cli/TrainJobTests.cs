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
    public void A_missing_resume_folder_or_data_folder_gives_a_clear_message()
    {
        var ex = Assert.Throws<DirectoryNotFoundException>(() => TrainJob.Run(new TrainConfig(), "/nonexistent/runs/train/exp42"));
        Assert.Contains("resume folder not found: /nonexistent/runs/train/exp42", ex.Message);
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        var ex2 = Assert.Throws<DirectoryNotFoundException>(() => TrainJob.Run(new TrainConfig { Data = "/nonexistent/fmnist", Project = project }, null, new StringWriter()));
        Assert.Contains("--data /nonexistent/fmnist: no such data set or folder", ex2.Message);
        Assert.Contains("train-images-idx3-ubyte.gz", ex2.Message);
    }
}
