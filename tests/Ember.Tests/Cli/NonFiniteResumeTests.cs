using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Ember.Cli.Commands;
using Ember.Interop;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>
/// `train --resume`, `detect train --resume` and `forecast train --resume` refuse a last/ whose weights, optimizer moments
/// or EMA weights hold NaN or Inf, unless --allow-non-finite (the same option, words and exit codes in all three).
/// </summary>
public class NonFiniteResumeTests
{
    static string Sha(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    static Dictionary<string, string> Hashes(string run)
        => Directory.GetFiles(run, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(run, f), Sha);

    /// <summary>Puts <paramref name="value"/> into the first floating tensor of last/FILE and records the new hash, as a diverged run would leave it.</summary>
    static string Poison(string run, string file, double value)
    {
        var path = Path.Combine(run, "last", file);
        var tensors = SafeTensors.Load(path);
        var name = tensors.First(kv => kv.Value.DType.IsFloatingPoint() && kv.Value.NumEl > 1).Key;
        using (Torch.NoGrad()) tensors[name].View([-1])[1].FillInPlace(value);
        SafeTensors.Save(path, tensors);
        var json = Path.Combine(run, "last", Checkpoint.JsonFile);
        var node = JsonNode.Parse(File.ReadAllText(json))!;
        node["Files"]![file] = Sha(path);
        File.WriteAllText(json, node.ToJsonString());
        return name;
    }

    [Theory]
    [InlineData(Checkpoint.ModelFile, double.NaN)]
    [InlineData(Checkpoint.OptimizerFile, double.PositiveInfinity)]
    [InlineData(Checkpoint.EmaFile, double.NegativeInfinity)]
    public void Resume_refuses_non_finite_state_unless_allowed(string file, double value)
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        try
        {
            var config = new Ember.Cli.Configuration.TrainConfig { Model = "mlp", Epochs = 1, BatchSize = 64, Limit = 256, Project = project, Plain = true, Ema = 0.9 };
            Assert.Equal(0, TrainJob.Run(config, null, new StringWriter()));
            var run = Path.Combine(project, "exp1");
            var tensor = Poison(run, file, value);
            var before = Hashes(run);

            var errors = new StringWriter();
            CliErrors.Error = errors;
            try
            {
                var code = TrainCommand.Create().Parse(["--resume", run, "--epochs", "2"]).Invoke();
                Assert.Equal(ExitCodes.Checkpoint, code);
                Assert.Contains($"ember: checkpoint: {Path.Combine(run, "last", file)}: tensor '{tensor}' holds 1 non-finite value", errors.ToString());
                Assert.DoesNotContain("   at ", errors.ToString());
                Assert.Equal(before, Hashes(run)); // refused before anything was written

                // without --resume the option is a usage error
                Assert.Equal(ExitCodes.Usage, TrainCommand.Create().Parse(["--allow-non-finite", "--project", project]).Invoke());
                Assert.Contains("--allow-non-finite applies to --resume only", errors.ToString());
            }
            finally { CliErrors.Error = null!; }

            // allowed explicitly, the checkpoint loads (the library call the command makes)
            var model = Ember.Models.ModelZoo.Create("mlp", 10, 1);
            if (file == Checkpoint.ModelFile)
            {
                Assert.Throws<CheckpointException>(() => Checkpoint.Load(Path.Combine(run, "last"), model));
                Checkpoint.Load(Path.Combine(run, "last"), model, allowNonFinite: true);
                Assert.True(double.IsNaN(model.StateDict()[tensor].View([-1])[1].Item()));
            }
        }
        finally { Directory.Delete(project, true); }
    }

