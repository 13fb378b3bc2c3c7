using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;

namespace Ember.Cli.Commands;

/// <summary>
/// The `ember` command line: the subcommands under one root named "ember" (help says `Usage: ember …` whatever the
/// executable is called), a --verbose option on every command, and one path for every failure through
/// <see cref="CliErrors"/>: parse errors (exit 2) and anything a command throws.
/// </summary>
public static class EmberCommand
{
    /// <summary>The root command with every subcommand and the --verbose option.</summary>
    public static (Command Root, Option<bool> Verbose) Build()
    {
        var root = new Command("ember", "ember: deep learning in pure C# — train, evaluate, predict, profile, tune and export models");
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        var verbose = new Option<bool>("--verbose") { Description = "print the full stack trace of an error", Recursive = true };
        root.Options.Add(verbose);
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(ProfileCommand.Create());
        root.Subcommands.Add(GradientFlowCommand.Create());
        root.Subcommands.Add(VarianceShiftCommand.Create());
        root.Subcommands.Add(LoraTransferCommand.Create());
        root.Subcommands.Add(EvolveCommand.Create());
        root.Subcommands.Add(AblateCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(Detect.DetectCommand.Create());
        root.Subcommands.Add(AnchorsCommand.Create());
        root.Subcommands.Add(Forecast.ForecastCommand.Create());
        RequireFiniteNumbers(root);
        return (root, verbose);
    }

    // System.CommandLine reads a number option as double.Parse does: "1,5" as 15 (',' a thousands separator) and "1e400"
    // as +Inf. Every number option takes a finite number with '.' as its decimal point, as config values do
    // (KeyValueBinder.Parse); a token it cannot read at all keeps System.CommandLine's own error.
    static void RequireFiniteNumbers(Command command)
    {
        foreach (var option in command.Options.Where(o => (Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType) == typeof(double)))
            option.Validators.Add(result =>
            {
                foreach (var token in result.Tokens)
                    if (double.TryParse(token.Value, CultureInfo.InvariantCulture, out _)
                        && !(double.TryParse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)))
                        result.AddError($"{option.Name} expects a finite number with '.' as its decimal point, got '{token.Value}'");
            });
        foreach (var subcommand in command.Subcommands) RequireFiniteNumbers(subcommand);
    }

    // "Unrecognized command or argument '--epoch'" → " Did you mean --epochs?" when an option or subcommand is that close.
    static string Suggest(Command command, string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, "^Unrecognized command or argument '(.+)'");
        if (!match.Success) return "";
        var token = match.Groups[1].Value;
        var names = token.StartsWith('-')
            ? command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Concat(Ancestors(command).SelectMany(c => c.Options).Where(o => o.Recursive).SelectMany(o => o.Aliases.Prepend(o.Name)))
            : command.Subcommands.Select(c => c.Name);
        var best = names.Where(n => n.Length > 2).MinBy(n => Configuration.ConfigLoader.Distance(n, token));
        return best is not null && Configuration.ConfigLoader.Distance(best, token) <= Math.Max(2, token.Length / 4) ? $" Did you mean {best}?" : "";
    }

    static IEnumerable<Command> Ancestors(Command command)
    {
        foreach (var parent in command.Parents.OfType<Command>())
        {
            yield return parent;
            foreach (var above in Ancestors(parent)) yield return above;
        }
    }

    /// <summary>Runs `ember <paramref name="args"/>` and returns the exit code (<see cref="ExitCodes"/>); never throws.</summary>
    /// <param name="args">The arguments after `ember`.</param>
    /// <param name="output">Where help goes (default: standard output); commands print results to the console.</param>
    /// <param name="error">Where error messages go (default: standard error).</param>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var previousError = CliErrors.Error;
        var previousVerbose = CliErrors.Verbose;
        var previousHint = CliErrors.MemoryHint;
        CliErrors.Error = error ?? Console.Error;
        try
        {
            var (root, verbose) = Build();
            if (args.Length == 0)
            {
                // a bare `ember` shows what it can do rather than "Required command was not provided"
                root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = output ?? Console.Out });
                return ExitCodes.Usage;
            }
            var parse = root.Parse(args);
            CliErrors.Verbose = args.Contains("--verbose");
            if (parse.Errors.Count > 0)
            {
                var command = parse.CommandResult.Command;
                foreach (var e in parse.Errors) CliErrors.Error.WriteLine($"ember: {e.Message}{Suggest(command, e.Message)}");
                // the whole path: `ember detect val --help`, not `ember val --help`
                var path = string.Join(' ', Ancestors(command).Reverse().Select(c => c.Name).Append(command.Name));
                CliErrors.Error.WriteLine($"ember: see `{path} --help` for the options");
                return ExitCodes.Usage;
            }
            CliErrors.Verbose = parse.GetValue(verbose);
            var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false, Error = CliErrors.Error };
            if (output is not null) configuration.Output = output;
            return parse.Invoke(configuration);
        }
        catch (Exception e) { return CliErrors.Report(e); }
        finally
        {
            CliErrors.Error = previousError;
            CliErrors.Verbose = previousVerbose;
            CliErrors.MemoryHint = previousHint;
        }
    }
}
