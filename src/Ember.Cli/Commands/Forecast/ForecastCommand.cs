using System.CommandLine;
using System.Globalization;
using Ember.Cli.Configuration;

namespace Ember.Cli.Commands.Forecast;

/// <summary>
/// `ember forecast train | eval | predict`: an LSTM or GRU forecaster of a univariate CSV series, scored on the held-out
/// test period beside the naive and seasonal-naive baselines (MAPE, sMAPE, MASE). Runs go to runs/forecast/expN with
/// the same files as `ember train` (args.yaml, metrics.csv, results.png, best/ and last/, summary.md) plus
/// test_metrics.csv and forecast.png.
/// </summary>
public static class ForecastCommand
{
    /// <summary>Builds the command and its three subcommands.</summary>
    public static Command Create()
    {
        var command = new Command("forecast", "Forecast a time series (default: monthly Mauna Loa CO2) with an LSTM or GRU, judged against naive and seasonal-naive baselines");
        command.Subcommands.Add(CreateTrain());
        command.Subcommands.Add(CreateEval());
        command.Subcommands.Add(CreatePredict());
        return command;
    }

    static Command CreateTrain()
    {
        var command = new Command("train", "Train a forecaster into runs/forecast/expN and score it on the test period");
        var defaults = new ForecastConfig();
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "continue an interrupted run from its folder, e.g. runs/forecast/exp1 (with --epochs N to extend it)" };
        command.Options.Add(resume);
        var allowNonFinite = EvalCommand.AllowNonFiniteOption();
        allowNonFinite.Description = TrainCommand.ResumeAllowNonFiniteDescription;
        command.Options.Add(allowNonFinite);
        var options = new ConfigKeyOptions(command, ForecastConfig.Keys, (key, property) =>
            $"{key.Replace('_', ' ')}{(ForecastConfig.Choices.TryGetValue(key, out var c) ? $" ({string.Join("|", c)})" : "")}; default {ConfigKeyOptions.DefaultText(property.GetValue(defaults))}");
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var values = options.Values(parse);
            if (parse.GetValue(resume) is { } folder)
                return ForecastJob.Run(new ForecastConfig(), folder.FullName, resumeOverrides: values, allowNonFinite: parse.GetValue(allowNonFinite)).ExitCode;
            if (parse.GetValue(allowNonFinite)) throw new ConfigException(TrainCommand.AllowNonFiniteWithoutResume);
            return ForecastJob.Run(ForecastConfig.Apply(new ForecastConfig(), values, "command line"), null).ExitCode;
        }));
        return command;
    }

    static Command CreateEval() => RunCommand("eval",
        "Score a forecast run's best weights on its test period beside the baselines (rewrites test_metrics.csv and forecast.png)",
        ["test_metrics.csv", "forecast.png", "summary.md"],
        (folder, config, data, model) => ForecastJob.Report(folder, config, data, ForecastJob.Evaluate(model, data, config), Console.Out));

    static Command CreatePredict() => RunCommand("predict",
        "Forecast the horizon after the end of the run's series; prints it and writes predictions.csv into the run folder",
        ["predictions.csv"],
        (folder, config, data, model) =>
        {
            var (times, values) = ForecastJob.PredictNext(model, data, config);
            var lines = new List<string> { $"{data.Csv.TimeColumn},{data.Csv.ValueColumn}" };
            for (int i = 0; i < times.Length; i++) lines.Add(string.Create(CultureInfo.InvariantCulture, $"{times[i]},{values[i]:F4}"));
            foreach (var line in lines) Console.WriteLine(line);
            Interop.AtomicFile.WriteAllText(Path.Combine(folder, "predictions.csv"), string.Join("\n", lines) + "\n");
        });

    // A subcommand that opens a finished run (its config, data and best weights) and acts on it, writing `files` (in order)
    // into the run folder.
    static Command RunCommand(string name, string description, string[] files,
        Action<string, ForecastConfig, ForecastJob.Prepared, Models.RecurrentForecaster> act)
    {
        var command = new Command(name, description);
        var run = new Argument<DirectoryInfo>("run") { Description = "run folder, e.g. runs/forecast/exp1" };
        var allowNonFinite = EvalCommand.AllowNonFiniteOption();
        command.Arguments.Add(run);
        command.Options.Add(allowNonFinite);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var folder = parse.GetValue(run)!.FullName;
            // Ctrl-C or SIGTERM: a file under way is finished before the exit; the message says which were
            var before = files.Select(f => SignalExit.Stamp(Path.Combine(folder, f))).ToArray();
            return SignalExit.Run(then =>
            {
                var written = files.Where((f, i) => SignalExit.Changed(Path.Combine(folder, f), before[i])).ToList();
                var rest = files.Except(written).ToList();
                return written.Count == 0 ? $"nothing was written to {folder}; {then}run `ember forecast {name} {folder}` again"
                    : $"{string.Join(", ", written)} {(written.Count == 1 ? "was" : "were")} written whole to {folder}" +
                      (rest.Count == 0 ? " before the stop" : $", not {string.Join(", ", rest)}: {then}run `ember forecast {name} {folder}` again to write them all");
            }, () =>
            {
                var (config, data, model) = Open(folder, $"ember forecast {name}", files, parse.GetValue(allowNonFinite));
                // what a killed eval or predict left in the run folder (only there: best/ and last/ are the resume's to clear)
                StaleTemporaries.Remove(folder, recursive: false, Console.Out);
                act(folder, config, data, model);
            });
        }));
        return command;
    }

    static (ForecastConfig Config, ForecastJob.Prepared Data, Models.RecurrentForecaster Model) Open(string folder, string command, string[] files, bool allowNonFinite)
    {
        RunFolderCheck.ForRun(folder, RunFolderKind.Forecast, command);
        // a run folder that cannot be written (a read-only mount, an archive) is refused before the model is loaded: the
        // command's files go nowhere else, and its work would be lost at the first write
        var them = files.Length == 1 ? files[0] : $"{string.Join(", ", files[..^1])} and {files[^1]}";
        RunFolderCheck.Writable(folder, $"{command} writes {them} there; copy the run folder somewhere writable (cp -r) and run it on the copy");
        var config = ForecastConfig.Load(Path.Combine(folder, "args.yaml"));
        var data = ForecastJob.Prepare(config);
        var model = ForecastJob.BuildModel(config);
        ForecastJob.LoadWeights(folder, model, data.Scaler, allowNonFinite);
        return (config, data, model);
    }

}
