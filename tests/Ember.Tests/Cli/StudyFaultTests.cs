using System.Text.RegularExpressions;
using Ember.Cli.Commands;
using Ember.Cli.Reporting;
using Ember.Interop;
using Ember.Training;
using Ember.Training.Callbacks;
using Xunit.Abstractions;

namespace Ember.Tests.Cli;

/// <summary>
/// The cells of the command × fault matrix (docs/robustness.md) for the two study commands: `ember evolve` and
/// `ember ablate` on a disk that fills up (in a trial's checkpoint save, or in the study's own files) and killed with
/// kill -9. Each ends with exit 5 (or 137) and no stack trace, leaves every file whole, and evolve --resume or ablate
/// --resume then ends on the results an uninterrupted study writes (wall times aside). A trial that meets a full disk or
/// runs out of memory is the study's failure: the message names the study's --resume and what it does with the trial.
/// </summary>
public sealed class StudyFaultTests(ITestOutputHelper output) : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-study-faults").FullName;

    public void Dispose() => Directory.Delete(root, true);

    // 3 trials of 1 epoch on 256 images: each trial saves best/ and last/ once (two checkpoint swaps)
    const string EvolveBase = "model: mlp\nlimit: 256\nepochs: 1\nbatch_size: 64\nplain: true\nseed: 3\n";

    string[] Evolve(string project, string baseYaml = EvolveBase)
    {
        var file = Path.Combine(root, $"base-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, baseYaml);
        return ["evolve", "-c", file, "-g", "3", "--seed", "5", "--project", project];
    }

    /// <summary>evolve.csv's lines without the time_s column (wall time differs between runs, nothing else may).</summary>
    static List<string> RowsWithoutTime(string csv)
    {
        var lines = File.ReadAllLines(csv);
        int time = Array.IndexOf(lines[0].Split(','), "time_s");
        Assert.True(time > 0, lines[0]);
        return lines.Select(l => string.Join(',', l.Split(',').Where((_, i) => i != time))).ToList();
    }

    List<string> UninterruptedEvolution(string baseYaml = EvolveBase)
    {
        var project = Path.Combine(root, "whole-" + Guid.NewGuid().ToString("N"));
        var (code, stdout, stderr) = CliFailureTests.Invoke(Evolve(project, baseYaml));
        Assert.True(code == 0, $"the uninterrupted evolution: exit code {code}: {stderr}{stdout}");
        return RowsWithoutTime(Path.Combine(project, "exp1", "evolve.csv"));
    }

    static void AssertDiskFull((int Code, string Stdout, string Stderr) result, string what) => WriteFaultTests.AssertDiskFull(result, what);

    static void AssertNoTemporaries(string folder)
        => Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories));

    /// <summary>
    /// Runs <paramref name="args"/> with the fault of <paramref name="moment"/> injected at its <paramref name="nth"/>
    /// occurrence: "checkpoint" fails a checkpoint swap (a trial's save), any other name fails the write of the file of
    /// that name after 10 bytes. Returns the result and how often the moment came.
    /// </summary>
    static ((int Code, string Stdout, string Stderr) Result, int Seen) WithFault(string moment, int nth, string[] args)
    {
        int seen = 0;
        if (moment == "checkpoint")
            Checkpoint.FaultInjection.Value = file => { if (file == "swap" && ++seen == nth) throw new IOException("No space left on device", 28); };
        else
            AtomicFile.FaultInjection.Value = (path, stream) =>
                Path.GetFileName(path) == moment && ++seen == nth ? new DetectFaultTests.FullDiskStream(stream, 10) : stream;
        try { return (CliFailureTests.Invoke(args), seen); }
        finally
        {
            Checkpoint.FaultInjection.Value = null;
            AtomicFile.FaultInjection.Value = null;
        }
    }

    [Theory]
    [InlineData("checkpoint", 3)]  // trial 1's first save
    [InlineData("evolve.csv", 2)]  // trial 1's row (an append cut there left half a row that --resume refused)
    [InlineData("best.yaml", 2)]   // after trial 1's row was recorded
    public void Evolve_on_a_full_disk_is_exit_5_and_resume_ends_on_the_uninterrupted_rows(string moment, int nth)
    {
        var project = Path.Combine(root, "full-" + moment);
        var (result, seen) = WithFault(moment, nth, Evolve(project));
        Assert.True(seen >= nth, $"the fault at {moment} was never injected ({seen} times seen)");
        AssertDiskFull(result, "evolve, full disk at " + moment);
        var study = Path.Combine(project, "exp1");
        AssertNoTemporaries(study);
        var whole = UninterruptedEvolution();
        // what is there is the uninterrupted run's first rows, each whole; best.yaml is a valid config
        var rows = RowsWithoutTime(Path.Combine(study, "evolve.csv"));
        Assert.Equal(moment == "best.yaml" ? 3 : 2, rows.Count);
        Assert.Equal(whole.Take(rows.Count), rows);
        Assert.Equal(3L, TrainCommand.Resolve(Path.Combine(study, "best.yaml"), new Dictionary<string, string?>()).Seed);

        var (code, stdout, stderr) = CliFailureTests.Invoke(["evolve", "--resume", study]);
        Assert.True(code == 0, $"resume: exit code {code}: {stderr}{stdout}");
        Assert.Equal(whole, RowsWithoutTime(Path.Combine(study, "evolve.csv")));
        AssertNoTemporaries(study);
    }

    /// <summary>
    /// A full disk while a new evolution writes what --resume reads (base.yaml, space.yaml, args.yaml), before any trial:
    /// no study folder is left (one without them was left, which --resume refused), as ablate leaves none; a rerun then
    /// takes exp1.
    /// </summary>
    [Theory]
    [InlineData("base.yaml")]
    [InlineData("space.yaml")]
    [InlineData("args.yaml")]
    public void Evolve_on_a_full_disk_before_any_trial_leaves_no_study_folder(string moment)
    {
        var project = Path.Combine(root, "evolve-full-" + moment);
        var args = Evolve(project).Select(a => a == "3" ? "1" : a).ToArray(); // one trial
        var (result, seen) = WithFault(moment, 1, args);
        Assert.True(seen >= 1, $"the fault at {moment} was never injected");
        AssertDiskFull(result, "evolve, full disk at " + moment);
        Assert.Empty(Directory.GetFileSystemEntries(project));

        var (code, stdout, stderr) = CliFailureTests.Invoke(args);
        Assert.True(code == 0, $"rerun: exit code {code}: {stderr}{stdout}");
        Assert.Equal(2, File.ReadAllLines(Path.Combine(project, "exp1", "evolve.csv")).Length);
    }

    [Fact]
    public void Evolve_killed_with_kill_9_resumes_to_the_uninterrupted_rows()
    {
        // 1024 images and 2 epochs per trial: the kill lands in trial 1, seconds from its end
        const string baseYaml = "model: mlp\nlimit: 1024\nepochs: 2\nbatch_size: 64\nplain: true\nseed: 3\n";
        var project = Path.Combine(root, "killed");
        var (exit, output) = SignalTests.StopAfter(Evolve(project, baseYaml), "gen 0/2", 9);
        Assert.True(exit == 137, $"exit code {exit}: {output}");
        var study = Path.Combine(project, "exp1");
        var whole = UninterruptedEvolution(baseYaml);
        // the trials recorded before the kill (normally one; the count is read, not assumed) are whole rows of the uninterrupted run
        var rows = RowsWithoutTime(Path.Combine(study, "evolve.csv"));
        Assert.InRange(rows.Count, 2, 3);
        Assert.Equal(whole.Take(rows.Count), rows);

        var (code, stdout, stderr) = CliFailureTests.Invoke(["evolve", "--resume", study]);
        Assert.True(code == 0, $"resume: exit code {code}: {stderr}{stdout}");
        Assert.Equal(whole, RowsWithoutTime(Path.Combine(study, "evolve.csv")));
        AssertNoTemporaries(study);
        // the cut trial's half-written folder was removed before that generation trained again (not left beside an exp2)
        foreach (var trial in Directory.GetDirectories(Path.Combine(study, "trials")))
            Assert.Equal([Path.Combine(trial, "exp1")], Directory.GetDirectories(trial));
    }

    // Trials of 2 epochs on 256 images: each saves last/ at the end of epoch 1, so a fault in epoch 2 of the second trial
    // meets a trial whose last/ is whole, which the trial's own words named as the way on (`ember train --resume TRIAL`,
    // where the study's --resume trains that trial again from scratch)
    const string TwoEpochs = "model: mlp\nlimit: 256\nepochs: 2\nbatch_size: 64\nplain: true\nseed: 3\n";

    /// <summary>The command line of a study (3 evolve trials or 2 ablate runs of <see cref="TwoEpochs"/>) into <paramref name="project"/>.</summary>
    Func<string, string[]> TwoEpochStudy(string command)
    {
        if (command == "evolve") return project => Evolve(project, TwoEpochs);
        var study = Study("model: mlp, epochs: 2, batch_size: 64, limit: 256, plain: true, seed: 3");
        return project => ["ablate", study, "--project", project];
    }

    // evolve.csv's rows, or ablate's runs.csv and tables, wall times aside; Rows: the rows file alone (a stopped study's)
    static List<string> Results(string command, string folder)
        => command == "evolve" ? Rows(command, folder) : AblationResults(folder);

    static List<string> Rows(string command, string folder)
        => RowsWithoutTime(Path.Combine(folder, command == "evolve" ? "evolve.csv" : AblationRunsFile.FileName));

    List<string> Uninterrupted(string command, Func<string, string[]> args)
    {
        var project = Path.Combine(root, "whole-" + Guid.NewGuid().ToString("N"));
        var (code, stdout, stderr) = CliFailureTests.Invoke(args(project));
        Assert.True(code == 0, $"the uninterrupted study: exit code {code}: {stderr}{stdout}");
        return Results(command, Path.Combine(project, "exp1"));
    }

    /// <summary>
    /// A callback for every trial of the next study on this flow: <paramref name="act"/> runs in the second trial when
    /// <paramref name="at"/> says so (the trials are counted by their first batch).
    /// </summary>
    static LambdaCallback InSecondTrial(Func<TrainerState, bool> at, Action act, bool afterBackward = false)
    {
        int trials = 0;
        void Count(TrainerState s) { if (s.Epoch == 1 && s.BatchIndex == 0) trials++; }
        return afterBackward
            ? new LambdaCallback { BatchEnd = Count, AfterBackward = s => { if (trials == 2 && at(s)) act(); } }
            : new LambdaCallback { BatchEnd = s => { Count(s); if (trials == 2 && at(s)) act(); } };
    }

    // What the study's folder keeps when its second trial fails, and what its --resume does then.
    static string SecondTrialLost(string command, string study) => command == "evolve"
        ? $"{Path.Combine(study, "evolve.csv")} records 1 trial, whole; generation 1 is not recorded"
        : $"{Path.Combine(study, "runs.csv")} records 1 of 2 runs, whole; the run A+ema, seed 3 is not recorded";

    static string SecondTrialAgain(string command, string study) => command == "evolve"
        ? $"`ember evolve --resume {study}` trains generation 1 again from scratch (with the same hyper-parameters) and goes on"
        : $"`ember ablate --resume {study}` trains it again from scratch and finishes the study";

    /// <summary>
    /// `ember evolve|ablate --resume STUDY` after a failed second trial: exit 0, the cut trial's folder removed and trained
    /// again into its own exp1, the uninterrupted study's results, no temporary.
    /// </summary>
    static void AssertResumesTheCutTrial(string command, string study, List<string> whole)
    {
        var (code, stdout, stderr) = CliFailureTests.Invoke([command, "--resume", study]);
        Assert.True(code == 0, $"resume: exit code {code}: {stderr}{stdout}");
        Assert.Contains($"removed {Path.Combine(study, "trials", command == "evolve" ? "gen1" : "A+ema-seed3")}, the unfinished run of this trial", stdout);
        Assert.Equal(whole, Results(command, study));
        foreach (var trial in Directory.GetDirectories(Path.Combine(study, "trials")))
            Assert.Equal([Path.Combine(trial, "exp1")], Directory.GetDirectories(trial));
        AssertNoTemporaries(study);
    }

    /// <summary>
    /// A real full disk (a tmpfs, Linux as root; elsewhere every file written from then on fails as on a full disk) in the
    /// second trial's epoch 2, after its epoch 1 saved last/: one line, exit 5, that names the study's resume and says the
    /// trial trains again from scratch (it said "RUN/last is whole …: `ember train --resume TRIAL` continues from there",
    /// which leaves the study unfinished and is not what the study's resume does). Once the filler is gone, the study's
    /// resume ends on the uninterrupted study's results.
    /// </summary>
    [Theory]
    [InlineData("evolve")]
    [InlineData("ablate")]
    public void A_trial_on_a_real_full_disk_names_the_studys_resume_which_trains_it_again(string command)
    {
        var disk = Directory.CreateDirectory(Path.Combine(root, "disk")).FullName;
        bool real = WriteFaultTests.MountTmpfs(disk, "64m", output);
        try
        {
            var args = TwoEpochStudy(command);
            var whole = Uninterrupted(command, args);
            var filler = Path.Combine(disk, "filler");
            bool full = false;
            TrainJob.TestCallback.Value = InSecondTrial(s => s.Epoch == 2 && s.BatchIndex == 0 && !full, () =>
            {
                if (real) ClosingDiskFullTests.Fill(filler); // another program's file takes the disk's last page
                full = true;
            });
            if (!real) AtomicFile.FaultInjection.Value = (_, stream) => full ? new DetectFaultTests.FullDiskStream(stream, 0) : stream;
            (int Code, string Stdout, string Stderr) result;
            try { result = CliFailureTests.Invoke(args(Path.Combine(disk, "runs"))); }
            finally
            {
                TrainJob.TestCallback.Value = null;
                AtomicFile.FaultInjection.Value = null;
            }
            Assert.True(full, "the disk was never filled");
            var study = Path.Combine(disk, "runs", "exp1");
            var trial = Path.Combine(study, "trials", command == "evolve" ? "gen1" : "A+ema-seed3", "exp1");
            output.WriteLine(result.Stderr);
            Assert.True(result.Code == ExitCodes.FileSystem, $"exit {result.Code}: {result.Stderr}{result.Stdout}");
            var refused = real ? $"No space left on device : '{Regex.Escape(trial)}/[^']+'" : "No space left on device";
            Assert.Matches(new Regex($"^ember: the disk is full \\({refused}\\); {Regex.Escape(SecondTrialLost(command, study))}: " +
                $"free some space, then {Regex.Escape(SecondTrialAgain(command, study))}\n$"), result.Stderr);
            Assert.DoesNotContain("   at ", result.Stderr + result.Stdout);
            Assert.Equal(whole.Take(2), Rows(command, study)); // the header and the first trial's row, whole

            if (real) File.Delete(filler); // the user frees some space
            AssertResumesTheCutTrial(command, study, whole);
        }
        finally
        {
            if (real) WriteFaultTests.Tool("umount", "-l", disk);
        }
    }

    /// <summary>
    /// Memory running out in the second trial (after a backward of its epoch 2): one line, exit 7, that names the study's
    /// resume and what it does with the trial, and where a smaller batch or model would come from (a new study: the
    /// trial's words said `ember train --resume TRIAL` and to lower --batch-size, an option the study does not have).
    /// The study's resume then ends on the uninterrupted study's results.
    /// </summary>
    [Theory]
    [InlineData("evolve")]
    [InlineData("ablate")]
    public void Memory_running_out_in_a_trial_names_the_studys_resume_which_trains_it_again(string command)
    {
        var args = TwoEpochStudy(command);
        var whole = Uninterrupted(command, args);
        TrainJob.TestCallback.Value = InSecondTrial(s => s.Epoch == 2 && s.BatchIndex == 1,
            () => throw new OutOfMemoryException("Insufficient memory to continue the execution of the program."), afterBackward: true);
        (int Code, string Stdout, string Stderr) result;
        try { result = CliFailureTests.Invoke(args(Path.Combine(root, "oom"))); }
        finally { TrainJob.TestCallback.Value = null; }
        var study = Path.Combine(root, "oom", "exp1");
        output.WriteLine(result.Stderr);
        Assert.True(result.Code == ExitCodes.OutOfMemory, $"exit {result.Code}: {result.Stderr}{result.Stdout}");
        var (kind, file) = command == "evolve" ? ("evolution, from a base config", "base.yaml") : ("study, from a study file", "study.yaml");
        Assert.Equal($"ember: out of memory (more memory was needed than this process could get, of the {TrainingMemory.Size(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)} it may use); " +
            $"{SecondTrialLost(command, study)}: {SecondTrialAgain(command, study)} when more memory is free; " +
            $"a smaller batch_size than 64 or another model than mlp needs a new {kind} that sets it (this one's is {Path.Combine(study, file)})\n", result.Stderr);
        Assert.Equal(whole.Take(2), Rows(command, study));
        AssertResumesTheCutTrial(command, study, whole);
    }

    /// <summary>
    /// A study folder whose rows file was cut short (a copy or an editor that stopped part-way; Ember's own writes are
    /// whole or absent): `--resume` is refused with one line naming the file and the line (exit 3, as for any damaged data
    /// of a run folder; evolve said exit 2, "cannot continue PATH: evolve.csv (PATH): …") and changes nothing in the folder
    /// (evolve's resume rewrote args.yaml with the new --generations before it read evolve.csv).
    /// </summary>
    [Theory]
    [InlineData("evolve")]
    [InlineData("ablate")]
    public void A_resume_of_a_study_whose_rows_file_is_cut_names_the_file_and_changes_nothing(string command)
    {
        var project = Path.Combine(root, "cut-" + command);
        string[] args = command == "evolve" ? [.. Evolve(project).Select(a => a == "3" ? "1" : a)] // one trial
            : ["ablate", Study("model: mlp, epochs: 1, batch_size: 64, limit: 128, plain: true"), "--project", project];
        var (code, stdout, stderr) = CliFailureTests.Invoke(args);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        var study = Path.Combine(project, "exp1");
        var rows = Path.Combine(study, command == "evolve" ? "evolve.csv" : AblationRunsFile.FileName);
        var lines = File.ReadAllLines(rows);
        File.WriteAllText(rows, lines[0] + "\n" + lines[1][..(lines[1].Length / 2)] + "\n"); // the first row cut in half
        if (command == "ablate") foreach (var table in Directory.GetFiles(study, "ablation.*")) File.Delete(table);
        var before = Directory.GetFiles(study, "*", SearchOption.AllDirectories).ToDictionary(f => f, ResumeTests.Sha256);

        (code, stdout, stderr) = CliFailureTests.Invoke(command == "evolve" ? ["evolve", "--resume", study, "-g", "3"] : ["ablate", "--resume", study]);
        Assert.True(code == ExitCodes.Data, $"exit {code}: {stderr}{stdout}");
        var values = lines[1][..(lines[1].Length / 2)].Split(',').Length;
        Assert.Equal(command == "evolve"
            ? $"ember: evolve.csv ({rows}) line 2: expected {lines[0].Split(',').Length} values, got {values}; is it the evolve.csv that ember evolve wrote?\n"
            : $"ember: {rows}:2: expected {lines[0].Split(',').Length} values, got {values}\n", stderr);
        Assert.Equal(before, Directory.GetFiles(study, "*", SearchOption.AllDirectories).ToDictionary(f => f, ResumeTests.Sha256));
    }

    string Study(string baseline, string seeds = "[3]")
    {
        var file = Path.Combine(root, $"study-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, $"baseline: {{{baseline}}}\ncomponents:\n  ema: {{ema: 0.9}}\nseeds: {seeds}\nmetrics: [top1, val_loss]\n");
        return file;
    }

    /// <summary>An ablation's results without wall times: runs.csv without time_s, then ablation.csv and ablation.md.</summary>
    static List<string> AblationResults(string folder)
        => [.. RowsWithoutTime(Path.Combine(folder, "runs.csv")), .. File.ReadAllLines(Path.Combine(folder, "ablation.csv")), .. File.ReadAllLines(Path.Combine(folder, "ablation.md"))];

    List<string> UninterruptedAblation(string study)
    {
        var project = Path.Combine(root, "whole-" + Guid.NewGuid().ToString("N"));
        var (code, stdout, stderr) = CliFailureTests.Invoke(["ablate", study, "--project", project]);
        Assert.True(code == 0, $"the uninterrupted ablation: exit code {code}: {stderr}{stdout}");
        return AblationResults(Path.Combine(project, "exp1"));
    }

    /// <summary>
    /// `ablate --resume` of a stopped study: exit 0, the uninterrupted study's results (wall times aside), every run in
    /// its own trials/…/exp1 (a cut run's folder removed, not left beside a second one), no marker and no temporary.
    /// Returns the resume's output.
    /// </summary>
    static string AssertResumesToTheUninterruptedResults(string folder, List<string> whole)
    {
        var (code, stdout, stderr) = CliFailureTests.Invoke(["ablate", "--resume", folder]);
        Assert.True(code == 0, $"resume: exit code {code}: {stderr}{stdout}");
        Assert.Equal(whole, AblationResults(folder));
        foreach (var trial in Directory.GetDirectories(Path.Combine(folder, "trials")))
            Assert.Equal([Path.Combine(trial, "exp1")], Directory.GetDirectories(trial));
        Assert.False(IncompleteMarker.IsMarked(folder), "the marker of a finished study");
        AssertNoTemporaries(folder);
        return stdout;
    }

    [Theory]
    [InlineData("checkpoint", 3)]   // the second run's save
    [InlineData("runs.csv", 2)]     // the second run's row: that run finished, but is not recorded, so it trains again
    [InlineData("ablation.csv", 1)] // after every run, between ablation.md and runs.csv
    public void Ablate_on_a_full_disk_is_exit_5_leaves_no_half_table_and_resume_ends_on_the_uninterrupted_results(string moment, int nth)
    {
        var study = Study("model: mlp, epochs: 1, batch_size: 64, limit: 256, plain: true");
        var project = Path.Combine(root, "ablate-full-" + moment);
        var (result, seen) = WithFault(moment, nth, ["ablate", study, "--project", project]);
        Assert.True(seen >= nth, $"the fault at {moment} was never injected ({seen} times seen)");
        AssertDiskFull(result, "ablate, full disk at " + moment);
        var folder = Path.Combine(project, "exp1");
        AssertNoTemporaries(folder);
        // no table unless every run finished; a table file there is whole; runs.csv holds whole rows of the runs recorded
        Assert.False(File.Exists(Path.Combine(folder, "ablation.csv")));
        if (File.Exists(Path.Combine(folder, "ablation.md")))
            Assert.Contains("| A+ema (final) |", File.ReadAllText(Path.Combine(folder, "ablation.md")));
        Assert.True(IncompleteMarker.IsMarked(folder), "a stopped study without its marker");
        var whole = UninterruptedAblation(study);
        var rows = RowsWithoutTime(Path.Combine(folder, "runs.csv"));
        Assert.Equal(moment == "ablation.csv" ? 3 : 2, rows.Count);
        Assert.Equal(whole.Take(rows.Count), rows);

        var resumed = AssertResumesToTheUninterruptedResults(folder, whole);
        Assert.Equal(rows.Count - 1, resumed.Split('\n').Count(l => l.TrimEnd().EndsWith(", recorded)", StringComparison.Ordinal)));
    }

    [Fact]
    public void Ablate_on_a_full_disk_before_any_run_leaves_no_study_folder()
    {
        var study = Study("model: mlp, epochs: 1, batch_size: 64, limit: 256, plain: true");
        var project = Path.Combine(root, "ablate-full-study-yaml");
        var (result, seen) = WithFault("study.yaml", 1, ["ablate", study, "--project", project]);
        Assert.True(seen >= 1, "the fault at study.yaml was never injected");
        AssertDiskFull(result, "ablate, full disk at study.yaml");
        Assert.Empty(Directory.GetFileSystemEntries(project)); // not an empty exp1 that --resume would refuse

        var (code, stdout, stderr) = CliFailureTests.Invoke(["ablate", study, "--project", project]);
        Assert.True(code == 0, $"rerun: exit code {code}: {stderr}{stdout}");
        Assert.Equal(3, File.ReadAllLines(Path.Combine(project, "exp1", "ablation.csv")).Length);
    }

    [Fact]
    public void Ablate_killed_with_kill_9_resumes_to_the_uninterrupted_results()
    {
        // 2 variants × 2 seeds of 2 epochs on 1024 images: the kill follows the second run's line, in the third run
        var study = Study("model: mlp, epochs: 2, batch_size: 64, limit: 1024, plain: true", "[3, 4]");
        var project = Path.Combine(root, "ablate-killed");
        var (exit, output) = SignalTests.StopAfter(["ablate", study, "--project", project], "[2/4]", 9);
        Assert.True(exit == 137, $"exit code {exit}: {output}");
        var folder = Path.Combine(project, "exp1");
        // the study's own files are whole; the study folder or the cut run's may hold the temporary of a write the kill
        // cut short (its target is whole or absent), which the resume removes (AssertResumesToTheUninterruptedResults)
        foreach (var table in new[] { "ablation.md", "ablation.csv", "ablation.png" })
            Assert.False(File.Exists(Path.Combine(folder, table)), $"{table} of a killed study");
        Assert.Contains($"finish it with: ember ablate --resume {folder}", File.ReadAllText(Path.Combine(folder, IncompleteMarker.FileName)));
        var whole = UninterruptedAblation(study);
        // the runs recorded before the kill (normally two; the count is read, not assumed) are whole rows of the uninterrupted study
        var rows = RowsWithoutTime(Path.Combine(folder, "runs.csv"));
        Assert.InRange(rows.Count, 3, 4);
        Assert.Equal(whole.Take(rows.Count), rows);

        // the kill normally lands in the third run, which has made its folder by then; that folder goes before it trains again
        bool cut = Directory.GetDirectories(Path.Combine(folder, "trials")).Length > rows.Count - 1;

        var resumed = AssertResumesToTheUninterruptedResults(folder, whole);
        if (cut) Assert.Contains("the unfinished run of this trial", resumed);
    }

    /// <summary>
    /// A study whose every trial is recorded, in a read-only folder (a tmpfs remounted read-only: root ignores file modes;
    /// as root on Linux, elsewhere nothing is asserted): --resume reports it as in a writable folder and exits 0, writing
    /// nothing; the same study without one of its result files (a full disk at its end) is exit 5, naming the file.
    /// </summary>
    [Theory]
    [InlineData("evolve")]
    [InlineData("ablate")]
    public void Resume_of_a_finished_study_in_a_read_only_folder_reports_it_and_writes_nothing(string command)
    {
        var project = Path.Combine(root, "runs");
        string[] args = command == "evolve"
            ? ["evolve", "-c", WriteBase(), "-g", "1", "--seed", "5", "--project", project]
            : ["ablate", Study("model: mlp, epochs: 1, batch_size: 64, limit: 128, plain: true"), "--project", project];
        var (code, stdout, stderr) = CliFailureTests.Invoke(args);
        Assert.True(code == 0, $"the study: exit {code}: {stderr}{stdout}");
        var study = Path.Combine(project, "exp1");
        // what the resume says of it while the folder can be written
        (code, var writable, stderr) = CliFailureTests.Invoke([command, "--resume", study]);
        Assert.True(code == 0, $"writable resume: exit {code}: {stderr}{writable}");

        var disk = Directory.CreateDirectory(Path.Combine(root, "read-only")).FullName;
        if (!WriteFaultTests.MountTmpfs(disk, "64m", output)) return;
        try
        {
            var finished = Path.Combine(disk, "finished");
            var cut = Path.Combine(disk, "cut"); // the study's last file never written
            TestFolders.Copy(study, finished);
            TestFolders.Copy(study, cut);
            var lost = command == "evolve" ? "best.yaml" : "ablation.md";
            File.Delete(Path.Combine(cut, lost));
            if (command == "ablate") File.WriteAllText(Path.Combine(cut, IncompleteMarker.FileName), "ember ablate has not finished this study\n");
            Assert.Equal(0, WriteFaultTests.Tool("mount", "-o", "remount,ro", disk));
            var before = CliFailureTests.Snapshot(disk);

            (code, stdout, stderr) = CliFailureTests.Invoke([command, "--resume", finished]);
            Assert.True(code == 0, $"read-only resume: exit {code}: {stderr}{stdout}");
            Assert.Equal("", stderr);
            Assert.Equal(writable.Replace(study, finished), stdout); // the same report as where it could write
            Assert.Contains(command == "evolve" ? "best: generation 0, fitness " : $"→ {Path.Combine(finished, "ablation.md")}", stdout);

            (code, stdout, stderr) = CliFailureTests.Invoke([command, "--resume", cut]);
            Assert.True(code == ExitCodes.FileSystem, $"without {lost}: exit {code}: {stderr}{stdout}");
            Assert.StartsWith($"ember: cannot write to {cut} (", stderr);
            Assert.Contains($"); every trial of the study is recorded, but `ember {command} --resume {cut}` would write {lost} (missing)" +
                $"{(command == "ablate" ? $" and remove {IncompleteMarker.FileName}" : "")}; copy the folder somewhere writable (cp -r) and resume the copy\n", stderr);
            Assert.DoesNotContain("   at ", stderr);
            Assert.Equal(before, CliFailureTests.Snapshot(disk));
        }
        finally { WriteFaultTests.Tool("umount", "-l", disk); }
    }

    string WriteBase()
    {
        var file = Path.Combine(root, $"base-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, EvolveBase);
        return file;
    }
}
