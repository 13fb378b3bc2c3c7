using Ember.Cli.Commands;
using Ember.Cli.Configuration;
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
    [InlineData("baseline: {model: mlp}\ncomponents:\n  ema: {ema: high}\n", "component 'ema': key 'ema' expects a number, got 'high'")]
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
        Assert.NotEmpty(command.Parse([]).Errors); // the study file is required
        Assert.NotEmpty(command.Parse(["a.yaml", "b.yaml"]).Errors);
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
        EvolveCommandTests.AssertPng(Path.Combine(run, "ablation.png"));
        Directory.Delete(dir, true);
    }
}
