using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Cli.Commands.Forecast;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;

namespace Ember.Tests.Cli;

/// <summary>
/// One folder of every kind the commands leave, made from the files that tell them apart (nothing is trained: every
/// case is refused before a checkpoint is read).
/// </summary>
public sealed class RunFolderFixture : IDisposable
{
    /// <summary>The temporary root.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("ember-run-kinds").FullName;

    /// <summary>A folder of each kind.</summary>
    public IReadOnlyDictionary<RunFolderKind, string> Folders { get; }

    public RunFolderFixture()
    {
        var folders = new Dictionary<RunFolderKind, string>();
        string Make(RunFolderKind kind, string relative, params (string Name, string Text)[] files)
        {
            var folder = Directory.CreateDirectory(Path.Combine(Root, relative)).FullName;
            foreach (var (name, text) in files)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, name))!);
                File.WriteAllText(Path.Combine(folder, name), text);
            }
            return folders[kind] = folder;
        }
        Make(RunFolderKind.Classification, "runs/train/exp1", ("args.yaml", ConfigLoader.ToYaml(new TrainConfig())), ("last/checkpoint.json", "{}"), ("metrics.csv", "epoch\n"));
        Make(RunFolderKind.Detection, "runs/detect/exp1", ("args.yaml", new DetectConfig().ToYaml()), ("last/checkpoint.json", "{}"));
        Make(RunFolderKind.DetectionPretrain, "runs/detect-pretrain/exp1", ("args.yaml", new DetectPretrainConfig().ToYaml()), ("last/checkpoint.json", "{}"));
        Make(RunFolderKind.Forecast, "runs/forecast/exp1", ("args.yaml", new ForecastConfig().ToYaml()), ("last/checkpoint.json", "{}"));
        Make(RunFolderKind.Evolve, "runs/evolve/exp1", ("base.yaml", ConfigLoader.ToYaml(new TrainConfig())), ("space.yaml", "lr: [0.0001, 0.1, 0.001]\n"),
            ("args.yaml", "generations: 2\nseed: 0\nfitness: top1:1\nparent: single\ntime_budget:\n"), ("evolve.csv", "generation,fitness,lr\n"));
        Make(RunFolderKind.Ablation, "runs/ablate/exp1", ("study.yaml", "baseline: {model: mlp, epochs: 1}\ncomponents:\n  ema: {ema: 0.9}\nseeds: [3]\n"),
            ("args.yaml", "study: /somewhere/study.yaml\n"), (IncompleteMarker.FileName, "ember ablate has not finished this study\n"),
            ("trials/A-seed3/exp1/args.yaml", ConfigLoader.ToYaml(new TrainConfig())));
        Make(RunFolderKind.GradientFlow, "runs/gradient-flow/exp1", (IncompleteMarker.FileName, "ember gradient-flow did not finish in this folder (killed or crashed before its files were written); it holds no results\n"));
        Make(RunFolderKind.VarianceShift, "runs/variance-shift/exp1", ("args.yaml", "command: variance-shift\nepochs: 3\n"), ("metrics.csv", "x\n"));
        Make(RunFolderKind.LoraTransfer, "runs/lora-transfer/exp1", ("args.yaml", "command: lora-transfer\nrank: 4\n"));
        Make(RunFolderKind.DetectionDataSet, "data/shapes", ("data.yaml", "train: images/train\nval: images/val\nnames: [square]\n"));
        Make(RunFolderKind.Empty, "runs/train/exp2");
        Make(RunFolderKind.Unrecognized, "notes", ("notes.txt", "not a run\n"));
        Folders = folders;
    }

    public void Dispose() => Directory.Delete(Root, true);
}

/// <summary>
/// Every command that takes a run folder, given a folder of another kind, a file, a checkpoint folder, an empty or a
/// foreign folder: exit 3 (exit 4 for --weights) and a message that says what was given and which command takes it;
/// nothing in the folder changes.
/// </summary>
public class RunFolderCheckTests(RunFolderFixture fx) : IClassFixture<RunFolderFixture>
{
    // The resume commands and the kind each resumes.
    static readonly (RunFolderKind Kind, string[] Command)[] Resumers =
    [
        (RunFolderKind.Classification, new[] { "train" }), (RunFolderKind.Detection, new[] { "detect", "train" }),
        (RunFolderKind.DetectionPretrain, new[] { "detect", "pretrain" }), (RunFolderKind.Forecast, new[] { "forecast", "train" }),
        (RunFolderKind.Evolve, new[] { "evolve" }), (RunFolderKind.Ablation, new[] { "ablate" }),
    ];

