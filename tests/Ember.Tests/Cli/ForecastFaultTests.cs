using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Commands.Forecast;
using Ember.Training;
using Xunit.Abstractions;

namespace Ember.Tests.Cli;

/// <summary>
/// `ember forecast train` stopped by SIGTERM, Ctrl-C or kill -9 as a real process, then resumed with --resume; and
/// `forecast eval`/`predict` of a run in a folder that cannot be written.
/// </summary>
public class ForecastFaultTests(ITestOutputHelper output)
{
    // 50 years of a monthly series (trend + a 12-month cycle + noise): about 560 training windows, 18 batches per epoch.
    internal static string Series(string folder)
    {
        var random = new Random(7);
        var lines = new List<string> { "month,level" };
        for (int t = 0; t < 600; t++)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{1950 + t / 12}-{t % 12 + 1:D2},{Math.Round(100 + 0.2 * t + 3 * Math.Sin(2 * Math.PI * t / 12) + random.NextDouble(), 3)}"));
        var path = Path.Combine(folder, "level.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    // 32 epochs, though the signal lands in epoch 1 or 2: on a quiet machine an epoch of this model takes a few ms, and with
    // 8 epochs a SIGTERM sent on seeing "epoch 1/8" once arrived after the run had finished (exit 143 from the default
    // action, no stop message). The remaining 30 epochs keep the signal inside the training loop.
    const int Epochs = 32;

    static string[] Options(string data, string project) =>
        ["forecast", "train", "--data", data, "--epochs", Epochs.ToString(CultureInfo.InvariantCulture), "--hidden", "16", "--lookback", "24", "--horizon", "3", "--val", "12", "--test", "12", "--project", project, "--plain"];

    static List<string> RowsWithoutTime(string run)
        => File.ReadAllLines(Path.Combine(run, "metrics.csv")).Select(l => l[..l.LastIndexOf(',')]).ToList();

    [Theory]
    [InlineData(15, 143, "SIGTERM")]
    [InlineData(2, 130, "Ctrl-C")]
    [InlineData(9, 137, "kill -9")]
    public void A_stopped_run_resumes_onto_the_uninterrupted_runs_weights_and_metrics(int signal, int exitCode, string name)
    {
        var temp = Directory.CreateTempSubdirectory("ember-forecast-fault").FullName;
        try
        {
            var data = Series(temp);
            // SIGTERM and Ctrl-C land in epoch 1 (after its first quarter); kill -9 after epoch 1's checkpoints were saved
            var (exit, output) = SignalTests.StopAfter(Options(data, Path.Combine(temp, "stopped")), signal == 9 ? $"epoch 2/{Epochs} " : $"epoch 1/{Epochs} ", signal);
            Assert.True(exit == exitCode, $"exit code {exit}: {output}");
            if (signal != 9)
            {
                Assert.Contains($"interrupted ({name}); resume with: ember forecast train --resume {Path.Combine(temp, "stopped", "exp1")}", output);
                Assert.DoesNotContain("   at ", output);
            }
            var run = Path.Combine(temp, "stopped", "exp1");
            var state = Checkpoint.ReadState(Path.Combine(run, "last"));
            Assert.True(state.Epoch < Epochs, $"stopped at epoch {state.Epoch}: not before the end of the run");

            // an option that would change the run is refused by name; then the run resumes
            var (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "train", "--resume", run, "--hidden", "8"]);
            Assert.True(code == ExitCodes.Usage, stderr);
            Assert.Contains("--hidden cannot change when resuming", stderr);
            (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "train", "--resume", run]);
            Assert.True(code == 0, stderr + stdout);
            Assert.Contains($"resuming {run}", stdout);
            Assert.Empty(Directory.GetFiles(run, "*.tmp", SearchOption.AllDirectories)); // nor a temporary the kill cut short

            (code, _, stderr) = CliFailureTests.Invoke(Options(data, Path.Combine(temp, "whole")));
            Assert.True(code == 0, stderr);
            var whole = Path.Combine(temp, "whole", "exp1");
            // every value but the time, the cut epoch's train_loss included (the checkpoint carries its running sums)
            Assert.Equal(RowsWithoutTime(whole), RowsWithoutTime(run));
            foreach (var file in new[] { "last/model.safetensors", "best/model.safetensors", "test_metrics.csv" })
                Assert.True(ResumeTests.Sha256(Path.Combine(run, file)) == ResumeTests.Sha256(Path.Combine(whole, file)), $"{file} differs from the uninterrupted run's");
        }
        finally { Directory.Delete(temp, true); }
    }

