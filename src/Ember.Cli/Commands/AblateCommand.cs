using System.CommandLine;
using System.Globalization;
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
/// </summary>
public static class AblateCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("ablate", "Run an ablation study (baseline, + each component, + all) over several seeds into runs/ablate/expN");
        var study = new Argument<FileInfo>("study") { Description = "study YAML: baseline, components, design, seeds, metrics" };
        var project = new Option<string>("--project") { Description = "folder for the expN study folders", DefaultValueFactory = _ => "runs/ablate" };
        command.Arguments.Add(study);
        command.Options.Add(project);
        command.SetAction(parse => CliErrors.Run(() => Run(parse.GetValue(study)!.FullName, parse.GetValue(project)!)));
        return command;
    }

    /// <summary>Runs the study; returns the exit code (130 after Ctrl-C, 143 after SIGTERM).</summary>
    /// <param name="studyFile">The study YAML.</param>
    /// <param name="project">Folder under which the expN study folder is created.</param>
    /// <param name="trialOutput">Where the runs' progress lines go (plain mode); null: the console.</param>
    public static int Run(string studyFile, string project = "runs/ablate", TextWriter? trialOutput = null)
    {
        var study = AblationStudy.Load(studyFile);
        var names = study.Components.Select(c => c.Name).ToList();
        var variants = Ablation.Variants(names, study.Design, study.BaselineName);
        var folder = RunFolder.Create(project);
        AtomicFile.Write(Path.Combine(folder, "study.yaml"), copy => { using var source = File.OpenRead(studyFile); source.CopyTo(copy); });
        int total = variants.Count * study.Seeds.Count;
        Console.WriteLine($"ember ablate: {variants.Count} variants ({string.Join(", ", variants.Select(v => v.Name))}) × {study.Seeds.Count} seeds = {total} runs → {folder}");

        // Ablation.Run goes through the variants in table order and, within one, through the seeds in order.
        int index = 0;
        var runFolders = new List<string>();
        var components = study.Components.Select(c => (c.Name, (Func<TrainConfig, TrainConfig>)(config => study.Configure(config, c.Name)))).ToList();
        AblationResult result;
        try
        {
            result = Ablation.Run(study.Baseline, components, (config, seed) =>
            {
                var variant = variants[index / study.Seeds.Count];
                var (run, metrics) = StudyTrial.Run(config with { Seed = seed }, Path.Combine(folder, "trials", $"{variant.Name}-seed{seed}"),
                    study.TimeBudget is double t ? TimeSpan.FromSeconds(t) : null, trialOutput);
                runFolders.Add(Path.GetRelativePath(folder, run));
                index++;
                return metrics;
            }, new AblationOptions { Seeds = study.Seeds, Design = study.Design, BaselineName = study.BaselineName, Metrics = study.Metrics, Decimals = study.Decimals },
            run => Console.WriteLine($"[{index}/{total}] {run.Variant.Name}, seed {run.Seed}: " +
                string.Join("  ", study.Metrics.Select(m => $"{m} {run.Metrics[m].ToString("G6", CultureInfo.InvariantCulture)}")) + $"  ({runFolders[^1]})"));
        }
        catch (OperationCanceledException e)
        {
            Console.WriteLine($"interrupted after {index} of {total} runs; the finished runs are in {Path.Combine(folder, "trials")}");
            return e is StudyTrial.Interrupted i ? i.ExitCode : 130;
        }

        AtomicFile.WriteAllText(Path.Combine(folder, "ablation.md"), Markdown(study, studyFile, result));
        AtomicFile.WriteAllText(Path.Combine(folder, "ablation.csv"), result.ToCsv());
        AtomicFile.WriteAllText(Path.Combine(folder, "runs.csv"), RunsCsv(result, runFolders));
        StudyPlots.Ablation(result.BarSeries(), study.Seeds.Count, Path.Combine(folder, "ablation.png"));
        Console.WriteLine();
        Console.Write(result.ToMarkdown());
        Console.WriteLine($"→ {Path.Combine(folder, "ablation.md")}, ablation.csv, runs.csv, ablation.png");
        return 0;
    }

    static string Markdown(AblationStudy study, string studyFile, AblationResult result)
    {
        var sb = new StringBuilder($"# Ablation study: {Path.GetFileName(studyFile)}\n\n");
        var defaults = ConfigLoader.ToYaml(new TrainConfig()).Split('\n');
        var changed = ConfigLoader.ToYaml(study.Baseline).Split('\n').Where((line, i) => line.Length > 0 && line != defaults[i] && !line.StartsWith("seed:"));
        sb.Append($"- baseline ({study.BaselineName}): {string.Join(", ", changed)} (other keys at the `ember train` defaults)\n");
        foreach (var (name, overrides) in study.Components)
            sb.Append($"- {name}: {string.Join(", ", overrides.Select(o => $"{o.Key}: {o.Value}"))}\n");
        sb.Append($"- seeds: {string.Join(", ", study.Seeds)}; metrics on the Fashion-MNIST test set (val_loss: plain cross-entropy)\n\n");
        sb.Append(result.ToMarkdown());
        return sb.ToString();
    }

    static string RunsCsv(AblationResult result, IReadOnlyList<string> runFolders)
    {
        var metrics = StudyTrial.MetricNames;
        var sb = new StringBuilder("variant,seed,run," + string.Join(",", metrics) + "\n");
        for (int i = 0; i < result.Runs.Count; i++)
        {
            var r = result.Runs[i];
            sb.Append(r.Variant.Name).Append(',').Append(r.Seed.ToString(CultureInfo.InvariantCulture)).Append(',').Append(runFolders[i]);
            foreach (var m in metrics) sb.Append(',').Append(r.Metrics[m].ToString("R", CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