    static readonly IReadOnlyDictionary<RunFolderKind, string> What = new Dictionary<RunFolderKind, string>
    {
        [RunFolderKind.Classification] = "a classification run (`ember train`)", [RunFolderKind.Detection] = "a detection run (`ember detect train`)",
        [RunFolderKind.DetectionPretrain] = "a detection pre-training run (`ember detect pretrain`)",
        [RunFolderKind.Forecast] = "a forecast run (`ember forecast train`)", [RunFolderKind.Evolve] = "an evolve folder (`ember evolve`)",
        [RunFolderKind.Ablation] = "an ablation study folder (`ember ablate`)", [RunFolderKind.GradientFlow] = "a gradient-flow run (`ember gradient-flow`)",
        [RunFolderKind.VarianceShift] = "a variance-shift run (`ember variance-shift`)", [RunFolderKind.LoraTransfer] = "a lora-transfer run (`ember lora-transfer`)",
        [RunFolderKind.DetectionDataSet] = "a detection data set (`ember detect make-data`)",
    };

    static string Resume(RunFolderKind kind) => "ember " + string.Join(' ', Resumers.First(r => r.Kind == kind).Command) + " --resume";

    [Fact]
    public void Each_kind_of_folder_is_told_from_its_files()
    {
        foreach (var (kind, folder) in fx.Folders) Assert.True(kind == RunFolderCheck.Identify(folder), $"{folder}: {RunFolderCheck.Identify(folder)}, expected {kind}");
        Assert.Equal(RunFolderKind.Missing, RunFolderCheck.Identify(Path.Combine(fx.Root, "none")));
        Assert.Equal(RunFolderKind.File, RunFolderCheck.Identify(Path.Combine(fx.Folders[RunFolderKind.Classification], "args.yaml")));
        Assert.Equal(RunFolderKind.Checkpoint, RunFolderCheck.Identify(Path.Combine(fx.Folders[RunFolderKind.Classification], "last")));
        // an args.yaml that several kinds could hold, or that is not YAML, is left to the command's own reader
        var ambiguous = Directory.CreateDirectory(Path.Combine(fx.Root, "ambiguous")).FullName;
        File.WriteAllText(Path.Combine(ambiguous, "args.yaml"), "epochs: 3\n");
        Assert.Equal(RunFolderKind.Unrecognized, RunFolderCheck.Identify(ambiguous));
        File.WriteAllText(Path.Combine(ambiguous, "args.yaml"), "epochs: [3\n");
        Assert.Equal(RunFolderKind.Unrecognized, RunFolderCheck.Identify(ambiguous));
    }

    [Fact]
    public void A_study_folder_that_lost_its_key_file_is_told_from_its_args_yaml_by_the_commands_option_names()
    {
        foreach (var (kind, key) in new[] { (RunFolderKind.Evolve, "base.yaml"), (RunFolderKind.Ablation, "study.yaml") })
        {
            var copy = Path.Combine(fx.Root, "args-only", kind.ToString());
            TestFolders.Copy(fx.Folders[kind], copy);
            File.Delete(Path.Combine(copy, key));
            Assert.Equal(kind, RunFolderCheck.Identify(copy));
        }
        // a key that is no evolve option (nor a key of another kind) is told from nothing
        var odd = Path.Combine(fx.Root, "args-only", "odd");
        TestFolders.Copy(fx.Folders[RunFolderKind.Evolve], odd);
        File.Delete(Path.Combine(odd, "base.yaml"));
        File.AppendAllText(Path.Combine(odd, "args.yaml"), "population: 8\n");
        Assert.Equal(RunFolderKind.Unrecognized, RunFolderCheck.Identify(odd));
    }

    public static TheoryData<RunFolderKind, RunFolderKind> WrongKinds()
    {
        var data = new TheoryData<RunFolderKind, RunFolderKind>();
        foreach (var (kind, _) in Resumers)
            foreach (var given in Enum.GetValues<RunFolderKind>())
                if (given != kind && given is not (RunFolderKind.Missing or RunFolderKind.File or RunFolderKind.Checkpoint)) data.Add(kind, given);
        return data;
    }

