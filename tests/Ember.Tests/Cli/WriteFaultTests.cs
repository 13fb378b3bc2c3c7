using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Interop;
using Ember.Training;
using Xunit.Abstractions;

namespace Ember.Tests.Cli;

/// <summary>
/// The cells of the command × fault matrix (docs/robustness.md) that no other test covered: a disk that fills up while
/// `ember train`, `export`, `forecast train`, `forecast eval`, `forecast predict`, `variance-shift`, `lora-transfer`
/// and `detect make-data` write (evolve and ablate: <see cref="StudyFaultTests"/>). Each is exit 5 with "the disk is
/// full", no stack trace, no half-written file under a final name, and what was there before left whole (a run resumes
/// from it, an experiment is rerun).
/// </summary>
public sealed class WriteFaultTests(ITestOutputHelper output) : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-write-faults").FullName;

    public void Dispose() => Directory.Delete(root, true);

    internal static void AssertDiskFull((int Code, string Stdout, string Stderr) result, string what)
    {
        var (code, stdout, stderr) = result;
        Assert.True(code == ExitCodes.FileSystem, $"{what}: exit code {code}: {stderr}{stdout}");
        Assert.StartsWith("ember: the disk is full", stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
    }

    internal static (int Code, string Stdout, string Stderr) WithCheckpointFault(Action<string> fault, string[] args)
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

    /// <summary>
    /// The same on a real full disk: a tmpfs of 5.5 MiB (Linux as root; elsewhere the test says it asserted nothing). Epoch
    /// 1 leaves best/ (the model, 0.95 MB) and last/ (model and optimizer, 2.8 MB); epoch 2's save of last/ stages a
    /// second copy beside them and the kernel refuses its optimizer file part-way (ENOSPC).
    /// </summary>
    [Fact]
    public void Train_whose_checkpoint_save_fills_a_real_disk_keeps_the_previous_last_and_resumes_to_the_same_weights()
    {
        var disk = Directory.CreateDirectory(Path.Combine(root, "train-disk")).FullName;
        if (!MountTmpfs(disk, "5632k", output)) return;
        try
        {
            string[] options = ["--model", "mlp", "--epochs", "2", "--limit", "256", "--batch-size", "64", "--schedule", "none", "--plain"];
            var run = Path.Combine(disk, "train", "exp1");
            var result = WithStagedLast(run, out var staged, ["train", .. options, "--project", Path.Combine(disk, "train")]);
            AssertRealDiskFull(result, run, "train");
            AssertPreviousLastWhole(run, staged(), epoch: 1);

            Tool("mount", "-o", "remount,size=64m", disk); // the user frees some space
            var (code, stdout, stderr) = CliFailureTests.Invoke(["train", "--resume", run]);
            Assert.True(code == 0, $"resume: exit code {code}: {stderr}{stdout}");
            AssertNoTemporaries(run);
            (code, _, stderr) = CliFailureTests.Invoke(["train", .. options, "--project", Path.Combine(root, "train-whole")]);
            Assert.True(code == 0, stderr);
            var whole = Path.Combine(root, "train-whole", "exp1");
            foreach (var file in new[] { "last/model.safetensors", "last/optimizer.safetensors", "best/model.safetensors" })
                Assert.True(ResumeTests.Sha256(Path.Combine(run, file)) == ResumeTests.Sha256(Path.Combine(whole, file)), $"{file} differs from the undisturbed run's");
        }
        finally { Tool("umount", "-l", disk); }
    }

    /// <summary>
    /// Mounts a tmpfs of <paramref name="size"/> on <paramref name="folder"/> for a test of a real full disk; false, said in
    /// the test's output, where that cannot be done (not Linux, not root: the CI runs as root).
    /// </summary>
    internal static bool MountTmpfs(string folder, string size, ITestOutputHelper output)
    {
        if (OperatingSystem.IsLinux() && Environment.UserName == "root" && Tool("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", folder) == 0) return true;
        output.WriteLine($"NOT ASSERTED: a real full disk needs a tmpfs mounted on {folder}, which needs Linux and root (user {Environment.UserName})");
        return false;
    }

    /// <summary>
    /// Runs the command with <paramref name="args"/>; <paramref name="staged"/> then gives the files of the last checkpoint
    /// staged for <paramref name="run"/>'s last/ before its swap, the bytes a whole last/ has until the next save swaps in.
    /// </summary>
    internal static (int Code, string Stdout, string Stderr) WithStagedLast(string run, out Func<SortedDictionary<string, string>> staged, string[] args)
    {
        SortedDictionary<string, string>? seen = null;
        staged = () => seen ?? throw new InvalidOperationException("no checkpoint of last/ was staged");
        var stage = Path.Combine(run, ".last.new");
        return WithCheckpointFault(file => { if (file == "swap" && Directory.Exists(stage)) seen = CliFailureTests.Snapshot(stage); }, args);
    }

    /// <summary>
    /// Exit 5 for a write that the kernel refused (ENOSPC) in epoch 2's save of last/: "No space left", the file by the name
    /// the user knows (not the staging folder's temporary, gone by then), last/ whole at the end of epoch 1 and how to go on.
    /// </summary>
    internal static void AssertRealDiskFull((int Code, string Stdout, string Stderr) result, string run, string resume)
    {
        AssertDiskFull(result, resume);
        Assert.Contains($"(No space left on device : '{run}/last/{Checkpoint.OptimizerFile}'); ", result.Stderr);
        Assert.Contains($"; {run}/last is whole (saved at the end of epoch 1): free some space, then `ember {resume} --resume {run}` continues from there", result.Stderr);
        Assert.DoesNotContain("existing runs were not changed", result.Stderr);
        Assert.DoesNotContain(".tmp", result.Stderr);
        Assert.DoesNotContain(".last.new", result.Stderr);
    }

    /// <summary>last/ holds the bytes staged for it (<paramref name="staged"/>), reads as the end of <paramref name="epoch"/>, and nothing half-written is left.</summary>
    internal static void AssertPreviousLastWhole(string run, SortedDictionary<string, string> staged, int epoch)
    {
        Assert.Equal(staged, CliFailureTests.Snapshot(Path.Combine(run, "last")));
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.Equal((epoch, true), (state.Epoch, state.EpochComplete));
        AssertNoTemporaries(run);
    }

    /// <summary>No staging folder (.NAME.new, .NAME.old) and no temporary file (.NAME.PID.GUID.tmp) under <paramref name="run"/>.</summary>
    internal static void AssertNoTemporaries(string run)
    {
        Assert.Empty(Directory.GetDirectories(run, ".*", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories));
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

    [Theory]
    [InlineData("checkpoint")]       // epoch 2's first save
    [InlineData("test_metrics.csv")] // the closing report, after the last epoch
    public void Forecast_train_on_a_full_disk_keeps_the_previous_last_and_resume_ends_on_the_uninterrupted_files(string moment)
    {
        var data = ForecastFaultTests.Series(Directory.CreateDirectory(Path.Combine(root, "series-" + moment)).FullName);
        string[] Options(string project) => ["forecast", "train", "--data", data, "--epochs", "3", "--hidden", "8", "--lookback", "24", "--horizon", "3",
            "--val", "12", "--test", "12", "--project", project, "--plain"];
        var project = Path.Combine(root, "forecast-full-" + moment);
        int swaps = 0;
        var result = moment == "checkpoint"
            ? WithCheckpointFault(file => { if (file == "swap" && ++swaps == 3) throw new IOException("No space left on device", 28); }, Options(project))
            : WithFullDisk(p => p.EndsWith(moment, StringComparison.Ordinal), 10, Options(project));
        AssertDiskFull(result, "forecast train, full disk at " + moment);
        var run = Path.Combine(project, "exp1");
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        Assert.Equal((moment == "checkpoint" ? 1 : 3, true), (state.Epoch, state.EpochComplete));
        Assert.Empty(Directory.GetDirectories(run, ".*"));
        Assert.Empty(Directory.GetFiles(run, "*.tmp"));
        Assert.False(File.Exists(Path.Combine(run, "test_metrics.csv")));

        // --resume trains the rest (or, the training done, writes the missing report)
        var (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "train", "--resume", run]);
        Assert.True(code == 0, $"resume: exit code {code}: {stderr}{stdout}");
        (code, _, stderr) = CliFailureTests.Invoke(Options(Path.Combine(root, "forecast-whole-" + moment)));
        Assert.True(code == 0, stderr);
        var whole = Path.Combine(root, "forecast-whole-" + moment, "exp1");
        foreach (var file in new[] { "last/model.safetensors", "best/model.safetensors", "test_metrics.csv" })
            Assert.True(ResumeTests.Sha256(Path.Combine(run, file)) == ResumeTests.Sha256(Path.Combine(whole, file)), $"{file} differs from the uninterrupted run's");
        Assert.True(File.Exists(Path.Combine(run, "summary.md")));
    }

    /// <summary>metrics.csv's lines without the last column (the seconds a run took).</summary>
    static List<string> RowsWithoutTime(string csv) => File.ReadAllLines(csv).Select(l => l[..l.LastIndexOf(',')]).ToList();

    [Theory]
    [InlineData("variance-shift", "--limit", "--test-limit", "variance-shift.md")]
    [InlineData("lora-transfer", "--pretrain-limit", "--adapt-limit", "lora-transfer.md")]
    public void An_experiment_whose_metrics_meet_a_full_disk_keeps_the_finished_rows_whole(string command, string limit, string secondLimit, string table)
    {
        string[] Args(string project) => [command, "--epochs", "1", limit, "64", secondLimit, "64", "--seeds", "0", "--project", project];
        var project = Path.Combine(root, command);
        int writes = 0;
        // the second run's row: the first run's is on the disk by then
        AssertDiskFull(WithFullDisk(p => p.EndsWith("metrics.csv", StringComparison.Ordinal) && ++writes == 2, 10, Args(project)), command);
        var run = Path.Combine(project, "exp1");
        Assert.Equal(["args.yaml", "metrics.csv"], Directory.GetFiles(run).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));
        var kept = RowsWithoutTime(Path.Combine(run, "metrics.csv"));
        Assert.Equal(2, kept.Count);

        var (code, _, stderr) = CliFailureTests.Invoke(Args(project));
        Assert.True(code == 0, $"rerun: exit code {code}: {stderr}");
        var rerun = Path.Combine(project, "exp2");
        Assert.True(File.Exists(Path.Combine(rerun, table)));
        Assert.Equal(kept, RowsWithoutTime(Path.Combine(rerun, "metrics.csv")).Take(2)); // the kept row is the one a whole run writes
    }

    /// <summary>
    /// make-data writes its images on several threads straight to their files (the folder is marked incomplete instead),
    /// so a real full disk stands in here: a small tmpfs mounted for the test (Linux as root; elsewhere nothing is asserted).
    /// </summary>
    [Fact]
    public void Make_data_on_a_full_disk_is_exit_5_marks_the_set_incomplete_and_force_replaces_it()
    {
        var disk = Directory.CreateDirectory(Path.Combine(root, "disk")).FullName;
        if (!MountTmpfs(disk, "512k", output)) return;
        try
        {
            var output = Path.Combine(disk, "set");
            string[] Small(params string[] more) => ["detect", "make-data", "--output", output, "--train-images", "2", "--val-images", "1", "--min-side", "112", "--max-side", "112", .. more];
            var (code, _, stderr) = CliFailureTests.Invoke(Small());
            Assert.True(code == 0, stderr);
            var whole = CliFailureTests.Snapshot(output);

            // a disk already full: the estimate (the earlier set's room counted) refuses before anything is touched
            var filler = Path.Combine(disk, "filler");
            Fill(filler);
            (code, _, stderr) = CliFailureTests.Invoke(Small("--force"));
            Assert.True(code == ExitCodes.FileSystem, stderr);
            Assert.Contains($"free in {output}", stderr);
            Assert.Contains("of the earlier set that --force clears); nothing was written", stderr);
            Assert.Equal(whole, CliFailureTests.Snapshot(output));
            // and without the estimate: the marker cannot be written, so nothing of the earlier set is touched either
            MakeDataCommand.FreeBytes.Value = _ => long.MaxValue;
            try { AssertDiskFull(CliFailureTests.Invoke(Small("--force")), "make-data on a full disk"); }
            finally { MakeDataCommand.FreeBytes.Value = null; }
            Assert.Equal(whole, CliFailureTests.Snapshot(output));
            File.Delete(filler);

            // 300 images of ~30 KB do not fit in 512 KiB; the estimate, made to err low here, lets them start, and the
            // image writers meet the full disk mid-way
            MakeDataCommand.FreeBytes.Value = _ => long.MaxValue;
            (int Code, string Stdout, string Stderr) result;
            try { result = CliFailureTests.Invoke(["detect", "make-data", "--output", output, "--train-images", "300", "--val-images", "10", "--min-side", "112", "--max-side", "112", "--force"]); }
            finally { MakeDataCommand.FreeBytes.Value = null; }
            AssertDiskFull(result, "make-data filling the disk");
            Assert.Contains($"{output} is incomplete (it has {MakeDataCommand.IncompleteMarker} and no data.yaml)", result.Stderr);
            Assert.False(File.Exists(Path.Combine(output, "data.yaml")), "a data.yaml beside a half-written set");
            Assert.True(File.Exists(Path.Combine(output, MakeDataCommand.IncompleteMarker)));
            Assert.Empty(Directory.GetFiles(output, "*.tmp", SearchOption.AllDirectories));
            (code, _, stderr) = CliFailureTests.Invoke(Small());
            Assert.True(code == ExitCodes.Usage, stderr); // without --force the folder is named for what it is
            Assert.Contains("generation did not finish", stderr);

            (code, _, stderr) = CliFailureTests.Invoke(Small("--force"));
            Assert.True(code == 0, stderr);
            Assert.Equal(whole, CliFailureTests.Snapshot(output)); // the same seed: the same set, every byte
        }
        finally { Tool("umount", "-l", disk); }
    }

    // Runs mount or umount; its exit code, -1 when it cannot be run.
    internal static int Tool(string program, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        try
        {
            using var process = System.Diagnostics.Process.Start(start)!;
            if (!process.WaitForExit(30_000)) return -1;
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception) { return -1; }
    }

    // Writes zeros until the disk refuses: the file system has no room left, not even for a small file.
    static void Fill(string path)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
        var block = new byte[4096];
        try
        {
            while (true) file.Write(block);
        }
        catch (IOException) { }
    }
}
