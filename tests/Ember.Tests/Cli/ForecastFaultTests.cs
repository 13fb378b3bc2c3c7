using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Commands.Forecast;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>`ember forecast train` stopped by SIGTERM, Ctrl-C or kill -9 as a real process, then resumed with --resume.</summary>
public class ForecastFaultTests
{
    // 50 years of a monthly series (trend + a 12-month cycle + noise): about 560 training windows, 18 batches per epoch.
    static string Series(string folder)
    {
        var random = new Random(7);
        var lines = new List<string> { "month,level" };
        for (int t = 0; t < 600; t++)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{1950 + t / 12}-{t % 12 + 1:D2},{Math.Round(100 + 0.2 * t + 3 * Math.Sin(2 * Math.PI * t / 12) + random.NextDouble(), 3)}"));
        var path = Path.Combine(folder, "level.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    static string[] Options(string data, string project) =>
        ["forecast", "train", "--data", data, "--epochs", "8", "--hidden", "16", "--lookback", "24", "--horizon", "3", "--val", "12", "--test", "12", "--project", project, "--plain"];

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
            using (var cli = SignalTests.StartCli([.. Options(data, Path.Combine(temp, "stopped"))]))
            {
                // SIGTERM and Ctrl-C land in epoch 1 (after its first quarter); kill -9 after epoch 1's checkpoints were saved
                var (output, seen) = SignalTests.Watch(cli, signal == 9 ? "epoch 2/8 " : "epoch 1/8 ");
                Assert.True(seen.Wait(TimeSpan.FromSeconds(120)), $"no progress line: {output}");
                Assert.Equal(0, SignalTests.Kill(cli.Id, signal));
                Assert.True(cli.WaitForExit(TimeSpan.FromSeconds(60)), $"the run did not stop after {name}");
                cli.WaitForExit(); // drains the output
                Assert.True(cli.ExitCode == exitCode, $"exit code {cli.ExitCode}: {output}");
                if (signal != 9)
                {
                    Assert.Contains($"interrupted ({name}); resume with: ember forecast train --resume {Path.Combine(temp, "stopped", "exp1")}", output.ToString());
                    Assert.DoesNotContain("   at ", output.ToString());
                }
            }
            var run = Path.Combine(temp, "stopped", "exp1");
            var state = Checkpoint.ReadState(Path.Combine(run, "last"));
            Assert.True(state.Epoch < 8, $"stopped at epoch {state.Epoch}: not before the end of the run");

            // an option that would change the run is refused by name; then the run resumes
            var (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "train", "--resume", run, "--hidden", "8"]);
            Assert.True(code == ExitCodes.Usage, stderr);
            Assert.Contains("--hidden cannot change when resuming", stderr);
            (code, stdout, stderr) = CliFailureTests.Invoke(["forecast", "train", "--resume", run]);
            Assert.True(code == 0, stderr + stdout);
            Assert.Contains($"resuming {run}", stdout);

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
}
