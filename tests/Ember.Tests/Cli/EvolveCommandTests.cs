using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Tuning;

namespace Ember.Tests.Cli;

/// <summary>`ember evolve`: options, the search space file, errors, and a tiny evolution on a slice of Fashion-MNIST.</summary>
public class EvolveCommandTests
{
    static string Temp(string name, string text)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("ember-evolve").FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void The_options_fill_the_request()
    {
        var r = EvolveCommand.Parse("--config", "base.yaml", "--space", "space.yaml", "--generations", "12", "--epochs", "2", "--time-budget", "30.5",
            "--seed", "7", "--fitness", "top1:1.0,val_loss:-0.1", "--parent", "weighted", "--project", "out/evolve");
        Assert.EndsWith("base.yaml", r.ConfigFile);
        Assert.EndsWith("space.yaml", r.SpaceFile);
        Assert.Equal(12, r.Generations);
        Assert.Equal(2, r.Epochs);
        Assert.Equal(30.5, r.TimeBudget);
        Assert.Equal(7, r.Seed);
        Assert.Equal("top1:1.0,val_loss:-0.1", r.Fitness);
        Assert.Equal("weighted", r.Parent);
        Assert.Equal("out/evolve", r.Project);
        var defaults = EvolveCommand.Parse("-g", "3");
        Assert.Equal(3, defaults.Generations);
        Assert.Null(defaults.Epochs);
        Assert.Null(defaults.TimeBudget);
        Assert.Equal("runs/evolve", defaults.Project);
        var ex = Assert.Throws<ConfigException>(() => EvolveCommand.Parse("-g", "3", "--parent", "best"));
        Assert.Contains("single", ex.Message);
        Assert.Contains("weighted", ex.Message);
        Assert.Throws<ConfigException>(() => EvolveCommand.Parse("-g", "many"));
    }

    [Fact]
    public void A_space_file_reads_both_forms_and_round_trips()
    {
        var path = Temp("space.yaml", "lr: [1.0, 1.0e-5, 0.1]\nlabel_smoothing: {gain: 0.5, lower: 0, upper: 0.3, start: 0.05}\nbatch_size: [1, 16, 256]\n");
        var (space, starts) = SearchSpaceFile.Load(path);
        Assert.Equal(["lr", "label_smoothing", "batch_size"], space.Names);
        Assert.Equal(new HyperParameter("label_smoothing", 0.5, 0, 0.3), space["label_smoothing"]);
        Assert.Equal(1e-5, space["lr"].Lower);
        Assert.Equal(0.05, starts["label_smoothing"]);
        Assert.False(starts.ContainsKey("lr"));
        var again = SearchSpaceFile.Load(Temp("space.yaml", SearchSpaceFile.ToYaml(space, starts)));
        Assert.Equal(space.ToList(), again.Space.ToList());
        Assert.Equal(starts, again.Starts);

        // the base value, or the start where the base value is 0 (a multiplicative mutation never leaves 0)
        var initial = SearchSpaceFile.Initial(new TrainConfig { Lr = 0.01 }, space, starts);
        Assert.Equal(0.01, initial["lr"]);
        Assert.Equal(0.05, initial["label_smoothing"]);
        Assert.Equal(128, initial["batch_size"]);
        // integer keys are rounded when applied
        var config = SearchSpaceFile.Apply(new TrainConfig(), new Dictionary<string, double> { ["batch_size"] = 37.6, ["lr"] = 0.0123 }, "test");
        Assert.Equal(38, config.BatchSize);
        Assert.Equal(0.0123, config.Lr);
    }

