using System.CommandLine;
using Ember.Cli.Commands;

var root = new RootCommand("ember: deep learning in pure C# — train, evaluate, predict, profile, tune and export models");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(ProfileCommand.Create());
root.Subcommands.Add(GradientFlowCommand.Create());
root.Subcommands.Add(EvolveCommand.Create());
root.Subcommands.Add(AblateCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
return root.Parse(args).Invoke();
