using System.CommandLine;
using System.Globalization;
using Ember.Cli.Configuration;
using Ember.Interop;
using Ember.Models;
using Ember.Training;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember export RUN --format onnx|safetensors [--output PATH] [--force] [--checkpoint best|last] [--opset N] [--fuse]`: writes a
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
        var force = new Option<bool>("--force") { Description = "overwrite an existing output file (never a run's own files)" };
        var allowNonFinite = EvalCommand.AllowNonFiniteOption();
        command.Arguments.Add(run);
        command.Options.Add(format);
        command.Options.Add(output);
        command.Options.Add(which);
        command.Options.Add(opset);
        command.Options.Add(fuse);
        command.Options.Add(force);
        command.Options.Add(allowNonFinite);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var runFolder = parse.GetValue(run)!.FullName;
            // Ctrl-C or SIGTERM: the file under way is finished (renamed whole over the target) before the exit; the
            // model is small beside the time a write takes, so the stop comes at once however far the export got
            var path = OutputPath(runFolder, parse.GetValue(format)!, parse.GetValue(output), parse.GetValue(which)!);
            var before = SignalExit.Stamp(path);
            return SignalExit.Run(then => SignalExit.Changed(path, before)
                    ? $"{path} was written whole before the stop"
                    : $"{path} was not written{(before.Exists ? " (the file there is unchanged)" : "")}; {then}run the same export again to write it",
                () => Export(runFolder, parse.GetValue(format)!, parse.GetValue(output), parse.GetValue(which)!, parse.GetValue(opset), parse.GetValue(fuse), Console.Out,
                    parse.GetValue(force), parse.GetValue(allowNonFinite)));
        }));
        return command;
    }

    /// <summary>
    /// Exports the run's checkpoint and returns the path written. An existing file is replaced only with
    /// <paramref name="force"/>, and never one of a run's own files (see <see cref="CheckOutput"/>). Weights holding NaN or
    /// ±Inf are refused unless <paramref name="allowNonFinite"/>.
    /// </summary>
    public static string Export(string runFolder, string format, string? output, string checkpoint, int opset, bool fuse, TextWriter log, bool force = false,
        bool allowNonFinite = false)
    {
        if (format is not ("onnx" or "safetensors")) throw new ConfigException($"unknown format '{format}'; valid choices: onnx, safetensors");
        if (fuse && format != "onnx") throw new ConfigException("--fuse applies to --format onnx only: a fused state dict no longer matches the model's layout");
        var path = OutputPath(runFolder, format, output, checkpoint);
        CheckOutput(path, force);
        // a folder that cannot be written fails now, naming it, not after the model is loaded and traced (and, under
        // /proc, as a "missing" temporary); a device (/dev/null, /dev/full) is written in place, its folder never
        var folder = Path.GetDirectoryName(path)!;
        if (Directory.Exists(folder) && !Data.UntrustedFile.IsSpecial(path))
            RunFolderCheck.Writable(folder, $"export writes {Path.GetFileName(path)} there; give --output a file in a folder you can write to");
        // what an export killed mid-write (kill -9, a second Ctrl-C) left beside its target; only this folder, not below it
        StaleTemporaries.Remove(folder, recursive: false, log);
        var weights = Path.Combine(runFolder, checkpoint);
        // a detection run by its args.yaml, or (args.yaml lost) by its checkpoint's metadata
        if (RunFolderCheck.Identify(runFolder) == RunFolderKind.Detection
            || File.Exists(Path.Combine(weights, Checkpoint.JsonFile)) && Checkpoint.ReadState(weights).Metadata.ContainsKey(Detect.DetectJob.ModelKey))
            return ExportDetector(runFolder, weights, format, path, checkpoint, opset, log, allowNonFinite);
        var (model, config) = EvalCommand.Load(runFolder, checkpoint, fuse, allowNonFinite, command: "ember export");
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

    /// <summary>The file an export writes: --output, or RUN/CHECKPOINT.FORMAT.</summary>
    internal static string OutputPath(string runFolder, string format, string? output, string checkpoint)
        => Path.GetFullPath(output ?? Path.Combine(runFolder, $"{checkpoint}.{format}"));

    // An `ember detect train` run: the YOLOv5 detector at the run's image size, with YOLOv5's decoded output.
    static string ExportDetector(string runFolder, string weights, string format, string path, string checkpoint, int opset, TextWriter log, bool allowNonFinite)
    {
        var (model, names) = Detect.DetectJob.LoadDetector(weights, allowNonFinite);
        var args = Path.Combine(runFolder, "args.yaml");
        int img = File.Exists(args) ? Detect.DetectConfig.Load(args).EffectiveValImg : new Detect.DetectConfig().Img;
        string what;
        if (format == "onnx")
        {
            Onnx.Export(model, Torch.Zeros([1, 3, img, img]), path, opset);
            int boxes = 0;
            foreach (double stride in model.Detect.Strides) boxes += model.Detect.NumAnchors * (int)(img / stride) * (int)(img / stride);
            what = $"ONNX opset {opset}, input \"input\" [batch, 3, {img}, {img}] → output \"output\" [batch, {boxes}, {5 + names.Length}] (cx, cy, w, h in pixels, objectness, {names.Length} class scores)";
        }
        else
        {
            SafeTensors.Save(path, model.StateDict(), new Dictionary<string, string> { ["format"] = "pt", ["model"] = model.ModelName });
            what = $"safetensors, {model.StateDict().Count} tensors";
        }
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exported the detector ({checkpoint}) to {path}: {what}, {new FileInfo(path).Length / 1e6:F2} MB"));
        return path;
    }

    /// <summary>
    /// Refuses an output that would damage a run: nothing is written inside a checkpoint folder (one holding
    /// checkpoint.json), and inside a run folder (one holding args.yaml, found on any ancestor, also through links) an
    /// existing file may be replaced only if it is an earlier export (.onnx or .safetensors directly in the run's root)
    /// and <paramref name="force"/> is set. Any other existing file needs <paramref name="force"/>; a folder is never replaced.
    /// </summary>
    internal static void CheckOutput(string path, bool force)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new ConfigException($"--output {full} is a folder; give a file name, e.g. {Path.Combine(full, "model.onnx")}");
        var info = new FileInfo(full);
        bool exists = info.Exists || info.LinkTarget is not null;
        for (var folder = Path.GetDirectoryName(full); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            if (File.Exists(Path.Combine(folder, Checkpoint.JsonFile)))
                throw new ConfigException($"--output {full} is inside the checkpoint folder {folder}; writing there would damage the checkpoint; choose a path outside it");
            if (!exists || !File.Exists(Path.Combine(folder, "args.yaml"))) continue;
            bool earlierExport = folder == Path.GetDirectoryName(full) && Path.GetExtension(full) is ".onnx" or ".safetensors";
            if (!earlierExport)
                throw new ConfigException($"--output {full} is a file of the run {folder}; export never overwrites a run's own files (even with --force); choose another path");
        }
        if (exists && !force) throw new ConfigException($"--output {full} already exists; pass --force to overwrite it or choose another path");
    }
}
