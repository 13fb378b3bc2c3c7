using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>
/// Two processes and one run folder. A `--resume` of a run that another process still trains is refused before it
/// reads or writes anything (exit 5, naming that process and what to do), where it used to train beside it: both saved
/// their own last/ and best/ and appended their own metrics.csv rows. Commands started together get folders of their
/// own, where two that both found expN free both trained into it. The lock is the kernel's (flock on the folder), so a
/// killed process leaves none behind (SignalTests' kill -9 test resumes right after the kill).
/// </summary>
public sealed class RunFolderLockTests : IDisposable
{
    const int SigTerm = 15;
    readonly string root = Directory.CreateTempSubdirectory("ember-run-lock").FullName;

    public void Dispose() => Directory.Delete(root, true);

    [LinuxFact]
    public void A_resume_of_a_run_that_another_process_trains_is_refused_and_goes_on_once_it_stopped()
    {
        var project = Path.Combine(root, "runs");
        var run = Path.Combine(project, "exp1");
        // 512 images in batches of 64: a run far longer than the test lets it go on
        string[] options = ["--model", "mlp", "--epochs", "500", "--limit", "512", "--batch-size", "64", "--schedule", "none", "--plain"];
        (int Code, string Stdout, string Stderr) resume = default, detect = default;
        int child = 0;
        string? metrics = null;
        var (code, output) = SignalTests.SignalAfterDoing(["train", .. options, "--project", project], "epoch 2/500", pid =>
        {
            child = pid;
            resume = CliFailureTests.Invoke(["train", "--resume", run, "--epochs", "3"]);
            // the other kinds' resume is refused for the same reason first (what they would say of the folder can wait)
            detect = CliFailureTests.Invoke(["detect", "train", "--resume", run]);
            metrics = File.ReadAllText(Path.Combine(run, "metrics.csv"));
        }, SigTerm);
        Assert.True(code == 143, $"exit {code}: {output}");

        Assert.True(resume.Code == ExitCodes.FileSystem, $"exit {resume.Code}: {resume.Stderr}{resume.Stdout}");
        Assert.Equal($"ember: {run} is in use by another process (PID {child}: ember train {string.Join(' ', options)} --project {project}): " +
            "two processes writing one run folder would mix their checkpoints and result rows; " +
            $"wait for it to end (or stop it with Ctrl-C in its terminal or kill {child}: it saves last/ first), then `ember train --resume {run}` goes on from there\n", resume.Stderr);
        Assert.DoesNotContain("resuming", resume.Stdout);
        Assert.True(detect.Code == ExitCodes.FileSystem, $"exit {detect.Code}: {detect.Stderr}");
        // named as the run it is (a classification run), not as the command that was given
        Assert.Equal(resume.Stderr, detect.Stderr);
        // the refused resumes wrote nothing: the child's rows up to then are all the file holds, none twice
        var rows = metrics!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(r => r.Split(',')[0]).ToList();
        Assert.Equal(rows.Distinct().Count(), rows.Count);

        // stopped (SIGTERM saves last/), the run is free: the resume goes on from its last/
        var state = Checkpoint.ReadState(Path.Combine(run, "last"));
        int epochs = state.Epoch + 1;
        var (again, stdout, stderr) = CliFailureTests.Invoke(["train", "--resume", run, "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(again == 0, $"exit {again}: {stderr}{stdout}");
        Assert.Contains($"resuming {run} at epoch", stdout);
        Assert.Equal((epochs, true), (Checkpoint.ReadState(Path.Combine(run, "last")).Epoch, Checkpoint.ReadState(Path.Combine(run, "last")).EpochComplete));
        Assert.Equal(epochs + 1, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
    }

    /// <summary>
    /// A study holds its folder as a run does: a second `--resume` of it while a real `ember evolve` or `ember ablate`
    /// child runs is refused (exit 5, naming the child, saying that stopping it keeps the trials it finished and that the
    /// cut one trains again: "it saves last/ first" promised a checkpoint the study's resume does not use) and changes
    /// nothing (evolve's --resume rewrites args.yaml: a refused one with another --generations must not); killed with
    /// kill -9, the child leaves no lock: the resume right after goes on and finishes the study, the cut trial trained
    /// again from scratch.
    /// </summary>
    [LinuxTheory]
    [InlineData("evolve")]
    [InlineData("ablate")]
    public void A_resume_of_a_study_that_another_process_runs_is_refused_and_a_killed_one_resumes(string command)
    {
        var project = Path.Combine(root, command);
        var study = Path.Combine(project, "exp1");
        // two trials of 3 epochs on 2048 images: the second runs for a second or more after the first is recorded
        const string trial = "model: mlp, limit: 2048, epochs: 3, batch_size: 64, schedule: none, plain: true";
        string[] args;
        string firstRecorded, resumeCommand = $"ember {command} --resume";
        if (command == "evolve")
        {
            var config = Path.Combine(root, "base.yaml");
            File.WriteAllText(config, string.Join('\n', trial.Split(", ")) + "\n");
            args = ["evolve", "-c", config, "-g", "2", "--seed", "5", "--project", project];
            firstRecorded = "gen 0/1";
        }
        else
        {
            var file = Path.Combine(root, "study.yaml");
            File.WriteAllText(file, $"baseline: {{{trial}}}\ncomponents:\n  ema: {{ema: 0.9}}\nseeds: [3]\nmetrics: [top1]\n");
            args = ["ablate", file, "--project", project];
            firstRecorded = "[1/2]";
        }
        (int Code, string Stdout, string Stderr) resume = default, other = default;
        int child = 0;
        string? argsYaml = null, rows = null;
        var rowsFile = Path.Combine(study, command == "evolve" ? "evolve.csv" : "runs.csv");
        var (code, output) = SignalTests.SignalAfterDoing(args, firstRecorded, pid =>
        {
            child = pid;
            argsYaml = File.ReadAllText(Path.Combine(study, "args.yaml"));
            rows = File.ReadAllText(rowsFile);
            resume = CliFailureTests.Invoke(command == "evolve" ? ["evolve", "--resume", study, "-g", "9"] : ["ablate", "--resume", study]);
            // the other study's resume (and a run's) is refused for the same reason first, named as the study it is
            other = CliFailureTests.Invoke(command == "evolve" ? ["ablate", "--resume", study] : ["evolve", "--resume", study]);
        }, 9);
        Assert.True(code == 137, $"exit {code}: {output}");

        Assert.True(resume.Code == ExitCodes.FileSystem, $"exit {resume.Code}: {resume.Stderr}{resume.Stdout}");
        Assert.Equal($"ember: {study} is in use by another process (PID {child}: ember {string.Join(' ', args)}): " +
            "two processes writing one study folder would mix their trials and result rows; " +
            $"wait for it to end (or stop it with Ctrl-C in its terminal or kill {child}: it records the trials it finished), " +
            $"then `{resumeCommand} {study}` goes on from there (the trial it was training trains again from scratch)\n", resume.Stderr);
        Assert.Equal(resume.Stderr, other.Stderr);
        Assert.Equal(ExitCodes.FileSystem, other.Code);
        Assert.Equal("", resume.Stdout + other.Stdout);
        Assert.Equal(argsYaml, File.ReadAllText(Path.Combine(study, "args.yaml")));

        // killed outright, the child let the folder go: the resume finishes the study, the cut trial trained again
        var recorded = File.ReadAllLines(rowsFile).Length - 1;
        Assert.InRange(recorded, 1, 2);
        Assert.StartsWith(rows!, File.ReadAllText(rowsFile));
        var (again, stdout, stderr) = CliFailureTests.Invoke([command, "--resume", study]);
        Assert.True(again == 0, $"exit {again}: {stderr}{stdout}");
        Assert.Equal(3, File.ReadAllLines(rowsFile).Length);
        Assert.StartsWith(rows!, File.ReadAllText(rowsFile));
        Assert.Empty(Directory.GetFiles(study, "*.tmp", SearchOption.AllDirectories));
        foreach (var folder in Directory.GetDirectories(Path.Combine(study, "trials")))
            Assert.Equal([Path.Combine(folder, "exp1")], Directory.GetDirectories(folder));
    }

    [LinuxFact]
    public void A_folder_held_in_this_process_is_refused_naming_it_and_let_go_on_dispose()
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, "held")).FullName;
        using (RunFolderLock.Hold(folder, "ember train --resume"))
        {
            var busy = Assert.Throws<RunFolderBusyException>(() => RunFolderLock.RequireFree(folder, () => "ember train --resume"));
            Assert.Equal(Environment.ProcessId, busy.HolderPid);
            Assert.Contains($"{folder} is in use by this process", busy.Message);
            Assert.Equal(ExitCodes.FileSystem, CliErrors.Describe(busy).Code);
        }
        RunFolderLock.RequireFree(folder, () => "ember train --resume");
        using var again = RunFolderLock.Hold(folder, "ember train --resume");
        Assert.NotNull(again);
    }

