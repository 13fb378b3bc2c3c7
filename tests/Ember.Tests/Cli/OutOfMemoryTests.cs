using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Cli.Commands.Forecast;
using Ember.Training;
using Ember.Training.Callbacks;

namespace Ember.Tests.Cli;

/// <summary>
/// Memory running out in the middle of a training step (between backward and the optimizer step of epoch 2), in the
/// three training commands: one `ember: out of memory …` line (exit 7) that names the options to lower with their values
/// and says what the run folder keeps (the uninterrupted run's last/ of epoch 1, file for file); then `--resume` ends on
/// the same weights and metrics as a run never stopped. Memory running out after the last epoch, or after early stopping
/// ended the run (where the final test or validation begins), says that the training finished and its checkpoints are
/// whole; `--resume` writes what is missing and trains nothing.
/// </summary>
public class OutOfMemoryTests
{
    internal static string[] Train(string command, string temp, string project) => command switch
    {
        "train" => ["train", "--model", "mlp", "--epochs", "2", "--batch-size", "64", "--limit", "256", "--plain", "--project", project],
        // --lr 1 overshoots: top-1 falls in epoch 2, where --patience 1 ends the run, 3 epochs before its last
        "early" => ["train", "--model", "mlp", "--epochs", "5", "--patience", "1", "--lr", "1", "--schedule", "none", "--batch-size", "64", "--limit", "256",
                    "--plain", "--project", project],
        "detect" => ["detect", "train", "--data", Path.Combine(temp, "set", "data.yaml"), "--img", "64", "--epochs", "2", "--batch-size", "4", "--augment", "false",
                     "--optimizer", "adam", "--ema", "0", "--warmup-epochs", "0", "--plot-images", "0", "--plain", "--project", project],
        _ => ["forecast", "train", "--data", Path.Combine(temp, "level.csv"), "--epochs", "2", "--hidden", "8", "--lookback", "24", "--horizon", "3",
              "--val", "12", "--test", "12", "--plain", "--project", project],
    };

    // the data Train's arguments name
    internal static void MakeData(string command, string temp)
    {
        if (command == "detect") DetectCommandTests.OneObjectSet(Path.Combine(temp, "set"), train: 8, val: 4);
        if (command == "forecast") ForecastFaultTests.Series(temp);
    }

    static AsyncLocal<Callback?> Hook(string command) => command switch
    {
        "train" or "early" => TrainJob.TestCallback,
        "detect" => DetectJob.TestCallback,
        _ => ForecastJob.TestCallback,
    };