    [Theory]
    [InlineData("weight_decy: [1, 0, 0.01]\n", "unknown key 'weight_decy'; did you mean 'weight_decay'?")]
    [InlineData("model: [1, 0, 1]\n", "'model' is not numeric")]
    [InlineData("lr: [1, 0.1]\n", "'lr' must be [gain, lower, upper]")]
    [InlineData("lr: [1, 0.1, 0.01]\n", "lower limit must be <= upper limit")]
    [InlineData("lr: [1, 0.0001, 0.1, 0.5]\n", "the start of 'lr' (0.5) is outside its limits [0.0001, 0.1]")]
    [InlineData("lr: {gain: 1, lower: 0.0001, uper: 0.1}\n", "unknown field 'uper'")]
    [InlineData("lr: [1, low, 0.1]\n", "the lower of 'lr' must be a finite number, got 'low'")]
    public void A_bad_space_file_names_the_key_and_the_problem(string text, string message)
    {
        var path = Temp("space.yaml", text);
        var ex = Assert.Throws<ConfigException>(() => SearchSpaceFile.Load(path));
        Assert.Contains(message, ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void The_default_space_holds_only_keys_the_base_config_uses()
    {
        Assert.Equal(["lr", "weight_decay", "label_smoothing"], SearchSpaceFile.Default(new TrainConfig()).Space.Names); // adamw, onecycle
        Assert.Equal(["lr", "momentum", "weight_decay", "label_smoothing", "warmup_steps"],
            SearchSpaceFile.Default(new TrainConfig { Optimizer = "sgd", Schedule = "cosine" }).Space.Names);
        var (space, _) = SearchSpaceFile.Default(new TrainConfig { Optimizer = "sgd", Schedule = "cosine" });
        SearchSpaceFile.CheckLimits(new TrainConfig { Optimizer = "sgd", Schedule = "cosine" }, space, "default"); // every limit is a valid config
        Assert.Equal(new HyperParameter("momentum", 0.3, 0.6, 0.98), space["momentum"]);
    }

    [Fact]
    public void Limits_that_make_an_invalid_config_are_refused_before_training()
    {
        var space = new SearchSpace().Add("lr", 1, 0.0, 0.1);
        var ex = Assert.Throws<ConfigException>(() => SearchSpaceFile.CheckLimits(new TrainConfig(), space, "space.yaml"));
        Assert.Contains("space.yaml: the lower limit of 'lr' (0)", ex.Message);
        Assert.Contains("lr must be positive", ex.Message);
    }

    [Fact]
    public void Fitness_with_an_unknown_metric_names_the_closest_one()
    {
        var ex = Assert.Throws<ConfigException>(() => EvolveCommand.ParseFitness("top_1:1.0,val_loss:-0.1"));
        Assert.Contains("unknown metric 'top_1'; did you mean 'top1'?", ex.Message);
        Assert.Contains("top1, top5, val_loss, macro_f1, epochs, time_s", ex.Message);
        var ex2 = Assert.Throws<ConfigException>(() => EvolveCommand.ParseFitness("top1:heavy"));
        Assert.Contains("--fitness 'top1:heavy'", ex2.Message);
        Assert.Equal([("top1", 1.0), ("val_loss", -0.1)], EvolveCommand.ParseFitness("top1:1.0,val_loss:-0.1").Weights);
        // and before anything is created
        var project = Directory.CreateTempSubdirectory("ember-evolve").FullName;
        Assert.Throws<ConfigException>(() => EvolveCommand.Run(new EvolveRequest { Generations = 2, Fitness = "acc", Project = project }));
        Assert.Empty(Directory.GetDirectories(project));
        Assert.Throws<ConfigException>(() => EvolveCommand.Run(new EvolveRequest { Project = project })); // --generations is required
    }

    [Fact]
    public void A_tiny_evolution_writes_its_files_and_resumes()
    {
        var dir = Directory.CreateTempSubdirectory("ember-evolve").FullName;
        var baseFile = Path.Combine(dir, "base.yaml");
        File.WriteAllText(baseFile, "model: mlp\nbatch_size: 64\nlimit: 256\nplain: true\nseed: 3\n");
        var project = Path.Combine(dir, "runs");
        var output = new StringWriter();
        Assert.Equal(0, EvolveCommand.Run(EvolveCommand.Parse("--config", baseFile, "--generations", "2", "--epochs", "1", "--seed", "5", "--project", project), output));
        var run = Path.Combine(project, "exp1");
        var csv = File.ReadAllLines(Path.Combine(run, "evolve.csv"));
        Assert.Equal(3, csv.Length);
        Assert.Equal("generation,fitness,top1,top5,val_loss,macro_f1,epochs,time_s,lr,weight_decay,label_smoothing", csv[0]);
        Assert.StartsWith("0,", csv[1]);
        Assert.StartsWith("1,", csv[2]);
        Assert.True(File.Exists(Path.Combine(run, "trials", "gen1", "exp1", "metrics.csv")));
        Assert.Contains("epoch 1/1: train loss", output.ToString()); // the trials' progress went to the given writer

        // best.yaml is a train config: the base with the best trial's hyper-parameters
        var rows = csv.Skip(1).Select(l => l.Split(',')).ToList();
        var best = rows.OrderByDescending(c => double.Parse(c[1], CultureInfo.InvariantCulture)).First();
        var config = TrainCommand.Resolve(Path.Combine(run, "best.yaml"), new Dictionary<string, string?>());
        Assert.Equal(double.Parse(best[8], CultureInfo.InvariantCulture), config.Lr);
        Assert.Equal(double.Parse(best[10], CultureInfo.InvariantCulture), config.LabelSmoothing);
        Assert.Equal(("mlp", 1, 256, 3L, "runs/train"), (config.Model, config.Epochs, config.Limit, config.Seed, config.Project));
        Assert.Equal(0.05, double.Parse(rows[0][10], CultureInfo.InvariantCulture)); // generation 0 starts label smoothing at its start value
        AssertPng(Path.Combine(run, "evolve.png"));

        // settings of their own cannot be combined with --resume
        var clash = Assert.Throws<ConfigException>(() => EvolveCommand.Run(EvolveCommand.Parse("--resume", run, "--seed", "1")));
        Assert.Contains("--seed cannot be combined with --resume", clash.Message);

        // --resume appends; this trial gets a budget so small that it stops after its first batch and scores what it reached
        Assert.Equal(0, EvolveCommand.Run(EvolveCommand.Parse("--resume", run, "--generations", "3", "--time-budget", "0.001"), new StringWriter()));
        var resumed = File.ReadAllLines(Path.Combine(run, "evolve.csv"));
        Assert.Equal(4, resumed.Length);
        Assert.Equal(csv, resumed[..3]);
        var cut = resumed[3].Split(',');
        Assert.Equal("2", cut[0]);
        Assert.Equal("0", cut[6]); // no epoch completed
        Assert.InRange(double.Parse(cut[2], CultureInfo.InvariantCulture), 0.0, 1.0);
        Assert.False(Directory.Exists(Path.Combine(project, "exp2"))); // no new folder
        Assert.Contains("generations: 3", File.ReadAllText(Path.Combine(run, "args.yaml")));
        Assert.Equal(0, EvolveCommand.Run(EvolveCommand.Parse("--resume", run), new StringWriter())); // already done: nothing runs
        Assert.Equal(4, File.ReadAllLines(Path.Combine(run, "evolve.csv")).Length);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void A_diverging_trial_scores_nan_instead_of_ending_the_study()
    {
        var dir = Directory.CreateTempSubdirectory("ember-evolve").FullName;
        var config = new TrainConfig { Model = "mlp", Optimizer = "sgd", Lr = 1e12, Schedule = "none", Limit = 256, BatchSize = 64, Plain = true };
        var (run, metrics) = StudyTrial.Run(config, Path.Combine(dir, "gen0"), null, new StringWriter());
        Assert.Equal(StudyTrial.MetricNames, metrics.Keys);
        Assert.True(double.IsNaN(metrics["top1"]));
        Assert.True(double.IsNaN(metrics["val_loss"]));
        Assert.Equal(Path.Combine(dir, "gen0", "exp1"), run);
        Directory.Delete(dir, true);
    }

    internal static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), $"missing {path}");
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 10_000, $"{path} is only {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
    }
}
