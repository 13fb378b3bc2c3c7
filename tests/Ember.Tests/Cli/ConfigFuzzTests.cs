using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Cli.Commands.Forecast;
using Ember.Cli.Configuration;

namespace Ember.Tests.Cli;

/// <summary>
/// Every key of the detect and forecast configs, of an evolve search space and of an ablation study, given a value of
/// the wrong type, out of range, empty or null: a usage, data, checkpoint or file-system error with one `ember: …` line
/// (exit 2 to 5), never an unexpected error (exit 1) or a stack trace. Nothing trains: the data set named is missing,
/// and the studies' project folder cannot be made, so a value that passes fails right after.
/// </summary>
public class ConfigFuzzTests
{
    static readonly string[] Values = ["~", "''", "abc", "-1", "0", "1e400", "NaN", "-.inf", "[1, 2]", "{a: 1}", "99999999999", "2147483647", "true", "'1,5'"];

    static readonly int[] Expected = [ExitCodes.Usage, ExitCodes.Data, ExitCodes.Checkpoint, ExitCodes.FileSystem];

    static void Walk(string name, string[] args, List<string> failures)
    {
        var (code, stdout, stderr) = CliFailureTests.Invoke(args);
        if (!Expected.Contains(code) || !stderr.StartsWith("ember: ", StringComparison.Ordinal) || (stderr + stdout).Contains("   at ", StringComparison.Ordinal))
            failures.Add($"{name}: exit {code}: {stderr.Trim()}");
    }

    static string Yaml(string key, string value) => $"{key}: {value}\n";

    [Fact]
    public void Detect_config_keys_with_bad_values_are_a_one_line_error()
    {
        var root = Directory.CreateTempSubdirectory("ember-fuzz-detect").FullName;
        var failures = new List<string>();
        try
        {
            foreach (var key in DetectConfig.Keys.Keys)
                foreach (var value in Values)
                {
                    var file = Path.Combine(root, "config.yaml");
                    File.WriteAllText(file, Yaml(key, value));
                    string[] data = key == "data" ? [] : ["--data", Path.Combine(root, "missing", "data.yaml")];
                    Walk($"detect {key}: {value}", ["detect", "train", "--config", file, .. data, "--project", Path.Combine(root, "runs")], failures);
                }
        }
        finally { Directory.Delete(root, true); }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Train_config_keys_with_bad_values_are_a_one_line_error()
    {
        var root = Directory.CreateTempSubdirectory("ember-fuzz-train").FullName;
        var failures = new List<string>();
        try
        {
            foreach (var key in ConfigLoader.Keys.Keys)
                foreach (var value in Values)
                {
                    var file = Path.Combine(root, "config.yaml");
                    File.WriteAllText(file, Yaml(key, value));
                    // the command line's --project wins over the file's: a config that passes stops there (exit 5)
                    Walk($"train {key}: {value}", ["train", "--config", file, "--project", "/proc/ember-fuzz"], failures);
                }
        }
        finally { Directory.Delete(root, true); }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Forecast_args_yaml_keys_with_bad_values_are_a_one_line_error()
    {
        var root = Directory.CreateTempSubdirectory("ember-fuzz-forecast").FullName;
        var failures = new List<string>();
        try
        {
            var run = Path.Combine(root, "exp1");
            Directory.CreateDirectory(Path.Combine(run, "last"));
            File.WriteAllText(Path.Combine(run, "last", "checkpoint.json"), "{}");
            var defaults = new ForecastConfig { Data = Path.Combine(root, "missing.csv") }.ToYaml().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            foreach (var key in ForecastConfig.Keys.Keys)
                foreach (var value in Values)
                {
                    // the run's whole args.yaml with one value changed, so that the folder is still told to be a forecast run
                    File.WriteAllLines(Path.Combine(run, "args.yaml"), defaults.Select(line => line.StartsWith(key + ":", StringComparison.Ordinal) ? Yaml(key, value).TrimEnd() : line));
                    Walk($"forecast args.yaml {key}: {value}", ["forecast", "train", "--resume", run], failures);
                    Walk($"forecast eval args.yaml {key}: {value}", ["forecast", "eval", run], failures);
                }
        }
        finally { Directory.Delete(root, true); }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Evolve_space_and_ablation_study_entries_with_bad_values_are_a_one_line_error()
    {
        var root = Directory.CreateTempSubdirectory("ember-fuzz-study").FullName;
        var failures = new List<string>();
        try
        {
            var file = Path.Combine(root, "file.yaml");
            foreach (var value in Values)
            {
                foreach (var entry in new[] { $"lr: {value}", $"lr: [{value}, 1e-5, 0.1]", $"lr: [1, {value}, 0.1]", $"lr: [1, 1e-5, {value}]", $"lr: [1, 1e-5, 0.1, {value}]",
                    $"lr: {{gain: {value}, lower: 1e-5, upper: 0.1}}", $"{value}: [1, 1e-5, 0.1]" })
                {
                    File.WriteAllText(file, entry + "\n");
                    Walk($"evolve space {entry}", ["evolve", "-g", "1", "--space", file, "--project", "/proc/ember-fuzz"], failures);
                }
                foreach (var key in AblationStudy.StudyKeys)
                {
                    var study = new Dictionary<string, string>
                    {
                        ["baseline"] = "{model: mlp, epochs: 1}", ["components"] = "{ema: {ema: 0.9}}", ["seeds"] = "[0]",
                    };
                    study[key] = value;
                    File.WriteAllText(file, string.Concat(study.Select(kv => Yaml(kv.Key, kv.Value))));
                    Walk($"ablate study {key}: {value}", ["ablate", file, "--project", "/proc/ember-fuzz"], failures);
                }
                File.WriteAllText(file, $"baseline: {{model: mlp, epochs: {value}}}\ncomponents: {{ema: {{ema: {value}}}}}\nseeds: [0]\n");
                Walk($"ablate study component value {value}", ["ablate", file, "--project", "/proc/ember-fuzz"], failures);
            }
        }
        finally { Directory.Delete(root, true); }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