    [Theory]
    [MemberData(nameof(WrongKinds))]
    public void Resume_of_a_folder_of_another_kind_names_what_it_is_and_the_command_that_takes_it(RunFolderKind command, RunFolderKind given)
    {
        var folder = fx.Folders[given];
        var before = CliFailureTests.Snapshot(fx.Root);
        var (code, stdout, stderr) = CliFailureTests.Invoke([.. Resumers.First(r => r.Kind == command).Command, "--resume", folder]);
        Assert.True(code == ExitCodes.Data, $"exit {code}: {stderr}{stdout}");
        Assert.StartsWith("ember: ", stderr);
        Assert.DoesNotContain("unknown key", stderr);
        var expected = given switch
        {
            RunFolderKind.Empty => $"{folder} is an empty folder, not {What[command]}",
            RunFolderKind.Unrecognized => $"{folder} is not an ember",
            RunFolderKind.DetectionDataSet => $"{folder} is {What[given]}, not {What[command][..What[command].IndexOf(" (")]}; train on it with `ember detect train --data {folder}/data.yaml`",
            RunFolderKind.GradientFlow or RunFolderKind.VarianceShift or RunFolderKind.LoraTransfer => $"{folder} is {What[given]}, not {What[command][..What[command].IndexOf(" (")]}; {What[given][(What[given].IndexOf('`') + 1)..^2]} has no --resume",
            _ => $"{folder} is {What[given]}, not {What[command][..What[command].IndexOf(" (")]}; resume it with `{Resume(given)} {folder}`",
        };
        Assert.Contains(expected, stderr);
        Assert.Equal(before, CliFailureTests.Snapshot(fx.Root));
    }

    [Fact]
    public void Resume_of_a_study_trial_names_the_study()
    {
        var study = fx.Folders[RunFolderKind.Ablation];
        var trial = Path.Combine(study, "trials", "A-seed3", "exp1");
        var (code, _, stderr) = CliFailureTests.Invoke(["ablate", "--resume", trial]);
        Assert.Equal(ExitCodes.Data, code);
        Assert.Contains($"{trial} is a classification run (`ember train`) inside {study}, an ablation study folder (`ember ablate`); did you mean `ember ablate --resume {study}`?", stderr);
    }

    public static TheoryData<RunFolderKind, string> FilesInRuns => new()
    {
        { RunFolderKind.Classification, "args.yaml" }, { RunFolderKind.Classification, "last/checkpoint.json" }, { RunFolderKind.Classification, "last" },
        { RunFolderKind.Detection, "args.yaml" }, { RunFolderKind.Detection, "last" }, { RunFolderKind.Forecast, "last/checkpoint.json" },
        { RunFolderKind.Evolve, "evolve.csv" }, { RunFolderKind.Ablation, "study.yaml" },
    };

    [Theory]
    [MemberData(nameof(FilesInRuns))]
    public void Resume_of_a_file_or_checkpoint_folder_inside_a_run_names_the_run_folder(RunFolderKind kind, string inside)
    {
        var run = fx.Folders[kind];
        var given = Path.Combine(run, inside);
        var (code, stdout, stderr) = CliFailureTests.Invoke([.. Resumers.First(r => r.Kind == kind).Command, "--resume", given]);
        Assert.True(code == ExitCodes.Data, $"exit {code}: {stderr}{stdout}");
        Assert.Contains($"--resume takes a run folder, got the {(Directory.Exists(given) ? "checkpoint folder" : "file")} {given}; did you mean its run folder {run}? (`{Resume(kind)} {run}`)", stderr);
    }

    [Fact]
    public void Resume_of_a_file_inside_a_run_of_another_kind_or_outside_any_run_says_so()
    {
        var detect = fx.Folders[RunFolderKind.Detection];
        var (code, _, stderr) = CliFailureTests.Invoke(["train", "--resume", Path.Combine(detect, "args.yaml")]);
        Assert.Equal(ExitCodes.Data, code);
        Assert.Contains($"it lies in {detect}, a detection run (`ember detect train`), not a classification run; resume it with `ember detect train --resume {detect}`", stderr);

        var loose = Path.Combine(Directory.CreateDirectory(Path.Combine(fx.Root, "downloads")).FullName, "last.ckpt");
        File.WriteAllText(loose, "weights");
        (code, _, stderr) = CliFailureTests.Invoke(["forecast", "train", "--resume", loose]);
        Assert.Equal(ExitCodes.Data, code);
        Assert.Contains($"--resume takes a run folder, got the file {loose} (forecast runs are folders, written to runs/forecast/expN)", stderr);
    }

    /// <summary>Root ignores file modes, so a tmpfs remounted read-only stands in (Linux as root; elsewhere nothing is asserted).</summary>
    [Fact]
    public void Resume_of_a_read_only_folder_is_exit_5_before_anything_is_read_or_trained()
    {
        var disk = Directory.CreateDirectory(Path.Combine(fx.Root, "read-only")).FullName;
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || WriteFaultTests.Tool("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk) != 0) return;
        try
        {
            foreach (var (kind, _) in Resumers) TestFolders.Copy(fx.Folders[kind], Path.Combine(disk, kind.ToString()));
            Assert.Equal(0, WriteFaultTests.Tool("mount", "-o", "remount,ro", disk));
            foreach (var (kind, command) in Resumers)
            {
                var folder = Path.Combine(disk, kind.ToString());
                var (code, stdout, stderr) = CliFailureTests.Invoke([.. command, "--resume", folder]);
                Assert.True(code == ExitCodes.FileSystem, $"{kind}: exit {code}: {stderr}{stdout}");
                Assert.Contains($"ember: cannot write to {folder} (", stderr);
                Assert.Contains($"); {Resume(kind)} writes its checkpoints and results there; copy the folder somewhere writable (cp -r) and resume the copy", stderr);
            }
        }
        finally { WriteFaultTests.Tool("umount", "-l", disk); }
    }

    [Theory]
    [InlineData(new[] { "eval" }, RunFolderKind.Detection, "not a classification run; validate it with `ember detect val --weights {0}/best`")]
    [InlineData(new[] { "predict" }, RunFolderKind.Forecast, "not a classification run; score it with `ember forecast eval {0}`")]
    [InlineData(new[] { "export" }, RunFolderKind.Evolve, "not a classification run; its best settings are {0}/best.yaml")]
    [InlineData(new[] { "forecast", "eval" }, RunFolderKind.Classification, "not a forecast run; evaluate it with `ember eval {0}`")]
    [InlineData(new[] { "forecast", "predict" }, RunFolderKind.Ablation, "not a forecast run; its results are {0}/ablation.md")]
    [InlineData(new[] { "eval" }, RunFolderKind.Empty, "{0} is an empty folder, not a classification run")]
    public void A_command_that_reads_a_run_names_a_folder_of_another_kind(string[] command, RunFolderKind given, string message)
    {
        var folder = fx.Folders[given];
        var (code, stdout, stderr) = CliFailureTests.Invoke([.. command, folder]);
        Assert.True(code == ExitCodes.Data, $"exit {code}: {stderr}{stdout}");
        Assert.Contains(string.Format(message, folder), stderr);
    }

    [Fact]
    public void A_command_that_reads_a_run_given_a_file_in_it_names_the_run_folder()
    {
        var run = fx.Folders[RunFolderKind.Classification];
        var (code, _, stderr) = CliFailureTests.Invoke(["eval", Path.Combine(run, "metrics.csv")]);
        Assert.Equal(ExitCodes.Data, code);
        Assert.Contains($"ember eval takes a run folder, got the file {run}/metrics.csv; did you mean its run folder {run}? (`ember eval {run}`)", stderr);
    }

    [Fact]
    public void Detection_weights_given_a_run_folder_name_its_checkpoint_folders()
    {
        var detect = fx.Folders[RunFolderKind.Detection];
        var (code, _, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", detect]);
        Assert.Equal(ExitCodes.Checkpoint, code);
        Assert.Contains($"{detect} is a detection run folder; --weights takes one of its checkpoint folders: {detect}/best (or last)", stderr);
        var train = fx.Folders[RunFolderKind.Classification];
        (code, _, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", train]);
        Assert.Equal(ExitCodes.Checkpoint, code);
        Assert.Contains($"{train} is a classification run (`ember train`), not a detection checkpoint; --weights takes best/ or last/ of an `ember detect train` run; evaluate it with `ember eval {train}`", stderr);
    }
}
