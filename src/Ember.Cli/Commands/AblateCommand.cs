using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Interop;
using Ember.Tuning;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember ablate study.yaml`: runs the baseline, each component alone and all together (or the study's design), each
/// with every seed, then writes runs/ablate/expN/ablation.md (the notes' table: mean ± std over the seeds and the change
/// from the baseline), ablation.csv, runs.csv (every run) and ablation.png. See <see cref="AblationStudy"/> for the file.
/// `ember ablate --resume runs/ablate/expN` finishes a study that was stopped (Ctrl-C, SIGTERM, kill -9, a full disk):
/// the runs recorded in runs.csv are kept, the cut one trains again from scratch, and the tables come out as an
/// uninterrupted study's.
/// </summary>
public static class AblateCommand
{
    const string StudyFile = "study.yaml", ArgsFile = "args.yaml";

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("ablate", "Run an ablation study (baseline, + each component, + all) over several seeds into runs/ablate/expN; --resume finishes a stopped one");
        var study = new Argument<FileInfo?>("study") { Description = "study YAML: baseline, components, design, seeds, metrics (with --resume: optional, checked against the stored study)", Arity = ArgumentArity.ZeroOrOne };
        var project = new Option<string>("--project") { Description = "folder for the expN study folders", DefaultValueFactory = _ => "runs/ablate" };
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "finish a stopped study, e.g. runs/ablate/exp2: its finished runs are kept, the cut one trains again" };
        command.Arguments.Add(study);
        command.Options.Add(project);
        command.Options.Add(resume);
        command.Validators.Add(result =>
        {
            if (result.GetResult(study) is null && result.GetResult(resume) is null)
                result.AddError("ablate: the study file is required (or --resume DIR to finish a stopped study)");
            if (result.GetResult(resume) is not null && result.GetResult(project) is { Implicit: false })
                result.AddError("--project cannot be combined with --resume: the study goes on in its own folder");
        });
        command.SetAction(parse => CliErrors.Run(() => parse.GetValue(resume) is DirectoryInfo folder
            ? Resume(folder.FullName, parse.GetValue(study)?.FullName)
            : Run(parse.GetValue(study)!.FullName, parse.GetValue(project)!)));
        return command;
    }

    /// <summary>Runs the study; returns the exit code (130 after Ctrl-C, 143 after SIGTERM; the folder can then be resumed).</summary>
    /// <param name="studyFile">The study YAML.</param>
    /// <param name="project">Folder under which the expN study folder is created.</param>
    /// <param name="trialOutput">Where the runs' progress lines go (plain mode); null: the console.</param>
    public static int Run(string studyFile, string project = "runs/ablate", TextWriter? trialOutput = null)
    {
        var study = AblationStudy.Load(studyFile);
        var folder = RunFolder.Create(project);
        try
        {
            // the study first, so that the folder can be resumed from the start; the marker says it is not done yet
            AtomicFile.WriteAllText(Path.Combine(folder, StudyFile), study.SelfContainedText(studyFile));
            AtomicFile.WriteAllText(Path.Combine(folder, ArgsFile), YamlFile.Write(
                [KeyValuePair.Create<string, object?>("study", Path.GetFullPath(studyFile))], ["ember ablate settings (the study itself is study.yaml)"]));
            IncompleteMarker.Write(folder, $"ember ablate has not finished this study (it was stopped, killed or crashed, or is still running); " +
                $"runs.csv holds the runs done; finish it with: ember ablate --resume {folder}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // nothing ran: no study folder rather than one that cannot be resumed (if it cannot go either, the first failure is the one to report)
            try { Directory.Delete(folder, recursive: true); }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException) { }
            throw;
        }
        using var held = RunFolderLock.Hold(folder, "ember ablate --resume");
        return Execute(study, folder, Path.GetFileName(studyFile), [], trialOutput);
    }

    /// <summary>
    /// Finishes the study in <paramref name="folder"/>; with <paramref name="studyFile"/>, only if it is the study the
    /// folder holds (anything else is refused, naming each key that differs). Returns the exit code as <see cref="Run"/>.
    /// </summary>
    public static int Resume(string folder, string? studyFile = null, TextWriter? trialOutput = null)
    {
        folder = Path.GetFullPath(folder);
        // no other process may run the study while this one does (a second --resume of it is refused): held before
        // anything there is read or written (the temporaries a kill left)
        using var held = RunFolderLock.Hold(folder, () => RunFolderCheck.ResumeCommand(folder, RunFolderKind.Ablation));
        // a folder that cannot be written passes when every run is recorded (Execute then reports the study, writing nothing)
        bool writable = RunFolderCheck.ForResume(folder, RunFolderKind.Ablation, () => AllRecorded(folder), lockCheck: false);
        var stored = Path.Combine(folder, StudyFile);
        if (!File.Exists(stored))
            throw new FileNotFoundException($"{folder} is not an ember ablate study folder: it has no {StudyFile} (ember evolve folders resume with ember evolve --resume, runs with ember train --resume)", stored);
        var study = AblationStudy.Load(stored);
        if (studyFile is not null)
        {
            var differences = study.Differences(AblationStudy.Load(studyFile));
            if (differences.Count > 0)
                throw new ConfigException($"--resume {folder}: {studyFile} is not the study this folder runs: " +
                    string.Join("; ", differences.Select(d => $"{d.Key} is {d.This} in {stored}, {d.Other} in {studyFile}")) +
                    $"; resume without the study file to finish the stored study, or start a new one with: ember ablate {studyFile}");
        }
        var variants = Ablation.Variants([.. study.Components.Select(c => c.Name)], study.Design, study.BaselineName);
        var recorded = AblationRunsFile.Read(Path.Combine(folder, AblationRunsFile.FileName), variants, study.Seeds);
        return Execute(study, folder, Title(folder), recorded, trialOutput, readOnly: !writable);
    }

    // Whether runs.csv records every run of the stored study (asked only of a folder that cannot be written).
    static bool AllRecorded(string folder)
    {
        var stored = Path.Combine(folder, StudyFile);
        if (!File.Exists(stored)) return false;
        var study = AblationStudy.Load(stored);
        var variants = Ablation.Variants([.. study.Components.Select(c => c.Name)], study.Design, study.BaselineName);
        return AblationRunsFile.Read(Path.Combine(folder, AblationRunsFile.FileName), variants, study.Seeds).Count == variants.Count * study.Seeds.Count;
    }

    // The name of the study file the folder was started from (ablation.md's heading), as args.yaml records it.
    static string Title(string folder)
    {
        var args = Path.Combine(folder, ArgsFile);
        if (!File.Exists(args)) return StudyFile;
        var values = YamlFile.Scalars(YamlFile.RootMapping(YamlFile.Load(args), args, "a mapping of ablate settings"), args);
        return values.TryGetValue("study", out var path) && path is not null ? Path.GetFileName(path) : StudyFile;
    }

    // Runs the study's runs in order: those in `recorded` are taken from it, the others trained; runs.csv is rewritten
    // after each new run, the tables only once every run is done. `readOnly`: every run is recorded and the folder cannot
    // be written; the tables are reported as they are when the files already hold them, else refused.
    static int Execute(AblationStudy study, string folder, string title, IReadOnlyList<AblationRunsFile.Entry> recorded, TextWriter? trialOutput, bool readOnly = false)
    {
        var names = study.Components.Select(c => c.Name).ToList();
        var variants = Ablation.Variants(names, study.Design, study.BaselineName);
        int total = variants.Count * study.Seeds.Count;
        Console.WriteLine(recorded.Count == 0
            ? $"ember ablate: {variants.Count} variants ({string.Join(", ", variants.Select(v => v.Name))}) × {study.Seeds.Count} seeds = {total} runs → {folder}"
            : $"ember ablate --resume {folder}: {recorded.Count} of {total} runs recorded in {AblationRunsFile.FileName}, {total - recorded.Count} to run");

        // Ablation.Run goes through the variants in table order and, within one, through the seeds in order.
        int index = 0, written = recorded.Count; // runs done; runs that runs.csv records
        int? started = null; // the run that began last
        var current = study.Baseline; // its config
        var runs = new List<AblationRun>();
        var runFolders = new List<string>();
        var components = study.Components.Select(c => (c.Name, (Func<TrainConfig, TrainConfig>)(config => study.Configure(config, c.Name)))).ToList();

        // a full disk or memory running out ends the study saying what runs.csv keeps and what --resume then does
        StudyTrial.Progress Progress()
        {
            var csv = Path.Combine(folder, AblationRunsFile.FileName);
            var kept = written == 0 ? $"{csv} records no run yet" : $"{csv} records {(written == total ? "all " : "")}{written}{(written == total ? "" : $" of {total}")} runs, whole";
            var resume = $"`ember ablate --resume {folder}`";
            var defines = $"a smaller batch_size than {current.BatchSize} or another model than {current.Model} needs a new study, " +
                $"from a study file that sets it (this one's is {Path.Combine(folder, StudyFile)})";
            if (written == total)
                return new(kept, $"{resume} writes ablation.md, ablation.csv and ablation.png (it trains nothing)", defines);
            var next = $"{variants[written / study.Seeds.Count].Name}, seed {study.Seeds[written % study.Seeds.Count]}";
            return started == written
                ? new($"{kept}; the run {next} is not recorded", $"{resume} trains it again from scratch and finishes the study", defines)
                : new(kept, $"{resume} finishes the study from the run {next}", defines);
        }
        return StudyTrial.Guard(Study, Progress);

        int Study()
        {
            // Ctrl-C and SIGTERM for the whole study: between runs (a run's closing test and files, runs.csv, the tables)
            // no run's handler is there and the signal ended the process at once, unsaid; now the study stops before its
            // next run, the finished one recorded (a second signal still ends it at once)
            using var signals = new SignalCancel();
            AblationResult result;
            try
            {
                result = Ablation.Run(study.Baseline, components, (config, seed) =>
                {
                    if (index < recorded.Count)
                    {
                        runFolders.Add(recorded[index].Folder);
                        return recorded[index++].Metrics;
                    }
                    var variant = variants[index / study.Seeds.Count];
                    (started, current) = (index, config with { Seed = seed });
                    var (run, metrics) = StudyTrial.Run(config with { Seed = seed }, Path.Combine(folder, "trials", $"{variant.Name}-seed{seed}"),
                        study.TimeBudget is double t ? TimeSpan.FromSeconds(t) : null, trialOutput, () => signals.Received);
                    runFolders.Add(Path.GetRelativePath(folder, run));
                    index++;
                    return metrics;
                }, new AblationOptions { Seeds = study.Seeds, Design = study.Design, BaselineName = study.BaselineName, Metrics = study.Metrics, Decimals = study.Decimals },
                run =>
                {
                    runs.Add(run);
                    bool wasRecorded = runs.Count <= recorded.Count;
                    if (!wasRecorded)
                    {
                        AtomicFile.WriteAllText(Path.Combine(folder, AblationRunsFile.FileName), AblationRunsFile.Format(runs, runFolders));
                        written = runs.Count;
                    }
                    Console.WriteLine($"[{index}/{total}] {run.Variant.Name}, seed {run.Seed}: " +
                        string.Join("  ", study.Metrics.Select(m => $"{m} {run.Metrics[m].ToString("G6", CultureInfo.InvariantCulture)}")) +
                        $"  ({runFolders[^1]}{(wasRecorded ? ", recorded" : "")})");
                }, signals.Token);
            }
            catch (OperationCanceledException e)
            {
                Console.WriteLine($"interrupted after {index} of {total} runs; finish the study with: ember ablate --resume {folder}");
                return signals.Received is { } signal ? (signal == PosixSignal.SIGTERM ? 143 : 130) : e is StudyTrial.Interrupted i ? i.ExitCode : 130;
            }

            (string Name, string? Text)[] tables =
                [("ablation.md", Markdown(study, title, result)), ("ablation.csv", result.ToCsv()), (AblationRunsFile.FileName, AblationRunsFile.Format(runs, runFolders)), ("ablation.png", null)];
            if (!readOnly || !RunFolderCheck.UpToDate(folder, tables, $"`ember ablate --resume {folder}`", removes: IncompleteMarker.FileName))
            {
                foreach (var (name, text) in tables)
                    if (text is not null) AtomicFile.WriteAllText(Path.Combine(folder, name), text);
                StudyPlots.Ablation(result.BarSeries(), study.Seeds.Count, Path.Combine(folder, "ablation.png"));
                IncompleteMarker.Remove(folder);
            }
            Console.WriteLine();
            Console.Write(result.ToMarkdown());
            Console.WriteLine($"→ {Path.Combine(folder, "ablation.md")}, ablation.csv, runs.csv, ablation.png");
            return 0;
        }
    }

    static string Markdown(AblationStudy study, string title, AblationResult result)
    {
        var sb = new StringBuilder($"# Ablation study: {title}\n\n");
        var defaults = ConfigLoader.ToYaml(new TrainConfig()).Split('\n');
        var changed = ConfigLoader.ToYaml(study.Baseline).Split('\n').Where((line, i) => line.Length > 0 && line != defaults[i] && !line.StartsWith("seed:"));
        sb.Append($"- baseline ({study.BaselineName}): {string.Join(", ", changed)} (other keys at the `ember train` defaults)\n");
        foreach (var (name, overrides) in study.Components)
            sb.Append($"- {name}: {string.Join(", ", overrides.Select(o => $"{o.Key}: {o.Value}"))}\n");
        sb.Append($"- seeds: {string.Join(", ", study.Seeds)}; metrics on the Fashion-MNIST test set (val_loss: plain cross-entropy)\n\n");
        sb.Append(result.ToMarkdown());
        return sb.ToString();
    }
}
