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
            // 2048 images in batches of 64, 3 epochs per trial: the signal lands in the first trial's epoch 1
            var project = Path.Combine(temp, "runs");
            string[] args;
            if (command == "evolve")
            {
                var base_ = Path.Combine(temp, "base.yaml");
                File.WriteAllText(base_, "model: mlp\nlimit: 2048\nepochs: 3\nbatch_size: 64\nplain: true\n");
                args = ["evolve", "-c", base_, "-g", "4", "--project", project];
            }
            else
            {
                var study = Path.Combine(temp, "study.yaml");
                File.WriteAllText(study, "baseline: {model: mlp, limit: 2048, epochs: 3, batch_size: 64, plain: true}\ncomponents:\n  ema: {ema: 0.9}\nseeds: [0]\n");
                args = ["ablate", study, "--project", project];
            }
            var (exit, text) = SignalTests.StopAfter(args, "epoch 1/3 ", signal, exitSeconds: 120);
            Assert.True(exit == exitCode, $"exit code {exit}: {text}");
            Assert.DoesNotContain("   at ", text);
            var folder = Path.Combine(project, "exp1");
            // normally the first trial is cut; on a starved machine a later one may be, so the counts are read, not assumed
            if (command == "evolve")
            {
                var m = System.Text.RegularExpressions.Regex.Match(text, @"interrupted after (\d+) trials; continue with: ember evolve --resume (.+)");
                Assert.True(m.Success, text);
                Assert.Equal(folder, m.Groups[2].Value.Trim());
                int done = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                Assert.True(done < 4, text);
                var csv = Path.Combine(folder, "evolve.csv");
                int rows = File.Exists(csv) ? File.ReadAllLines(csv).Length - 1 : 0;
                Assert.True(Math.Max(rows, 0) == done, $"evolve.csv holds {rows} trials, {done} finished: the cut trial was recorded");
            }
            else
            {
                var m = System.Text.RegularExpressions.Regex.Match(text, @"interrupted after (\d+) of 2 runs; finish the study with: ember ablate --resume (.+)");
                Assert.True(m.Success && int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) < 2, text);
                Assert.Equal(folder, m.Groups[2].Value.Trim());
                Assert.False(File.Exists(Path.Combine(folder, "ablation.csv")), "an interrupted study wrote its table");
                // the resume keeps the finished runs and trains the cut one again, from scratch, in its own exp1
                var (code, stdout, stderr) = CliFailureTests.Invoke(["ablate", "--resume", folder]);
                Assert.True(code == 0, $"resume: exit code {code}: {stderr}{stdout}");
                Assert.Equal(3, File.ReadAllLines(Path.Combine(folder, "ablation.csv")).Length);
                Assert.Equal(["A,0,trials/A-seed0/exp1", "A+ema,0,trials/A+ema-seed0/exp1"],
                    File.ReadAllLines(Path.Combine(folder, "runs.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..3])));
            }
        }
        finally { Directory.Delete(temp, true); }
    }

    /// <summary>
    /// A signal right after a trial was recorded (evolve's "gen 0/2" line, ablate's "[1/2]"): the study then writes its
    /// files (best.yaml and evolve.png) and sets up the next trial, where no trial's handler is registered. It stops there,
    /// before its next trial trains, with the signal's exit code and its line, the finished trial recorded and every file
    /// whole; --resume finishes it. Before, the signal's default action ended the process at once, saying nothing.
    /// </summary>
    [Theory]
    [InlineData("evolve", 15, 143)]
    [InlineData("evolve", 2, 130)]
    [InlineData("ablate", 15, 143)]
    public void A_signal_between_trials_stops_the_study_before_its_next_trial(string command, int signal, int exitCode)
    {
        var temp = Directory.CreateTempSubdirectory("ember-study-signal-between").FullName;
        try
        {
            var project = Path.Combine(temp, "runs");
            const string trial = "model: mlp, limit: 256, epochs: 1, batch_size: 64, plain: true";
            string[] args;
            if (command == "evolve")
            {
                var base_ = Path.Combine(temp, "base.yaml");
                File.WriteAllText(base_, string.Join('\n', trial.Split(", ")) + "\n");
                args = ["evolve", "-c", base_, "-g", "3", "--project", project];
            }
            else
            {
                var study = Path.Combine(temp, "study.yaml");
                File.WriteAllText(study, $"baseline: {{{trial}}}\ncomponents:\n  ema: {{ema: 0.9}}\nseeds: [0]\n");
                args = ["ablate", study, "--project", project];
            }
            var (exit, text) = SignalTests.StopAfter(args, command == "evolve" ? "gen 0/2" : "[1/2]", signal);
            var folder = Path.Combine(project, "exp1");
            Assert.True(exit == exitCode, $"exit code {exit}: {text}");
            Assert.DoesNotContain("   at ", text);
            Assert.Contains(command == "evolve" ? $"interrupted after 1 trials; continue with: ember evolve --resume {folder}"
                : $"interrupted after 1 of 2 runs; finish the study with: ember ablate --resume {folder}", text);
            var rows = Path.Combine(folder, command == "evolve" ? "evolve.csv" : "runs.csv");
            Assert.Equal(2, File.ReadAllLines(rows).Length); // the header and the finished trial
            if (command == "evolve") Assert.Equal(1, Ember.Cli.Commands.TrainCommand.Resolve(Path.Combine(folder, "best.yaml"), new Dictionary<string, string?>()).Epochs); // whole

            var (code, stdout, stderr) = CliFailureTests.Invoke([command, "--resume", folder]);
            Assert.True(code == 0, $"resume: exit code {code}: {stderr}{stdout}");
            Assert.Equal(command == "evolve" ? 4 : 3, File.ReadAllLines(rows).Length);
            Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories));
        }
        finally { Directory.Delete(temp, true); }
    }
}
