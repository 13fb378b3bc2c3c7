using System.CommandLine;
using Ember.Cli.Configuration;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// `ember detect train --data DATA.yaml --model n|s --img 320 --epochs E --batch-size B …`: every <see cref="DetectConfig"/>
/// key is an option (--batch-size for batch_size); --config reads a YAML file of the same keys first; --resume RUN
/// continues an interrupted run (with --epochs N to extend it).
/// </summary>
public static class DetectTrainCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("train", "Train a YOLOv5 detector on a YOLO-format data set into runs/detect/expN");
        var config = new Option<FileInfo?>("--config", "-c") { Description = "YAML file with the same keys as the options (snake_case)" };
        var resume = new Option<DirectoryInfo?>("--resume") { Description = "continue an interrupted run from its folder, e.g. runs/detect/exp1 (with --epochs N to extend it)" };
        command.Options.Add(config);
        command.Options.Add(resume);
        var allowNonFinite = EvalCommand.AllowNonFiniteOption();
        allowNonFinite.Description = TrainCommand.ResumeAllowNonFiniteDescription;
        command.Options.Add(allowNonFinite);
        var defaults = new DetectConfig();
        var options = new ConfigKeyOptions(command, DetectConfig.Keys, (key, property) =>
        {
            var choices = DetectConfig.Choices.TryGetValue(key, out var c) ? $" ({string.Join("|", c)})"
                : key == "model" ? $" ({string.Join("|", DetectConfig.ModelSizes)} or a model .yaml)" : "";
            var note = DetectConfig.Notes.TryGetValue(key, out var n) ? ": " + n : "";
            return $"{key.Replace('_', ' ')}{choices}{note}; default {ConfigKeyOptions.DefaultText(property.GetValue(defaults))}";
        }, DetectConfig.ListKeys);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var values = options.Values(parse);
            var file = parse.GetValue(config);
            if (parse.GetValue(resume) is { } folder)
            {
                if (file is not null) throw new ConfigException($"--config cannot be combined with --resume: {Path.Combine(folder.FullName, "args.yaml")} defines the run");
                if (values.ContainsKey("weights"))
                    throw new ConfigException($"--weights cannot be combined with --resume: the run continues from its own weights ({Path.Combine(folder.FullName, "last")}, with its optimizer and EMA); " +
                        "to start from other weights, start a new run with --weights");
                return DetectJob.Train(new DetectConfig(), folder.FullName, resumeOverrides: values, allowNonFinite: parse.GetValue(allowNonFinite));
            }
            if (parse.GetValue(allowNonFinite)) throw new ConfigException(TrainCommand.AllowNonFiniteWithoutResume);
            var start = new DetectConfig();
            if (file is not null)
            {
                if (!file.Exists) throw new ConfigException($"--config {file.FullName} not found");
                start = DetectConfig.Apply(start, YamlFile.Scalars(YamlFile.RootMapping(YamlFile.Load(file.FullName), file.FullName, "a mapping of key: value"), file.FullName), file.FullName);
            }
            return DetectJob.Train(DetectConfig.Apply(start, values, "command line"));
        }));
        return command;
    }
}
