using System.CommandLine;
using Ember.Analysis;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember gradient-flow`: runs <see cref="GradientFlowExperiment"/> for every architecture, prints each report and
/// draws gradient-flow.png — the notes' vanishing-gradient claim as a picture — into a new runs/gradient-flow/expN
/// folder (or to --output).
/// </summary>
public static class GradientFlowCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("gradient-flow", "Show vanishing gradients in a deep sigmoid MLP and how ReLU+BN or residual connections fix them");
        var output = new Option<string?>("--output") { Description = "where to write the plot; default: gradient-flow.png in a new run folder under --project" };
        var project = new Option<string>("--project") { Description = "folder for the expN run folders", DefaultValueFactory = _ => "runs/gradient-flow" };
        var seed = new Option<int>("--seed") { Description = "seed of the initialization and the random batch", DefaultValueFactory = _ => 0 };
        command.Options.Add(output); command.Options.Add(project); command.Options.Add(seed);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            // the destination first: a folder that cannot be written fails at once, not after the experiment
            var path = parse.GetValue(output) is string file ? Path.GetFullPath(file)
                : Path.Combine(Path.GetFullPath(RunFolder.Create(parse.GetValue(project)!)), "gradient-flow.png");
            if (Directory.Exists(path)) throw new ConfigException($"--output {path} is a folder; give a file name such as {Path.Combine(path, "gradient-flow.png")}");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var reports = GradientFlowExperiment.Architectures.Select(a => (a, GradientFlowExperiment.Run(a, parse.GetValue(seed)))).ToList();
            foreach (var (name, report) in reports) Console.WriteLine($"== {name} ==\n{report}\n");
            GradientFlowPlot.Save(reports, path);
            Console.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }
}
