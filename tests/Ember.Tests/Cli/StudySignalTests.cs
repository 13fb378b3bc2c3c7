using System.Globalization;

namespace Ember.Tests.Cli;

/// <summary>
/// `ember evolve` and `ember ablate` as real processes stopped by SIGTERM or Ctrl-C during their first trial: the study
/// stops there with the signal's exit code and records no cut trial as finished (before, a SIGTERM stopped only the
/// trial, which was scored on its 1 epoch, and the study ran on).
/// </summary>
public class StudySignalTests
{
    [Theory]
    [InlineData("evolve", 15, 143)]
    [InlineData("evolve", 2, 130)]
    [InlineData("ablate", 15, 143)]
    public void A_signal_during_a_trial_stops_the_study_with_the_signals_exit_code(string command, int signal, int exitCode)
    {
        var temp = Directory.CreateTempSubdirectory("ember-study-signal").FullName;
        try
        {
            // 2048 images in batches of 64, 2 epochs per trial: the signal lands in the first trial's epoch 1
            var project = Path.Combine(temp, "runs");
            string[] args;
            if (command == "evolve")
            {
                var base_ = Path.Combine(temp, "base.yaml");
                File.WriteAllText(base_, "model: mlp\nlimit: 2048\nepochs: 2\nbatch_size: 64\nplain: true\n");
                args = ["evolve", "-c", base_, "-g", "4", "--project", project];
            }
            else
            {
                var study = Path.Combine(temp, "study.yaml");
                File.WriteAllText(study, "baseline: {model: mlp, limit: 2048, epochs: 2, batch_size: 64, plain: true}\ncomponents:\n  ema: {ema: 0.9}\nseeds: [0]\n");
                args = ["ablate", study, "--project", project];
            }
            using var cli = SignalTests.StartCli(args);
            var (output, started) = SignalTests.Watch(cli, "epoch 1/2 ");
            Assert.True(started.Wait(TimeSpan.FromSeconds(120)), $"no progress line: {output}");
            Assert.Equal(0, SignalTests.Kill(cli.Id, signal));
            Assert.True(cli.WaitForExit(TimeSpan.FromSeconds(120)), $"{command} did not stop after the signal");
            cli.WaitForExit(); // drains the output
            var text = output.ToString();
            Assert.True(cli.ExitCode == exitCode, $"exit code {cli.ExitCode}: {text}");
            Assert.DoesNotContain("   at ", text);
            var folder = Path.Combine(project, "exp1");
            if (command == "evolve")
            {
                Assert.Contains($"interrupted after 0 trials; continue with: ember evolve --resume {folder}", text);
                Assert.DoesNotContain("gen 0/", text);
                var csv = Path.Combine(folder, "evolve.csv");
                Assert.True(!File.Exists(csv) || File.ReadAllLines(csv).Length <= 1, "the cut trial was recorded in evolve.csv");
            }
            else
            {
                Assert.Contains("interrupted after 0 of 2 runs", text);
                Assert.False(File.Exists(Path.Combine(folder, "ablation.csv")), "an interrupted study wrote its table");
            }
        }
        finally { Directory.Delete(temp, true); }
    }
}
