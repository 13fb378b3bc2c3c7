using Ember.Tests.Interop;

namespace Ember.Tests.Cli;

/// <summary>
/// A process killed outright (kill -9) while it writes a file leaves that file's hidden temporary in the folder
/// (AtomicFile): each --resume removes those of a writer that no longer runs, in the folder and its subfolders, and
/// says so; a temporary of a running process (here the test's own) is kept.
/// </summary>
public class StaleTemporaryTests(FinishedRunsFixture fx) : IClassFixture<FinishedRunsFixture>
{
    /// <summary>
    /// Leaves in <paramref name="folder"/> the temporaries a killed writer would (at the top and in
    /// <paramref name="subfolder"/>) and one of this process; resumes with <paramref name="command"/> and checks that the
    /// first two are gone, named in the output, and the third kept.
    /// </summary>
    static void AssertResumeRemovesTheStaleOnes(string[] command, string folder, string topFile, string subfolder)
    {
        int dead = AtomicFileTests.DeadPid();
        var stale = new[] { AtomicFileTests.Temporary(folder, topFile, dead), AtomicFileTests.Temporary(Path.Combine(folder, subfolder), "model.safetensors", dead) };
        var live = AtomicFileTests.Temporary(folder, topFile, Environment.ProcessId);

        var (code, stdout, stderr) = CliFailureTests.Invoke([.. command, "--resume", folder]);

        var what = $"{string.Join(' ', command)} --resume";
        Assert.True(code == 0, $"{what}: exit {code}: {stderr}{stdout}");
        Assert.All(stale, path => Assert.False(File.Exists(path), $"{what} left {path}"));
        Assert.True(File.Exists(live), $"{what} removed the temporary of a running process");
        Assert.Contains($"removed 2 temporary file(s) that a killed process left in {folder}: ", stdout);
        Assert.Contains(Path.Combine(subfolder, Path.GetFileName(stale[1])), stdout);
        File.Delete(live);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Train_detect_and_forecast_resume_remove_a_killed_writers_temporaries()
    {
        foreach (var (name, command, run) in fx.Runs)
        {
            var copy = Path.Combine(fx.Root, "stale", name);
            TestFolders.Copy(run, copy);
            AssertResumeRemovesTheStaleOnes(command, copy, "metrics.csv", "last");
        }
    }

    [Fact]
    public void Evolve_and_ablate_resume_remove_a_killed_writers_temporaries()
    {
        var root = Path.Combine(fx.Root, "studies");
        var baseYaml = Path.Combine(Directory.CreateDirectory(root).FullName, "base.yaml");
        File.WriteAllText(baseYaml, "model: mlp\nlimit: 64\nepochs: 1\nbatch_size: 64\nplain: true\nseed: 3\n");
        var study = Path.Combine(root, "study.yaml");
        File.WriteAllText(study, "baseline: {model: mlp, epochs: 1, batch_size: 64, limit: 64, plain: true}\ncomponents:\n  ema: {ema: 0.9}\nseeds: [3]\nmetrics: [top1]\n");
        foreach (var (command, file) in new[] { (new[] { "evolve", "-c", baseYaml, "-g", "1", "--seed", "5" }, "evolve.csv"), (["ablate", study], "runs.csv") })
        {
            var project = Path.Combine(root, command[0]);
            var (code, stdout, stderr) = CliFailureTests.Invoke([.. command, "--project", project]);
            Assert.True(code == 0, $"{command[0]}: exit {code}: {stderr}{stdout}");
            var folder = Path.Combine(project, "exp1");
            // a temporary in a trial's last/ too: the study owns its trials' folders
            var trial = Directory.GetDirectories(Path.Combine(folder, "trials")).Order(StringComparer.Ordinal).First();
            AssertResumeRemovesTheStaleOnes([command[0]], folder, file, Path.GetRelativePath(folder, Path.Combine(trial, "exp1", "last")));
        }
    }
}
