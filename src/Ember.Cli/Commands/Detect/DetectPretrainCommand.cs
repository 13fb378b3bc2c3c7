using System.CommandLine;
using Ember.Cli.Configuration;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// `ember detect pretrain --model n|s|MODEL.yaml --img 64 --epochs E …`: classification pre-training of a detector's
/// backbone on rendered Fashion-MNIST items (<see cref="DetectPretrainJob"/>); every <see cref="DetectPretrainConfig"/>
/// key is an option; --config reads a YAML file of the same keys first; --resume RUN continues an interrupted run.
/// </summary>
public static class DetectPretrainCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("pretrain", "Pre-train a YOLOv5 backbone as a classifier on Fashion-MNIST items rendered as make-data renders them, into runs/detect-pretrain/expN; `detect train --weights RUN/best` starts from it");
        var config = new Option<FileInfo?>("--config", "-c") { Description = "YAML file with the same keys as the options (snake_case)" };
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "continue an interrupted run from its folder, e.g. runs/detect-pretrain/exp1 (with --epochs N to extend it)" };
        command.Options.Add(config);
        command.Options.Add(resume);
        var defaults = new DetectPretrainConfig();
        var options = new ConfigKeyOptions(command, DetectPretrainConfig.Keys, (key, property) =>
        {
            var choices = DetectPretrainConfig.Choices.TryGetValue(key, out var c) ? $" ({string.Join("|", c)})"
                : key == "model" ? $" ({string.Join("|", DetectConfig.ModelSizes)} or a model .yaml)" : "";
            return $"{key.Replace('_', ' ')}{choices}; default {ConfigKeyOptions.DefaultText(property.GetValue(defaults))}";
        });
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var values = options.Values(parse);
            var file = parse.GetValue(config);
            if (parse.GetValue(resume) is { } folder)
            {
                if (file is not null) throw new ConfigException($"--config cannot be combined with --resume: {Path.Combine(folder.FullName, "args.yaml")} defines the run");
                return DetectPretrainJob.Train(new DetectPretrainConfig(), folder.FullName, resumeOverrides: values);
            }
            var start = new DetectPretrainConfig();
            if (file is not null)
            {
                if (!file.Exists) throw new ConfigException($"--config {file.FullName} not found");
                start = DetectPretrainConfig.Apply(start, YamlFile.Scalars(YamlFile.RootMapping(YamlFile.Load(file.FullName), file.FullName, "a mapping of key: value"), file.FullName), file.FullName);
            }
            return DetectPretrainJob.Train(DetectPretrainConfig.Apply(start, values, "command line"));
        }));
        return command;
    }
}