    /// <summary>
    /// `forecast eval` and `forecast predict` write into the run folder, and nowhere else: one that cannot be written (a
    /// tmpfs remounted read-only, since root ignores file modes; as root on Linux, elsewhere nothing is asserted) is
    /// refused before the model is loaded, exit 5, naming the folder and the files; nothing is written or removed.
    /// </summary>
    [Fact]
    public void Eval_and_predict_of_a_run_in_a_read_only_folder_are_refused_naming_it_and_write_nothing()
    {
        var temp = Directory.CreateTempSubdirectory("ember-forecast-read-only").FullName;
        var disk = Directory.CreateDirectory(Path.Combine(temp, "read-only")).FullName;
        try
        {
            var (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "train", "--data", Series(temp), "--epochs", "1", "--hidden", "4", "--lookback", "24",
                "--horizon", "3", "--val", "12", "--test", "12", "--plain", "--project", Path.Combine(temp, "runs")]);
            Assert.True(code == 0, $"forecast train: exit {code}: {stderr}{stdout}");
            if (!WriteFaultTests.MountTmpfs(disk, "64m", output)) return;
            try
            {
                var run = Path.Combine(disk, "exp1");
                TestFolders.Copy(Path.Combine(temp, "runs", "exp1"), run);
                File.Delete(Path.Combine(run, "forecast.png")); // a file eval would write anew
                Assert.Equal(0, WriteFaultTests.Tool("mount", "-o", "remount,ro", disk));
                var before = CliFailureTests.Snapshot(disk);
                foreach (var (command, files) in new[] { ("eval", "test_metrics.csv, forecast.png and summary.md"), ("predict", "predictions.csv") })
                {
                    (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", command, run]);
                    Assert.True(code == ExitCodes.FileSystem, $"forecast {command}: exit {code}: {stderr}{stdout}");
                    Assert.StartsWith($"ember: cannot write to {run} (", stderr);
                    Assert.EndsWith($"); ember forecast {command} writes {files} there; copy the run folder somewhere writable (cp -r) and run it on the copy\n", stderr);
                    Assert.DoesNotContain("   at ", stderr);
                    Assert.Equal("", stdout); // refused before the model is loaded: no forecast printed, no score
                }
                Assert.Equal(before, CliFailureTests.Snapshot(disk));
            }
            finally { WriteFaultTests.Tool("umount", "-l", disk); }
        }
        finally { Directory.Delete(temp, true); }
    }
}

/// <summary>One small finished `ember forecast train` run, made once, whose copies the damage cases break.</summary>
public sealed class ForecastDamageFixture : IDisposable
{
    /// <summary>The temporary root.</summary>
    public string Root { get; }
    /// <summary>The finished run.</summary>
    public string Run { get; }

    public ForecastDamageFixture()
    {
        Root = Directory.CreateTempSubdirectory("ember-forecast-damage").FullName;
        var data = ForecastFaultTests.Series(Root);
        var (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "train", "--data", data, "--epochs", "2", "--hidden", "8", "--lookback", "24",
            "--horizon", "3", "--val", "12", "--test", "12", "--project", Path.Combine(Root, "runs"), "--plain"]);
        if (code != 0) throw new InvalidOperationException($"the forecast run failed ({code}): {stderr}{stdout}");
        Run = Path.Combine(Root, "runs", "exp1");
    }

    /// <summary>A fresh copy of the run with <paramref name="damage"/> done to it (given the copy's folder).</summary>
    public string Damaged(string name, Action<string> damage)
    {
        var copy = Path.Combine(Root, "damaged", name);
        if (Directory.Exists(copy)) Directory.Delete(copy, true);
        TestFolders.Copy(Run, copy);
        damage(copy);
        return copy;
    }

    public void Dispose() => Directory.Delete(Root, true);
}