    /// <summary>The other two training commands: a one-epoch run, last/ poisoned, then --resume refused, and allowed with the option.</summary>
    [Theory]
    [InlineData("detect", Checkpoint.ModelFile)]
    [InlineData("detect", Checkpoint.OptimizerFile)]
    [InlineData("forecast", Checkpoint.ModelFile)]
    [InlineData("forecast", Checkpoint.OptimizerFile)]
    public void Detect_and_forecast_resume_refuse_non_finite_state_unless_allowed(string command, string file)
    {
        var temp = Directory.CreateTempSubdirectory("ember-nonfinite").FullName;
        try
        {
            var project = Path.Combine(temp, "runs");
            string[] train = command == "detect"
                ? ["detect", "train", "--data", DetectCommandTests.OneObjectSet(Path.Combine(temp, "set"), train: 8, val: 4).Yaml, "--img", "64", "--epochs", "1",
                   "--batch-size", "4", "--augment", "false", "--optimizer", "adam", "--ema", "0", "--warmup-epochs", "0", "--plot-images", "0", "--plain", "--project", project]
                : ["forecast", "train", "--data", ForecastFaultTests.Series(temp), "--epochs", "1", "--hidden", "8", "--lookback", "24", "--horizon", "3",
                   "--val", "12", "--test", "12", "--plain", "--project", project];
            var (code, stdout, stderr) = CliFailureTests.Invoke(train);
            Assert.True(code == 0, stderr + stdout);
            var run = Path.Combine(project, "exp1");
            var tensor = Poison(run, file, double.NaN);
            var before = Hashes(run);

            (code, _, stderr) = CliFailureTests.Invoke([command, "train", "--resume", run, "--epochs", "2"]);
            Assert.True(code == ExitCodes.Checkpoint, stderr);
            Assert.Contains($"ember: checkpoint: {Path.Combine(run, "last", file)}: tensor '{tensor}' holds 1 non-finite value", stderr);
            Assert.Contains("--allow-non-finite", stderr); // the option that would load it, by its name
            Assert.DoesNotContain("   at ", stderr);
            Assert.Equal(before, Hashes(run)); // refused before anything was written

            // without --resume the option is a usage error, as for train
            (code, _, stderr) = CliFailureTests.Invoke([.. train, "--allow-non-finite"]);
            Assert.True(code == ExitCodes.Usage, stderr);
            Assert.Contains("--allow-non-finite applies to --resume only", stderr);
            Assert.False(Directory.Exists(Path.Combine(project, "exp2")));

            // allowed, the checkpoint loads and the run goes on from it (a NaN model then diverges or trains on, its choice)
            (code, stdout, stderr) = CliFailureTests.Invoke([command, "train", "--resume", run, "--epochs", "2", "--allow-non-finite"]);
            Assert.True(code != ExitCodes.Checkpoint && code != ExitCodes.Usage, $"exit {code}: {stderr}");
            Assert.Contains($"resuming {run} at epoch 2", stdout);
            Assert.DoesNotContain("   at ", stderr);
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void Resume_refuses_optimizer_state_for_an_index_no_parameter_has()
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        try
        {
            var config = new Ember.Cli.Configuration.TrainConfig { Model = "mlp", Epochs = 1, BatchSize = 64, Limit = 256, Project = project, Plain = true, Optimizer = "adamw" };
            Assert.Equal(0, TrainJob.Run(config, null, new StringWriter()));
            var run = Path.Combine(project, "exp1");
            var path = Path.Combine(run, "last", Checkpoint.OptimizerFile);
            var tensors = SafeTensors.Load(path);
            var renamed = new Dictionary<string, Tensor>();
            foreach (var (k, t) in tensors) renamed[k.StartsWith("state.0.", StringComparison.Ordinal) ? "state.99." + k["state.0.".Length..] : k] = t;
            SafeTensors.Save(path, renamed);
            var json = Path.Combine(run, "last", Checkpoint.JsonFile);
            var node = JsonNode.Parse(File.ReadAllText(json))!;
            node["Files"]![Checkpoint.OptimizerFile] = Sha(path);
            File.WriteAllText(json, node.ToJsonString());
            var before = Hashes(run);

            var errors = new StringWriter();
            CliErrors.Error = errors;
            try { Assert.Equal(ExitCodes.Checkpoint, TrainCommand.Create().Parse(["--resume", run, "--epochs", "2"]).Invoke()); }
            finally { CliErrors.Error = null!; }
            Assert.Contains($"ember: checkpoint: {path} does not fit the optimizer AdamW: AdamW.LoadStateDict: 'state.99.exp_avg' is state for parameter index 99, which no parameter group lists", errors.ToString());
            Assert.Equal(before, Hashes(run));
        }
        finally { Directory.Delete(project, true); }
    }
}
