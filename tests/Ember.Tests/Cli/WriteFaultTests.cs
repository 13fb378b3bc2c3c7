using Ember.Cli.Commands;
using Ember.Interop;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>
/// The cells of the command × fault matrix (docs/robustness.md) that no other test covered: a disk that fills up while
/// `ember train`, `export`, `forecast eval` and `forecast predict` write. Each is exit 5 with "the disk is full", no
/// stack trace, no half-written file under a final name, and what was there before left whole (a run resumes from it).
/// </summary>
public sealed class WriteFaultTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-write-faults").FullName;

    public void Dispose() => Directory.Delete(root, true);

    static void AssertDiskFull((int Code, string Stdout, string Stderr) result, string what)
    {
        var (code, stdout, stderr) = result;
        Assert.True(code == ExitCodes.FileSystem, $"{what}: exit code {code}: {stderr}{stdout}");
        Assert.StartsWith("ember: the disk is full", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
    }

    static (int Code, string Stdout, string Stderr) WithCheckpointFault(Action<string> fault, string[] args)
    {
        Checkpoint.FaultInjection.Value = fault;
        try { return CliFailureTests.Invoke(args); }
        finally { Checkpoint.FaultInjection.Value = null; }
    }

    // the files <paramref name="failing"/> picks fail after <paramref name="room"/> bytes, as on a disk that fills up
    static (int Code, string Stdout, string Stderr) WithFullDisk(Func<string, bool> failing, long room, string[] args)
    {
        AtomicFile.FaultInjection.Value = (path, stream) => failing(path) ? new DetectFaultTests.FullDiskStream(stream, room) : stream;
        try { return CliFailureTests.Invoke(args); }
        finally { AtomicFile.FaultInjection.Value = null; }
    }

    [Fact]
    public void Train_whose_checkpoint_save_meets_a_full_disk_keeps_the_previous_last_and_resumes_to_the_same_weights()
    {
        string[] options = ["--model", "mlp", "--epochs", "2", "--limit", "256", "--batch-size", "64", "--schedule", "none", "--plain"];
        var project = Path.Combine(root, "train");
        // epoch 1 writes best/ and last/; the third swap is epoch 2's first save
        int swaps = 0;
        AssertDiskFull(WithCheckpointFault(file => { if (file == "swap" && ++swaps == 3) throw new IOException("No space left on device", 28); },
            ["train", .. options, "--project", project]), "train");
        var run = Path.Combine(project, "exp1");
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.Equal((1, true), (state.Epoch, state.EpochComplete));
        Assert.Empty(Directory.GetDirectories(run, ".*"));

        var (code, stdout, stderr) = CliFailureTests.Invoke(["train", "--resume", run]);
        Assert.True(code == 0, $"resume: exit code {code}: {stderr}{stdout}");
        var (straight, _, straightErr) = CliFailureTests.Invoke(["train", .. options, "--project", project]);
        Assert.True(straight == 0, straightErr);
        Assert.Equal(ResumeTests.Sha256(Path.Combine(project, "exp2", "last", Checkpoint.ModelFile)), ResumeTests.Sha256(Path.Combine(run, "last", Checkpoint.ModelFile)));
    }

    [Theory]
    [InlineData("onnx")]
    [InlineData("safetensors")]
    public void Export_that_meets_a_full_disk_leaves_no_file(string format)
    {
        var run = ExportCommandTests.TinyRun("mlp");
        try
        {
            var output = Path.Combine(root, "export", "model." + format);
            Directory.CreateDirectory(Path.GetDirectoryName(output)!);
            AssertDiskFull(WithFullDisk(p => p == output, 1000, ["export", run, "--format", format, "--output", output]), "export " + format);
            Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(output)!)); // neither the file nor its temporary
        }
        finally { Directory.Delete(Path.GetDirectoryName(run)!, true); }
    }

    [Fact]
    public void Forecast_eval_and_predict_that_meet_a_full_disk_keep_the_runs_files_whole()
    {
        var project = Path.Combine(root, "forecast");
        var data = ForecastFaultTests.Series(Directory.CreateDirectory(Path.Combine(root, "series")).FullName);
        var (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "train", "--data", data, "--epochs", "2", "--hidden", "8", "--lookback", "24", "--horizon", "3",
            "--val", "12", "--test", "12", "--project", project, "--plain"]);
        Assert.True(code == 0, $"forecast train: exit code {code}: {stderr}{stdout}");
        var run = Path.Combine(project, "exp1");
        var before = CliFailureTests.Snapshot(run);

        AssertDiskFull(WithFullDisk(p => p.EndsWith("test_metrics.csv", StringComparison.Ordinal), 10, ["forecast", "eval", run]), "forecast eval");
        AssertDiskFull(WithFullDisk(p => p.EndsWith("predictions.csv", StringComparison.Ordinal), 10, ["forecast", "predict", run]), "forecast predict");
        Assert.Equal(before, CliFailureTests.Snapshot(run)); // no predictions.csv, no .tmp, test_metrics.csv as train wrote it

        (code, _, stderr) = CliFailureTests.Invoke(["forecast", "predict", run]);
        Assert.True(code == 0, stderr);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(run, "predictions.csv")).Length);
    }
}