/// <summary>
/// `ember forecast eval` and `ember forecast predict` on a run whose checkpoint is damaged: exit 4 and a message naming
/// the file, no stack trace, and nothing written (eval would rewrite test_metrics.csv and forecast.png, predict write
/// predictions.csv).
/// </summary>
public class ForecastDamageTests(ForecastDamageFixture fx) : IClassFixture<ForecastDamageFixture>
{
    /// <summary>Damage done to a run folder, the file (or folder) the message must name, and what it must say of it.</summary>
    static readonly Dictionary<string, (Action<string> Damage, string Names, string Says)> Damages = new()
    {
        ["weights flipped"] = (run => TestFolders.Flip(Path.Combine(run, "best", "model.safetensors")), "best/model.safetensors", "is damaged"),
        ["weights truncated"] = (run => TestFolders.Truncate(Path.Combine(run, "best", "model.safetensors")), "best/model.safetensors", "is damaged"),
        ["weights empty"] = (run => File.WriteAllBytes(Path.Combine(run, "best", "model.safetensors"), []), "best/model.safetensors", "is empty"),
        ["weights missing"] = (run => File.Delete(Path.Combine(run, "best", "model.safetensors")), "best/model.safetensors", "is missing"),
        ["checkpoint.json garbage"] = (run => File.WriteAllText(Path.Combine(run, "best", "checkpoint.json"), "{\"Epoch\": "), "best/checkpoint.json", "is damaged"),
        ["checkpoint.json truncated"] = (run => TestFolders.Truncate(Path.Combine(run, "best", "checkpoint.json")), "best/checkpoint.json", "is damaged"),
        ["checkpoint.json missing"] = (run => File.Delete(Path.Combine(run, "best", "checkpoint.json")), "best", "has no checkpoint.json"),
        // saved again with a NaN tensor (a diverged run): every SHA-256 matches; --allow-non-finite loads it (below)
        ["weights NaN"] = (NanWeights, "best/model.safetensors", "non-finite values (NaN or ±Inf)"),
        // best/ and last/ both gone: nothing to load
        ["no checkpoint at all"] = (run => { Directory.Delete(Path.Combine(run, "best"), true); Directory.Delete(Path.Combine(run, "last"), true); }, "last", "not found"),
    };

    static void NanWeights(string run)
    {
        var best = Path.Combine(run, "best");
        var model = ForecastJob.BuildModel(ForecastConfig.Load(Path.Combine(run, "args.yaml")));
        Checkpoint.LoadForInference(best, model);
        var name = model.StateDict().Keys.First();
        using (Torch.NoGrad()) model.StateDict()[name].FillInPlace(double.NaN);
        Checkpoint.Save(best, model, Checkpoint.ReadState(best));
    }

    [Fact]
    public void Non_finite_weights_load_with_allow_non_finite()
    {
        var run = fx.Damaged("predict-nan-allowed", NanWeights);
        var (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "predict", run, "--allow-non-finite"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("NaN", stdout); // the forecast of NaN weights, printed as it is
    }

    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var command in new[] { "eval", "predict" })
            foreach (var damage in Damages.Keys) cases.Add(command, damage);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_damaged_checkpoint_is_exit_4_naming_the_file_and_writes_nothing(string command, string damage)
    {
        var (act, names, says) = Damages[damage];
        var run = fx.Damaged($"{command}-{damage.Replace(' ', '-')}", act);
        var before = CliFailureTests.Snapshot(run);
        var (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", command, run]);
        Assert.True(code == ExitCodes.Checkpoint, $"exit code {code}, expected {ExitCodes.Checkpoint}; stderr: {stderr}");
        Assert.StartsWith("ember: ", stderr);
        Assert.Contains(Path.Combine(run, names), stderr);
        Assert.Contains(says, stderr);
        Assert.DoesNotContain("   at ", stderr + stdout);
        Assert.Equal(before, CliFailureTests.Snapshot(run));
    }
}
