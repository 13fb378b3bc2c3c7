using Ember.Cli.Commands;

namespace Ember.Tests.Cli;

/// <summary>One finished run of each resumable kind (1 epoch, tiny), made once; the cases copy them.</summary>
public sealed class FinishedRunsFixture : IDisposable
{
    /// <summary>The temporary root.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("ember-finished").FullName;

    /// <summary>The finished classification, detection, forecast and detection pre-training runs, with the command that resumes each.</summary>
    public IReadOnlyList<(string Name, string[] Command, string Run)> Runs { get; }

    public FinishedRunsFixture()
    {
        var data = DetectCommandTests.OneObjectSet(Path.Combine(Root, "set"), train: 8, val: 2).Yaml;
        var series = Directory.CreateDirectory(Path.Combine(Root, "series")).FullName;
        var made = new List<(string, string[], string)>();
        foreach (var (name, command, options) in new (string, string[], string[])[]
        {
            ("train", ["train"], ["--model", "mlp", "--limit", "64", "--batch-size", "64", "--epochs", "1", "--plain"]),
            ("detect", ["detect", "train"], ["--data", data, "--img", "64", "--epochs", "1", "--batch-size", "4", "--augment", "false", "--ema", "0",
                "--warmup-epochs", "0", "--plot-images", "0", "--plain"]),
            ("forecast", ["forecast", "train"], ["--data", ForecastFaultTests.Series(series), "--epochs", "1", "--hidden", "4", "--lookback", "24", "--horizon", "3",
                "--val", "12", "--test", "12", "--plain"]),
            ("pretrain", ["detect", "pretrain"], ["--img", "32", "--epochs", "1", "--batch-size", "16", "--limit", "64", "--val-limit", "40", "--plain"]),
        })
        {
            var project = Path.Combine(Root, "runs", name);
            var (code, stdout, stderr) = CliFailureTests.Invoke([.. command, .. options, "--project", project]);
            if (code != 0) throw new InvalidOperationException($"the {name} run failed ({code}): {stderr}{stdout}");
            made.Add((name, command, Path.Combine(project, "exp1")));
        }
        Runs = made;
    }

    public void Dispose() => Directory.Delete(Root, true);
}

/// <summary>
/// `--resume` of a run that already trained all its epochs only says so and exits 0, writing nothing: in a writable
/// folder and in a read-only one (where the write probe refuses, exit 5, a run with epochs left or one whose closing
/// summary.md is still to write).
/// </summary>
public class ResumeFinishedTests(FinishedRunsFixture fx) : IClassFixture<FinishedRunsFixture>
{
    [Fact]
    public void Resume_of_a_finished_run_says_so_and_changes_nothing()
    {
        foreach (var (name, command, run) in fx.Runs)
        {
            var copy = Path.Combine(fx.Root, "writable", name);
            TestFolders.Copy(run, copy);
            var before = CliFailureTests.Snapshot(copy);
            // --plain is a resumable option that differs from args.yaml's (false): still nothing is rewritten
            foreach (var extra in new[] { Array.Empty<string>(), ["--epochs", "1"], ["--plain", "false"] })
            {
                var (code, stdout, stderr) = CliFailureTests.Invoke([.. command, "--resume", copy, .. extra]);
                Assert.True(code == 0, $"{name} {string.Join(' ', extra)}: exit {code}: {stderr}{stdout}");
                Assert.Contains($"{copy} already finished its 1 epochs", stdout);
                Assert.Equal(before, CliFailureTests.Snapshot(copy));
            }
        }
    }

    /// <summary>Root ignores file modes, so a tmpfs remounted read-only stands in (Linux as root; elsewhere nothing is asserted).</summary>
    [Fact]
    public void Resume_of_a_finished_run_in_a_read_only_folder_is_exit_0_and_one_with_epochs_left_is_exit_5()
    {
        var disk = Directory.CreateDirectory(Path.Combine(fx.Root, "read-only")).FullName;
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || WriteFaultTests.Tool("mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", disk) != 0) return;
        try
        {
            foreach (var (name, _, run) in fx.Runs) TestFolders.Copy(run, Path.Combine(disk, name));
            // a run whose closing part failed (a full disk, memory) has its summary.md (and the forecast its test scores) still to write
            foreach (var (name, _, run) in fx.Runs)
            {
                TestFolders.Copy(run, Path.Combine(disk, name + "-unreported"));
                File.Delete(Path.Combine(disk, name + "-unreported", "summary.md"));
            }
            Assert.Equal(0, WriteFaultTests.Tool("mount", "-o", "remount,ro", disk));
            var before = CliFailureTests.Snapshot(disk);
            foreach (var (name, command, _) in fx.Runs)
            {
                var folder = Path.Combine(disk, name);
                var (code, stdout, stderr) = CliFailureTests.Invoke([.. command, "--resume", folder, "--plain", "false"]);
                Assert.True(code == 0, $"{name}: exit {code}: {stderr}{stdout}");
                Assert.Contains($"{folder} already finished its 1 epochs", stdout);
                Assert.Equal("", stderr);

                // one more epoch would be trained and saved: refused before anything is read or trained
                (code, stdout, stderr) = CliFailureTests.Invoke([.. command, "--resume", folder, "--epochs", "2"]);
                Assert.True(code == ExitCodes.FileSystem, $"{name} --epochs 2: exit {code}: {stderr}{stdout}");
                Assert.StartsWith($"ember: cannot write to {folder} (", stderr);
                Assert.DoesNotContain("resuming", stdout);
            }
            foreach (var (name, command, _) in fx.Runs)
            {
                // refused before anything is read or loaded, as a run with epochs left
                var unreported = Path.Combine(disk, name + "-unreported");
                var (exit, output, error) = CliFailureTests.Invoke([.. command, "--resume", unreported]);
                Assert.True(exit == ExitCodes.FileSystem, $"{name} without its summary: exit {exit}: {error}{output}");
                Assert.StartsWith($"ember: cannot write to {unreported} (", error);
                Assert.DoesNotContain("resuming", output);
            }
            Assert.Equal(before, CliFailureTests.Snapshot(disk));
        }
        finally { WriteFaultTests.Tool("umount", "-l", disk); }
    }
}
