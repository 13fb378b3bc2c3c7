using System.CommandLine;

namespace Ember.Cli.Commands.Detect;

/// <summary>`ember detect …`: the object-detection commands, one file each in this folder.</summary>
public static class DetectCommand
{
    /// <summary>Builds the command with its subcommands.</summary>
    public static Command Create()
    {
        var command = new Command("detect", "Object detection (YOLOv5-style): make a data set, pre-train a backbone, train, validate, predict");
        command.Subcommands.Add(MakeDataCommand.Create());
        command.Subcommands.Add(DetectPretrainCommand.Create());
        command.Subcommands.Add(DetectTrainCommand.Create());
        command.Subcommands.Add(DetectValCommand.Create());
        command.Subcommands.Add(DetectPredictCommand.Create());
        return command;
    }
}
