using System.CommandLine;
using Ember.Cli.Configuration;

namespace Ember.Cli.Commands;

/// <summary>`ember train`: every <see cref="TrainConfig"/> key is an option (--batch-size for batch_size); --config reads a YAML/JSON file first.</summary>
public static class TrainCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("train", "Train a model (default: the CNN on the embedded Fashion-MNIST) into runs/train/expN");
        var config = new Option<FileInfo?>("--config", "-c") { Description = "YAML or JSON file with the same keys as the options (snake_case)" };
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "continue an interrupted run from its folder, e.g. runs/train/exp3 (with --epochs N to extend it; other options must match its args.yaml)" };
        command.Options.Add(config);
        command.Options.Add(resume);
        var allowNonFinite = EvalCommand.AllowNonFiniteOption();
        allowNonFinite.Description = ResumeAllowNonFiniteDescription;
        command.Options.Add(allowNonFinite);
        var keyOptions = new ConfigKeyOptions(command, ConfigLoader.Keys, (key, _) => Describe(key));
        command.SetAction(parse =>
        {
            return CliErrors.Run(() =>
            {
                var overrides = keyOptions.Values(parse);
                var file = parse.GetValue(config);
                var resumeFolder = parse.GetValue(resume);
                if (resumeFolder is not null)
                {
                    // the run's args.yaml defines it; the options may only extend it (see TrainJob.ResumableKeys)
                    if (file is not null) throw new ConfigException($"--config cannot be combined with --resume: {Path.Combine(resumeFolder.FullName, "args.yaml")} defines the run");
                    if (Launcher(parse, () => TrainJob.Processes(new TrainConfig(), resumeFolder.FullName, overrides)) is int resumedCode) return resumedCode;
                    return TrainJob.Run(new TrainConfig(), resumeFolder.FullName, resumeOverrides: overrides, allowNonFinite: parse.GetValue(allowNonFinite));
                }
                if (parse.GetValue(allowNonFinite)) throw new ConfigException(AllowNonFiniteWithoutResume);
                var resolved = Resolve(file?.FullName, overrides);
                if (Launcher(parse, () => TrainJob.Processes(resolved, null, overrides)) is int code) return code;
                return TrainJob.Run(resolved, null);
            });
        });
        return command;
    }

    /// <summary>What --allow-non-finite does for the three training commands (`train`, `detect train`, `forecast train`).</summary>
    internal const string ResumeAllowNonFiniteDescription = "with --resume: continue even if last/ holds NaN or Inf weights or optimizer moments (a diverged run)";

    /// <summary>The usage error of --allow-non-finite without --resume, the same for the three training commands.</summary>
    internal const string AllowNonFiniteWithoutResume = "--allow-non-finite applies to --resume only: a new run starts from finite weights";

    /// <summary>
    /// With more than one process and no MPI launcher around this one, starts mpirun with the same command line and
    /// returns its exit code; null when this process trains itself (one process, or already a rank under mpirun).
    /// </summary>
    static int? Launcher(ParseResult parse, Func<int> processes)
        => ProcessesToStart(Distributed.LaunchEnvironment.Read(), processes) is int n ? DistributedLaunch.Run(n, [.. parse.Tokens.Select(t => t.Value)]) : null;

    /// <summary>
    /// The processes to start under mpirun (more than one), or null when this process trains itself. A rank that mpirun
    /// started (<paramref name="launcher"/>) trains as one of its job and does not ask <paramref name="processes"/>: the
    /// launcher asked, and for a --resume the question checks the run folder's lock, which rank 0 holds while it trains
    /// (the ranks' checks at start found each other holding it); <see cref="TrainJob"/> checks the folder on each rank
    /// (rank 0 its lock too).
    /// </summary>
    internal static int? ProcessesToStart(Distributed.LaunchEnvironment? launcher, Func<int> processes)
    {
        if (launcher is not null) return null;
        int n = processes();
        return n > 1 ? n : null;
    }

    /// <summary>Config file first, then the options on top, then validation: the same rules for both sources.</summary>
    public static TrainConfig Resolve(string? configFile, IReadOnlyDictionary<string, string?> overrides)
    {
        var config = configFile is null ? new TrainConfig() : ConfigLoader.Load(configFile);
        return ConfigValidator.Validate(ConfigLoader.Apply(config, overrides, "command line"));
    }

    static string Describe(string key)
    {
        var choices = ConfigValidator.Choices.TryGetValue(key, out var c) ? $" ({string.Join("|", c)})" : "";
        return $"{key.Replace('_', ' ')}{choices}; default {ConfigLoader.DefaultText(key)}";
    }
}
