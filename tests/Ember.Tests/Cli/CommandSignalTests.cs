using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Cli.Reporting;

namespace Ember.Tests.Cli;

/// <summary>
/// `ember detect make-data` and `ember gradient-flow` as real processes stopped by Ctrl-C, SIGTERM or kill -9: the
/// output is left whole or clearly marked incomplete (never a half-written set that a later run reads as good), with
/// exit 130/143 and a message saying what was left.
/// </summary>
public class CommandSignalTests
{
    [Theory]
    [InlineData(15, 143, "SIGTERM")]
    [InlineData(2, 130, "Ctrl-C")]
    [InlineData(9, 137, "kill -9")]
    public void Make_data_stopped_mid_way_leaves_no_data_yaml_and_a_marker_until_force_replaces_the_set(int signal, int exitCode, string name)
    {
        var temp = Directory.CreateTempSubdirectory("ember-make-data-signal").FullName;
        try
        {
            var output = Path.Combine(temp, "set");
            string[] small = ["detect", "make-data", "--output", output, "--train-images", "2", "--val-images", "1"];
            // a finished set first, which the stopped --force run was replacing: its data.yaml must not survive beside half a new set
            Assert.Equal(0, CliFailureTests.Invoke(small).Code);
            // 20000 images take minutes; the signal follows the line printed before the first one
            var (exit, log) = SignalTests.StopAfter(["detect", "make-data", "--output", output, "--train-images", "20000", "--val-images", "10", "--force"], "writing ", signal);
            Assert.True(exit == exitCode, $"exit code {exit}: {log}");
            if (signal != 9)
            {
                Assert.Contains($"ember: interrupted ({name}); {output} is incomplete (it has {MakeDataCommand.IncompleteMarker} and no data.yaml)", log);
                Assert.DoesNotContain("   at ", log);
            }
            Assert.False(File.Exists(Path.Combine(output, "data.yaml")), "a data.yaml beside a half-written set");
            Assert.True(File.Exists(Path.Combine(output, MakeDataCommand.IncompleteMarker)));

            // a run cannot take the folder for a data set, make-data says what it is, and --force replaces it
            var (code, _, stderr) = CliFailureTests.Invoke(["detect", "train", "--data", Path.Combine(output, "data.yaml"), "--epochs", "1", "--project", Path.Combine(temp, "runs")]);
            Assert.True(code == ExitCodes.Data, stderr);
            (code, _, stderr) = CliFailureTests.Invoke(small);
            Assert.True(code == ExitCodes.Usage, stderr);
            Assert.Contains($"generation did not finish ({MakeDataCommand.IncompleteMarker}); pass --force", stderr);
            (code, _, stderr) = CliFailureTests.Invoke([.. small, "--force"]);
            Assert.True(code == 0, stderr);
            Assert.True(File.Exists(Path.Combine(output, "data.yaml")));
            Assert.False(File.Exists(Path.Combine(output, MakeDataCommand.IncompleteMarker)));
            Assert.Equal(2, Directory.GetFiles(Path.Combine(output, "images", "train")).Length);
        }
        finally { Directory.Delete(temp, true); }
    }

    [Theory]
    [InlineData(15, 143, "SIGTERM", false)]
    [InlineData(2, 130, "Ctrl-C", false)]
    [InlineData(15, 143, "SIGTERM", true)]
    [InlineData(9, 137, "kill -9", false)]
    [InlineData(9, 137, "kill -9", true)]
    public void Gradient_flow_stopped_mid_way_writes_nothing_and_says_so(int signal, int exitCode, string name, bool givenOutput)
    {
        var temp = Directory.CreateTempSubdirectory("ember-gradient-flow-signal").FullName;
        try
        {
            var project = Path.Combine(temp, "runs");
            var plot = Path.Combine(temp, "plots", "flow.png");
            // a million training steps per run: the signal follows the line printed before the first one
            string[] args = ["gradient-flow", "--recurrent", "--length", "10", "--hidden", "4", "--steps", "1000000", .. givenOutput ? new[] { "--output", plot } : new[] { "--project", project }];
            var (exit, log) = SignalTests.StopAfter(args, "training ", signal);
            Assert.True(exit == exitCode, $"exit code {exit}: {log}");
            Assert.DoesNotContain("   at ", log);
            if (givenOutput)
            {
                if (signal != 9) Assert.Contains($"ember: interrupted ({name}); {plot} was not written", log);
                Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(plot)!)); // no plot, no temporary
            }
            else if (signal == 9)
            {
                // a killed process cannot tidy up: its run folder stays, holding only the marker that says it is incomplete
                // (not an empty folder, nor a result); the next run takes exp2 and leaves no marker
                var run = Path.Combine(project, "exp1");
                Assert.Equal([run], Directory.GetFileSystemEntries(project));
                Assert.Equal([Path.Combine(run, IncompleteMarker.FileName)], Directory.GetFileSystemEntries(run, "*", SearchOption.AllDirectories));
                Assert.Contains("did not finish", File.ReadAllText(Path.Combine(run, IncompleteMarker.FileName)));
                var (code, _, stderr) = CliFailureTests.Invoke(["gradient-flow", "--recurrent", "--length", "4", "--hidden", "2", "--steps", "1", "--project", project]);
                Assert.True(code == 0, stderr);
                Assert.False(IncompleteMarker.IsMarked(Path.Combine(project, "exp2")), "the marker of a finished run");
                Assert.True(File.Exists(Path.Combine(project, "exp2", "accuracy.csv")));
            }
            else
            {
                Assert.Contains($"ember: interrupted ({name}); nothing was written (the empty run folder {Path.Combine(project, "exp1")} was removed)", log);
                Assert.Empty(Directory.GetFileSystemEntries(project));
            }
        }
        finally { Directory.Delete(temp, true); }
    }
}
