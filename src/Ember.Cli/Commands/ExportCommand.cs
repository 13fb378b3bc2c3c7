using System.CommandLine;
using System.Globalization;
using Ember.Cli.Configuration;
using Ember.Interop;
using Ember.Models;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember export RUN --format onnx|safetensors [--output PATH] [--checkpoint best|last] [--opset N] [--fuse]`: writes a
/// run's trained model as an ONNX model (for ONNX Runtime and other runtimes; dynamic batch) or as a safetensors state
/// dict with PyTorch's names. The default output is RUN/best.onnx (or last.safetensors, ...).
/// </summary>
public static class ExportCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("export", "Export a trained run as ONNX or safetensors");
        var run = new Argument<DirectoryInfo>("run") { Description = "run folder, e.g. runs/train/exp1" };
        var format = new Option<string>("--format") { Description = "onnx or safetensors", DefaultValueFactory = _ => "onnx" };
        var output = new Option<string?>("--output") { Description = "file to write (default: RUN/CHECKPOINT.onnx or .safetensors)" };
        var which = new Option<string>("--checkpoint") { Description = "best or last", DefaultValueFactory = _ => "best" };
        var opset = new Option<int>("--opset") { Description = $"ONNX opset, {Onnx.MinOpset} to {Onnx.MaxOpset}", DefaultValueFactory = _ => Onnx.MinOpset };
        var fuse = new Option<bool>("--fuse") { Description = "ONNX only: fold each BatchNorm into its convolution" };
        command.Arguments.Add(run);
        command.Options.Add(format);
        command.Options.Add(output);
        command.Options.Add(which);
        command.Options.Add(opset);
        command.Options.Add(fuse);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            Export(parse.GetValue(run)!.FullName, parse.GetValue(format)!, parse.GetValue(output), parse.GetValue(which)!, parse.GetValue(opset), parse.GetValue(fuse), Console.Out);
            return 0;
        }));
        return command;
    }

    /// <summary>Exports the run's checkpoint and returns the path written.</summary>
    public static string Export(string runFolder, string format, string? output, string checkpoint, int opset, bool fuse, TextWriter log)
    {
        if (format is not ("onnx" or "safetensors")) throw new ConfigException($"unknown format '{format}'; valid choices: onnx, safetensors");
        if (fuse && format != "onnx") throw new ConfigException("--fuse applies to --format onnx only: a fused state dict no longer matches the model's layout");
        var (model, config) = EvalCommand.Load(runFolder, checkpoint, fuse);
        var path = Path.GetFullPath(output ?? Path.Combine(runFolder, $"{checkpoint}.{format}"));
        string what;
        if (format == "onnx")
        {
            // runs train on Fashion-MNIST, so the model takes 1×28×28 images; the batch dim stays dynamic
            var sample = Torch.Zeros([1, 1, 28, 28]);
            Onnx.Export(model, sample, path, opset);
            what = $"ONNX opset {opset}, input \"input\" [batch, 1, 28, 28] → output \"output\" [batch, {Model.Predict(model, sample).Size(1)}]";
        }
        else
        {
            SafeTensors.Save(path, model.StateDict(), new Dictionary<string, string> { ["format"] = "pt", ["model"] = config.Model });
            what = $"safetensors, {model.StateDict().Count} tensors with PyTorch's names";
        }
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exported {config.Model} ({checkpoint}) to {path}: {what}, {new FileInfo(path).Length / 1e6:F2} MB"));
        return path;
    }
}
