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

    /// <summary>
    /// Runs <paramref name="cases"/> (given a scratch folder, it yields each case's name and command line) and fails
    /// with every case that ended otherwise than in one `ember:` line and an exit code of 2 to 5.
    /// </summary>
    static void Walk(string what, Func<string, IEnumerable<(string Name, string[] Args)>> cases)
    {
        var root = Directory.CreateTempSubdirectory("ember-fuzz-" + what).FullName;
        var failures = new List<string>();
        try
        {
            foreach (var (name, args) in cases(root))
            {
                var (code, stdout, stderr) = CliFailureTests.Invoke(args);
                if (!Expected.Contains(code) || !stderr.StartsWith("ember: ", StringComparison.Ordinal) || (stderr + stdout).Contains("   at ", StringComparison.Ordinal))
                    failures.Add($"{name}: exit {code}: {stderr.Trim()}");
            }
        }
        finally { Directory.Delete(root, true); }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    static string Yaml(string key, string value) => $"{key}: {value}\n";

    // every key of a flat config, each value in turn, as a one-key config file
    static IEnumerable<(string, string[])> ConfigFiles(string root, IEnumerable<string> keys, Func<string, string, string[]> command)
    {
        var file = Path.Combine(root, "config.yaml");
        foreach (var key in keys)
            foreach (var value in Values)
            {
                File.WriteAllText(file, Yaml(key, value));
                yield return ($"{key}: {value}", command(file, key));
            }
    }

    [Fact]
    public void Detect_config_keys_with_bad_values_are_a_one_line_error()
        => Walk("detect", root => ConfigFiles(root, DetectConfig.Keys.Keys, (file, key) =>
            // a config that passes stops at the missing data set (exit 3)
            ["detect", "train", "--config", file, .. key == "data" ? Array.Empty<string>() : ["--data", Path.Combine(root, "missing", "data.yaml")], "--project", Path.Combine(root, "runs")]));

    [Fact]
    public void Train_config_keys_with_bad_values_are_a_one_line_error()
        // the command line's --project wins over the file's: a config that passes stops there (exit 5)
        => Walk("train", root => ConfigFiles(root, ConfigLoader.Keys.Keys, (file, _) => ["train", "--config", file, "--project", "/proc/ember-fuzz"]));

    [Fact]
    public void Forecast_args_yaml_keys_with_bad_values_are_a_one_line_error()
        => Walk("forecast", ForecastCases);

    static IEnumerable<(string, string[])> ForecastCases(string root)
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
                yield return ($"forecast train --resume, args.yaml {key}: {value}", ["forecast", "train", "--resume", run]);
                yield return ($"forecast eval, args.yaml {key}: {value}", ["forecast", "eval", run]);
            }
    }

    [Fact]
    public void Evolve_space_and_ablation_study_entries_with_bad_values_are_a_one_line_error()
        => Walk("study", StudyCases);

    // a file that passes stops at the project folder, which cannot be made (exit 5)
    static IEnumerable<(string, string[])> StudyCases(string root)
    {
        var file = Path.Combine(root, "file.yaml");
        foreach (var value in Values)
        {
            foreach (var entry in new[] { $"lr: {value}", $"lr: [{value}, 1e-5, 0.1]", $"lr: [1, {value}, 0.1]", $"lr: [1, 1e-5, {value}]", $"lr: [1, 1e-5, 0.1, {value}]",
                $"lr: {{gain: {value}, lower: 1e-5, upper: 0.1}}", $"{value}: [1, 1e-5, 0.1]" })
            {
                File.WriteAllText(file, entry + "\n");
                yield return ($"evolve space {entry}", ["evolve", "-g", "1", "--space", file, "--project", "/proc/ember-fuzz"]);
            }
            foreach (var key in AblationStudy.StudyKeys)
            {
                var study = new Dictionary<string, string> { ["baseline"] = "{model: mlp, epochs: 1}", ["components"] = "{ema: {ema: 0.9}}", ["seeds"] = "[0]" };
                study[key] = value;
                File.WriteAllText(file, string.Concat(study.Select(kv => Yaml(kv.Key, kv.Value))));
                yield return ($"ablate study {key}: {value}", ["ablate", file, "--project", "/proc/ember-fuzz"]);
            }
            File.WriteAllText(file, $"baseline: {{model: mlp, epochs: {value}}}\ncomponents: {{ema: {{ema: {value}}}}}\nseeds: [0]\n");
            yield return ($"ablate study component value {value}", ["ablate", file, "--project", "/proc/ember-fuzz"]);
        }
    }
}