    [LinuxFact]
    public void The_ranks_of_a_job_leave_the_lock_to_rank_0_and_the_launcher_checks_it()
    {
        var project = Path.Combine(root, "ranks");
        var (code, stdout, stderr) = CliFailureTests.Invoke(["train", "--model", "mlp", "--epochs", "1", "--limit", "128", "--batch-size", "64", "--plain", "--project", project]);
        Assert.True(code == 0, $"exit {code}: {stderr}{stdout}");
        var run = Path.Combine(project, "exp1");
        var overrides = new Dictionary<string, string?>();
        // held as rank 0 holds it while it trains: every rank runs `ember train --resume RUN`; a rank must not ask how many
        // processes the run needs (the question checks the lock: the ranks would refuse each other), the launcher must
        int Processes() => TrainJob.Processes(new TrainConfig(), run, overrides);
        var rank = new Ember.Distributed.LaunchEnvironment(1, 2, "OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE");
        using (RunFolderLock.Hold(run, "ember train --resume"))
        {
            bool asked = false;
            Assert.Null(TrainCommand.ProcessesToStart(rank, () => { asked = true; return Processes(); }));
            Assert.False(asked, "a rank asked how many processes to start");
            Assert.Throws<RunFolderBusyException>(() => TrainCommand.ProcessesToStart(null, Processes));
        }
        Assert.Null(TrainCommand.ProcessesToStart(null, Processes)); // one process: this one trains
        Assert.Equal(2, TrainCommand.ProcessesToStart(null, () => 2));
    }

    [Fact]
    public void Commands_started_together_each_get_a_run_folder_of_their_own()
    {
        // eight commands at once, 60 times over, each into a fresh project: before, two that both found expN free both
        // took it (Directory.CreateDirectory succeeds on a folder that exists)
        const int Commands = 8, Rounds = 60;
        for (int round = 0; round < Rounds; round++)
        {
            var project = Path.Combine(root, $"together{round}");
            using var start = new Barrier(Commands);
            var made = new string[Commands];
            var threads = Enumerable.Range(0, Commands).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                made[i] = RunFolder.Create(project);
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            Assert.Equal(Commands, made.Distinct().Count());
            Assert.Equal(Enumerable.Range(1, Commands).Select(n => $"exp{n}").Order(), made.Select(Path.GetFileName).Order());
        }
    }
}
