using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Tuning;

namespace Ember.Tests.Cli;

/// <summary>`ember ablate`: the study file, its errors, and a tiny study on a slice of Fashion-MNIST.</summary>
public class AblateCommandTests
{
    static string Temp(string name, string text, string? dir = null)
    {
        var path = Path.Combine(dir ?? Directory.CreateTempSubdirectory("ember-ablate").FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    const string Study = """
        baseline:
          model: mlp
          epochs: 2
          lr: 0.01
        components:
          label_smoothing: {label_smoothing: 0.1}
          ema: {ema: 0.999, epochs: 3}
        design: [default, leave_one_out]
        seeds: [4, 5]
        metrics: [top1, top5]
        baseline_name: base
        time_budget: 60
        """;

    [Fact]
    public void A_study_file_gives_the_baseline_components_and_settings()
    {
        var study = AblationStudy.Load(Temp("study.yaml", Study));
        Assert.Equal(("mlp", 2, 0.01), (study.Baseline.Model, study.Baseline.Epochs, study.Baseline.Lr));
        Assert.Equal(["label_smoothing", "ema"], study.Components.Select(c => c.Name));
        Assert.Equal(AblationDesign.Default | AblationDesign.LeaveOneOut, study.Design);
        Assert.Equal([4L, 5L], study.Seeds);
        Assert.Equal(["top1", "top5"], study.Metrics);
        Assert.Equal("base", study.BaselineName);
        Assert.Equal(60, study.TimeBudget);
        var both = study.Configure(study.Configure(study.Baseline, "label_smoothing"), "ema");
        Assert.Equal((0.1, 0.999, 3, 0.01), (both.LabelSmoothing, both.Ema, both.Epochs, both.Lr));
        Assert.Equal(0.0, study.Baseline.LabelSmoothing); // the baseline is not changed

        // defaults, a baseline given as a path relative to the study, and a single seed
        var dir = Directory.CreateTempSubdirectory("ember-ablate").FullName;
        Temp("base.yaml", "model: mlp\nepochs: 1\n", dir);
        var small = AblationStudy.Load(Temp("study.yaml", "baseline: base.yaml\ncomponents:\n  ema: {ema: 0.99}\nseeds: 7\n", dir));
        Assert.Equal(("mlp", 1), (small.Baseline.Model, small.Baseline.Epochs));
        Assert.Equal([7L], small.Seeds);
        Assert.Equal(AblationDesign.Default, small.Design);
        Assert.Equal(["top1", "val_loss"], small.Metrics);
        Assert.Equal("A", small.BaselineName);
        Assert.Null(small.TimeBudget);
    }

    [Theory]
    [InlineData("baseline: {model: mlp}\ncomponent:\n  ema: {ema: 0.9}\n", "unknown key 'component'; did you mean 'components'?")]
    [InlineData("baseline: {model: mlp}\ncomponents:\n  ema: {emma: 0.9}\n", "component 'ema': unknown key 'emma'; did you mean 'ema'?")]
    [InlineData("baseline: {model: mlp, epoch: 2}\ncomponents:\n  ema: {ema: 0.9}\n", "baseline: unknown key 'epoch'; did you mean 'epochs'?")]
    [InlineData("baseline: {model: mlp}\ncomponents:\n  ema: {ema: 0.9}\nmetrics: [top1, val_los]\n", "unknown metric 'val_los'; did you mean 'val_loss'?")]
    [InlineData("baseline: {model: mlp}\ncomponents:\n  ema: {ema: 0.9}\ndesign: leave_one\n", "unknown design 'leave_one'; did you mean 'leave_one_out'?")]
    [InlineData("baseline: {model: mlp}\ncomponents:\n  ls: {label_smoothing: 1.5}\n", "variant A+ls: label_smoothing must be in [0, 1), got 1.5")]
    [InlineData("baseline: {model: mlp}\ncomponents:\n  ema: {ema: high}\n", "component 'ema': key 'ema' expects a finite number, got 'high'")]
    [InlineData("baseline: {model: mlp}\ncomponents:\n  s: {seed: 3}\n", "'seed' cannot be a component")]
    [InlineData("baseline: {model: mlp}\ncomponents:\n  ema: {ema: 0.9}\nseeds: [1, 1]\n", "'seeds' must be distinct")]
    [InlineData("baseline: {model: mlp}\n", "'components' is required")]
    public void A_bad_study_file_names_the_problem_and_the_closest_valid_key(string text, string message)
    {
        var path = Temp("study.yaml", text);
        var ex = Assert.Throws<ConfigException>(() => AblationStudy.Load(path));
        Assert.Contains(message, ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void The_command_line_takes_the_study_file_and_a_project()
    {
        var command = AblateCommand.Create();
        Assert.Empty(command.Parse(["study.yaml", "--project", "out"]).Errors);
        Assert.Empty(command.Parse(["--resume", "runs/ablate/exp1"]).Errors);
        Assert.Empty(command.Parse(["study.yaml", "--resume", "runs/ablate/exp1"]).Errors); // checked against the stored study
        Assert.NotEmpty(command.Parse([]).Errors); // the study file (or --resume) is required
        Assert.Contains(command.Parse(["--resume", "x", "--project", "y"]).Errors, e => e.Message.Contains("--project cannot be combined with --resume"));
        Assert.NotEmpty(command.Parse(["a.yaml", "b.yaml"]).Errors);
    }

    const string Stored = "baseline: {model: mlp, epochs: 1, limit: 256}\ncomponents:\n  ema: {ema: 0.9}\nseeds: [3]\n";

    [Fact]
    public void Resume_refuses_a_missing_folder_a_folder_that_is_no_ablate_study_and_a_runs_file_of_another_study()
    {
        var dir = Directory.CreateTempSubdirectory("ember-ablate-resume").FullName;
        try
        {
            var (code, _, stderr) = CliFailureTests.Invoke(["ablate", "--resume", Path.Combine(dir, "none")]);
            Assert.True(code == ExitCodes.Data, stderr);
            Assert.Contains("resume folder not found", stderr);

            // an evolve folder is named as one, with the command that resumes it
            var evolve = Directory.CreateDirectory(Path.Combine(dir, "evolve", "exp1")).FullName;
            Temp("base.yaml", "model: mlp\n", evolve);
            Temp("args.yaml", "generations: 2\n", evolve);
            (code, _, stderr) = CliFailureTests.Invoke(["ablate", "--resume", evolve]);
            Assert.True(code == ExitCodes.Data, stderr);
            Assert.Contains($"{evolve} is an evolve folder (`ember evolve`), not an ablation study folder; resume it with `ember evolve --resume {evolve}`", stderr);

            var folder = Directory.CreateDirectory(Path.Combine(dir, "ablate", "exp1")).FullName;
            Temp("study.yaml", Stored, folder);
            Temp("runs.csv", "variant,seed,run,top1,top5,val_loss,macro_f1,epochs,time_s\nA+ema,3,trials/A+ema-seed3/exp1,0.5,0.9,1.2,0.4,1,2.5\n", folder);
            (code, _, stderr) = CliFailureTests.Invoke(["ablate", "--resume", folder]);
            Assert.True(code == ExitCodes.Data, stderr);
            Assert.Contains("runs.csv:2: records A+ema with seed 3, but the study's run 1 is A with seed 3", stderr);
            Assert.DoesNotContain("   at ", stderr);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Resume_with_a_study_file_refuses_one_that_differs_naming_each_key_with_the_stored_and_the_given_value()
    {
        var dir = Directory.CreateTempSubdirectory("ember-ablate-resume").FullName;
        try
        {
            var folder = Directory.CreateDirectory(Path.Combine(dir, "exp1")).FullName;
            Temp("study.yaml", Stored, folder);
            var stored = Path.Combine(folder, "study.yaml");
            var given = Temp("other.yaml", "baseline: {model: mlp, epochs: 2, limit: 256}\ncomponents:\n  ema: {ema: 0.99}\nseeds: [3, 4]\n", dir);
            var (code, stdout, stderr) = CliFailureTests.Invoke(["ablate", given, "--resume", folder]);
            Assert.True(code == ExitCodes.Usage, stderr + stdout);
            Assert.Contains($"baseline.epochs is 1 in {stored}, 2 in {given}", stderr);
            Assert.Contains($"components.ema is {{ema: 0.9}} in {stored}, {{ema: 0.99}} in {given}", stderr);
            Assert.Contains($"seeds is [3] in {stored}, [3, 4] in {given}", stderr);
            Assert.Contains("resume without the study file to finish the stored study", stderr);
            Assert.DoesNotContain("baseline.seed", stderr); // the study sets the seed
            Assert.Equal([stored], Directory.GetFileSystemEntries(folder)); // nothing ran

            // the same study, written otherwise (another order, a comment), is the same study
            var same = Temp("same.yaml", "# the same\nseeds: [3]\ncomponents:\n  ema: {ema: 0.90}\nbaseline: {limit: 256, epochs: 1, model: mlp}\n", dir);
            Assert.Empty(AblationStudy.Load(stored).Differences(AblationStudy.Load(same)));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void The_stored_study_loads_on_its_own_with_a_baseline_file_written_inline()
    {
        var dir = Directory.CreateTempSubdirectory("ember-ablate-stored").FullName;
        try
        {
            Temp("base.yaml", "model: mlp\nepochs: 2\nlr: 0.003\n", dir);
            var path = Temp("study.yaml", "# a comment\nbaseline: base.yaml\ncomponents:\n  ema: {ema: 0.9}\nseeds: [1, 2]\ndecimals: 3\n", dir);
            var study = AblationStudy.Load(path);
            var elsewhere = Directory.CreateDirectory(Path.Combine(dir, "runs", "exp1")).FullName;
            var copy = Temp("study.yaml", study.SelfContainedText(path), elsewhere);
            File.Delete(Path.Combine(dir, "base.yaml")); // the copy needs it no more
            var loaded = AblationStudy.Load(copy);
            Assert.Empty(study.Differences(loaded));
            Assert.Equal((2, 0.003), (loaded.Baseline.Epochs, loaded.Baseline.Lr));

            // an inline baseline: the file as written, comments and all
            var inline = Temp("inline.yaml", "# kept\n" + Stored, dir);
            Assert.Equal(File.ReadAllText(inline), AblationStudy.Load(inline).SelfContainedText(inline));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_tiny_study_writes_the_table_the_csv_and_the_plot()
    {
        var dir = Directory.CreateTempSubdirectory("ember-ablate").FullName;
        var path = Temp("study.yaml", """
            baseline: {model: mlp, epochs: 1, batch_size: 64, limit: 256, plain: true}
            components:
              label_smoothing: {label_smoothing: 0.1}
              ema: {ema: 0.9}
            seeds: [3]
            metrics: [top1, val_loss]
            """, dir);
        var project = Path.Combine(dir, "runs");
        var output = new StringWriter();
        Assert.Equal(0, AblateCommand.Run(path, project, output));
        var run = Path.Combine(project, "exp1");

        var md = File.ReadAllLines(Path.Combine(run, "ablation.md"));
        var rows = md.Where(l => l.StartsWith("| A")).ToArray();
        Assert.Equal(4, rows.Length);
        Assert.StartsWith("| A (baseline) |", rows[0]);
        Assert.StartsWith("| A+label_smoothing |", rows[1]);
        Assert.StartsWith("| A+ema |", rows[2]);
        Assert.StartsWith("| A+label_smoothing+ema (final) |", rows[3]);
        Assert.Contains("| Variant | top1 | Δ top1 | val_loss | Δ val_loss |", md);
        Assert.Contains(md, l => l.StartsWith("- label_smoothing: label_smoothing: 0.1"));

        var csv = File.ReadAllLines(Path.Combine(run, "ablation.csv"));
        Assert.Equal("variant,components,seeds,top1_mean,top1_std,top1_delta,val_loss_mean,val_loss_std,val_loss_delta", csv[0]);
        Assert.Equal(["A", "A+label_smoothing", "A+ema", "A+label_smoothing+ema"], csv.Skip(1).Select(l => l.Split(',')[0]));
        Assert.Equal("NaN", csv[1].Split(',')[4]); // one seed: no std
        Assert.Equal("0", csv[1].Split(',')[5]);

        // every run, with the seed and its folder; the components reached the training (smoothing changes the result)
        var runs = File.ReadAllLines(Path.Combine(run, "runs.csv"));
        Assert.Equal(5, runs.Length);
        Assert.StartsWith("A+ema,3,trials/A+ema-seed3/exp1,", runs[3]);
        Assert.True(File.Exists(Path.Combine(run, "trials", "A+ema-seed3", "exp1", "metrics.csv")));
        Assert.Contains("ema: 0.9", File.ReadAllText(Path.Combine(run, "trials", "A+ema-seed3", "exp1", "args.yaml")));
        Assert.Contains("seed: 3", File.ReadAllText(Path.Combine(run, "trials", "A-seed3", "exp1", "args.yaml")));
        Assert.NotEqual(runs[1].Split(',')[5], runs[2].Split(',')[5]); // val_loss of A vs A+label_smoothing
        Assert.True(File.Exists(Path.Combine(run, "study.yaml")));
        Assert.False(IncompleteMarker.IsMarked(run), "the marker of a finished study");
        EvolveCommandTests.AssertPng(Path.Combine(run, "ablation.png"));
        Directory.Delete(dir, true);
    }
}