    // every file of a checkpoint folder by its SHA-256 (checkpoint.json without the wall times it records)
    internal static Dictionary<string, string> Hashes(string folder)
        => Directory.EnumerateFiles(folder).ToDictionary(f => Path.GetFileName(f), f => Path.GetFileName(f) != Checkpoint.JsonFile ? ResumeTests.Sha256(f)
            : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
                string.Join('\n', File.ReadLines(f).Where(l => !WallTime.IsMatch(l)))))));

    static readonly System.Text.RegularExpressions.Regex WallTime = new(@"""[^""]*(seconds|time)[^""]*""\s*:", System.Text.RegularExpressions.RegexOptions.IgnoreCase);

    // metrics.csv without its columns of wall time (the only ones a resume may change)
    internal static List<string> MetricsWithoutTimes(string run)
    {
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        var kept = lines[0].Split(',').Select((name, i) => (name, i)).Where(c => !c.name.Contains("time")).Select(c => c.i).ToArray();
        Assert.True(kept.Length < lines[0].Split(',').Length, lines[0]);
        return [.. lines.Select(l => string.Join(',', kept.Select(i => l.Split(',')[i])))];
    }

    [Theory]
    [InlineData("train", "--batch-size (64)")]
    [InlineData("detect", "--img (64), --batch-size (4)")]
    [InlineData("forecast", "--hidden (8)")]
    public void Memory_running_out_mid_step_names_the_options_and_the_run_resumes_onto_the_same_weights(string command, string options)
    {
        var temp = Directory.CreateTempSubdirectory("ember-oom").FullName;
        try
        {
            MakeData(command, temp);
            // the uninterrupted run, and its last/ as saved at the end of epoch 1 (read after the first batch of epoch 2)
            var hook = Hook(command);
            var whole = Path.Combine(temp, "whole", "exp1");
            Dictionary<string, string>? epoch1 = null;
            hook.Value = new LambdaCallback { BatchEnd = s => { if (s.Epoch == 2 && s.BatchIndex == 0) epoch1 = Hashes(Path.Combine(whole, "last")); } };
            int code; string stdout, stderr;
            try { (code, stdout, stderr) = CliFailureTests.Invoke(Train(command, temp, Path.Combine(temp, "whole"))); }
            finally { hook.Value = null; }
            Assert.True(code == 0, stderr + stdout);
            Assert.NotNull(epoch1);

            // the second step of epoch 2 fails after its backward, before its optimizer step
            hook.Value = new LambdaCallback
            {
                AfterBackward = s => { if (s.Epoch == 2 && s.BatchIndex == 1) throw new OutOfMemoryException("Insufficient memory to continue the execution of the program."); },
            };
            try { (code, stdout, stderr) = CliFailureTests.Invoke(Train(command, temp, Path.Combine(temp, "cut"))); }
            finally { hook.Value = null; }
            var run = Path.Combine(temp, "cut", "exp1");
            var resume = $"{(command == "train" ? "ember train" : $"ember {command} train")} --resume {run}";
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}");
            // the runtime's words ("Insufficient memory to continue the execution of the program.") give way to the limit
            Assert.StartsWith($"ember: out of memory (more memory was needed than this process could get, of the {TrainingMemory.Size(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)} it may use; ", stderr);
            Assert.Contains($"{Path.Combine(run, "last")} is whole (saved at the end of epoch 1): `{resume}` continues from there", stderr);
            Assert.Contains(options, stderr);
            Assert.DoesNotContain("   at ", stderr);
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            // last/ is the uninterrupted run's save at the end of epoch 1, file for file
            Assert.Equal(epoch1, Hashes(Path.Combine(run, "last")));

            (code, stdout, stderr) = CliFailureTests.Invoke([.. resume.Split(' ')[1..]]);
            Assert.True(code == 0, stderr + stdout);
            Assert.Contains($"resuming {run} at epoch 2", stdout);
            Assert.Equal(ResumeTests.Sha256(Path.Combine(whole, "last", "model.safetensors")), ResumeTests.Sha256(Path.Combine(run, "last", "model.safetensors")));
            Assert.Equal(MetricsWithoutTimes(whole), MetricsWithoutTimes(run));
        }
        finally { Directory.Delete(temp, true); }
    }

    // summary.md without the wall and epoch times it records and the project folder it names (all a resume may change;
    // forecast's resume leaves out the wall time line, which would time only the closing part)
    internal static string SummaryWithoutTimes(string run)
        => Time.Replace(ForecastWall.Replace(File.ReadAllText(Path.Combine(run, "summary.md")).Replace(Path.GetDirectoryName(run)!, "PROJECT"), ""), "time …");

    static readonly System.Text.RegularExpressions.Regex Time = new(@"time:? [\d.]+ s\b");
    static readonly System.Text.RegularExpressions.Regex ForecastWall = new(@"wall time \d+ s \(\d+ threads\)\n\n");

    [Theory]
    [InlineData("train", "the test scores, plots and summary.md")]
    [InlineData("early", "the test scores, plots and summary.md")]
    [InlineData("detect", "the final validation of best/, its plots and summary.md")]
    [InlineData("forecast", "the test scores, forecast.png and summary.md")]
    public void Memory_running_out_after_the_last_epoch_says_the_training_finished_and_resume_writes_what_is_missing(string command, string missing)
    {
        var temp = Directory.CreateTempSubdirectory("ember-oom-closing").FullName;
        try
        {
            MakeData(command, temp);
            var (code, stdout, stderr) = CliFailureTests.Invoke(Train(command, temp, Path.Combine(temp, "whole")));
            Assert.True(code == 0, stderr + stdout);
            var whole = Path.Combine(temp, "whole", "exp1");
            // a run ended by early stopping is finished as one that trained its epochs
            bool early = command == "early";
            if (early) Assert.Contains("(stopped: early stopping: top1 did not improve for 1 epochs", File.ReadAllText(Path.Combine(whole, "summary.md")));
            var (saved, ended) = early ? ("the end of epoch 2, where early stopping ended the run", "ended by early stopping at epoch 2 of 5")
                : ("the end of epoch 2, the last", "finished its 2 epochs");

            // memory runs out where the closing part (final test or validation, plots, summary.md) begins
            TrainingMemory.AfterTraining.Value = () => throw new OutOfMemoryException("Insufficient memory to continue the execution of the program.");
            try { (code, stdout, stderr) = CliFailureTests.Invoke(Train(command, temp, Path.Combine(temp, "cut"))); }
            finally { TrainingMemory.AfterTraining.Value = null; }
            var run = Path.Combine(temp, "cut", "exp1");
            string last = Path.Combine(run, "last"), best = Path.Combine(run, "best");
            var resume = $"{(command is "train" or "early" ? "ember train" : $"ember {command} train")} --resume {run}";
            Assert.True(code == ExitCodes.OutOfMemory, $"exit {code}: {stderr}");
            Assert.Equal($"ember: out of memory (more memory was needed than this process could get, of the {TrainingMemory.Size(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)} it may use); " +
                $"the training itself finished: {last} and {best} are whole (saved at {saved}); `{resume}` writes {missing} when more memory is free", stderr.TrimEnd('\n'));
            Assert.False(File.Exists(Path.Combine(run, "summary.md")));
            // the checkpoints are the uninterrupted run's, file for file
            Assert.Equal(Hashes(Path.Combine(whole, "last")), Hashes(last));
            Assert.Equal(Hashes(Path.Combine(whole, "best")), Hashes(best));
            var metrics = File.ReadAllText(Path.Combine(run, "metrics.csv"));

            // the command the message names writes what is missing, trains nothing and leaves the checkpoints and metrics.csv as they were
            (code, stdout, stderr) = CliFailureTests.Invoke([.. resume.Split(' ')[1..]]);
            Assert.True(code == 0, stderr + stdout);
            Assert.Contains($"{run} {ended} without its", stdout);
            Assert.DoesNotContain("epoch 3/", stdout);
            Assert.Equal(metrics, File.ReadAllText(Path.Combine(run, "metrics.csv")));
            Assert.Equal(Hashes(Path.Combine(whole, "last")), Hashes(last));
            Assert.Equal(Hashes(Path.Combine(whole, "best")), Hashes(best));
            Assert.Equal(SummaryWithoutTimes(whole), SummaryWithoutTimes(run));
            Assert.Equal(MetricsWithoutTimes(whole), MetricsWithoutTimes(run));
            foreach (var file in Directory.EnumerateFiles(whole).Select(Path.GetFileName)) Assert.True(File.Exists(Path.Combine(run, file!)), file);
            if (command == "forecast") Assert.Equal(File.ReadAllText(Path.Combine(whole, "test_metrics.csv")), File.ReadAllText(Path.Combine(run, "test_metrics.csv")));

            // and once written, a resume only says the run is finished
            (code, stdout, stderr) = CliFailureTests.Invoke([.. resume.Split(' ')[1..]]);
            Assert.True(code == 0, stderr + stdout);
            Assert.Contains($"{run} already {ended}", stdout);
        }
        finally { Directory.Delete(temp, true); }
    }
}
