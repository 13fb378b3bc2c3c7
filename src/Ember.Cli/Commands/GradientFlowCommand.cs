using System.CommandLine;
using Ember.Analysis;
using Ember.Cli.Reporting;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember gradient-flow`: runs <see cref="GradientFlowExperiment"/> for every architecture, prints each report and
/// draws gradient-flow.png — the notes' vanishing-gradient claim as a picture.
/// </summary>
public static class GradientFlowCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("gradient-flow", "Show vanishing gradients in a deep sigmoid MLP and how ReLU+BN or residual connections fix them");
        var output = new Option<string>("--output") { Description = "where to write the plot", DefaultValueFactory = _ => "gradient-flow.png" };
        var seed = new Option<int>("--seed") { Description = "seed of the initialization and the random batch", DefaultValueFactory = _ => 0 };
        command.Options.Add(output); command.Options.Add(seed);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var reports = GradientFlowExperiment.Architectures.Select(a => (a, GradientFlowExperiment.Run(a, parse.GetValue(seed)))).ToList();
            foreach (var (name, report) in reports) Console.WriteLine($"== {name} ==\n{report}\n");
            var path = Path.GetFullPath(parse.GetValue(output)!);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            GradientFlowPlot.Save(reports, path);
            Console.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }
}
