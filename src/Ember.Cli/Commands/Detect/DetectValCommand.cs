using System.CommandLine;
using System.Globalization;
using Ember.Cli.Configuration;
using Ember.Detection.Loss;
using Ember.Detection.Model;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// `ember detect val --weights RUN/best [--data DATA.yaml] [--img N] [--batch-size N] [--output DIR] [--augment]
/// [--conf 0.001] [--iou 0.6]`: validates a detection checkpoint as training validated it (rectangular batches, val.py's
/// NMS and metrics). The data set, image size and validation batch size default to the run's args.yaml, so the numbers
/// equal the epoch's row of its metrics.csv. --augment scores YOLOv5's augmented inference (<see cref="Ember.Detection.Model.AugmentedInference"/>).
/// Prints the per-class table and writes val_metrics.csv, pr_curve.png, confusion_matrix.png and val_pred_*.png into
/// --output (default: the run folder).
/// </summary>
public static class DetectValCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("val", "Validate detection weights (best/ or last/ of a run): P, R, mAP@0.5, mAP@0.5:0.95, PR curve, confusion matrix");
        var weights = new Option<DirectoryInfo>("--weights") { Description = "checkpoint folder: RUN/best or RUN/last of `ember detect train`", Required = true };
        var data = new Option<string?>("--data") { Description = "data.yaml (default: the run's)" };
        var img = new Option<int?>("--img") { Description = "image size (default: the run's validation size, --val-img or else --img)" };
        var batch = new Option<int?>("--batch-size") { Description = "validation batch size (default: the run's; the rectangular shapes depend on it)" };
        var output = new Option<string?>("--output") { Description = "folder for val_metrics.csv and the pictures (default: the run folder)" };
        var singleCls = new Option<bool>("--single-cls") { Description = "class-agnostic: every label and detection counts as one class, NMS across classes (val.py's --single-cls): how well boxes are found, whatever their class" };
        var augment = new Option<bool>("--augment") { Description = "augmented inference (val.py --augment): scales 1, 0.83, 0.67 with flips none, left-right, none, one NMS over all; about 2.1x the inference work" };
        var conf = new Option<double?>("--conf") { Description = "NMS confidence threshold (default: val.py's 0.001)" };
        var iou = new Option<double?>("--iou") { Description = "NMS IoU threshold (default: val.py's 0.6)" };
        var allowNonFinite = EvalCommand.AllowNonFiniteOption();
        foreach (var o in new Option[] { weights, data, img, batch, output, singleCls, augment, conf, iou, allowNonFinite }) command.Options.Add(o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            // Ctrl-C or SIGTERM: the picture under way is finished; Run says what the output folder holds once it knows it
            return SignalExit.Run(then => $"nothing was written; {then}run the same command again to validate", signals =>
            {
                Run(signals, parse.GetValue(weights)!.FullName, parse.GetValue(data), parse.GetValue(img), parse.GetValue(batch), parse.GetValue(output), Console.Out,
                    parse.GetValue(singleCls), parse.GetValue(augment), parse.GetValue(conf), parse.GetValue(iou), parse.GetValue(allowNonFinite));
                return 0;
            });
        }));
        return command;
    }

    // What a validation stopped by a signal leaves in its folder: val_metrics.csv is written last, after the pictures.
    static string Interrupted(string folder, Dictionary<string, (bool Exists, DateTime Written, long Length)> before, string then)
    {
        var ours = SignalExit.Written(folder, before).Where(IsValFile).ToList();
        if (ours.Contains(MetricsFile)) return $"{MetricsFile} and the pictures were written whole to {folder} before the stop";
        var earlier = before.ContainsKey(MetricsFile) ? $" (the {MetricsFile} there is an earlier validation's)" : "";
        if (ours.Count > 0)
            return $"{ours.Count} picture(s) were written whole to {folder} ({string.Join(", ", ours.Take(3))}{(ours.Count > 3 ? ", …" : "")}) but not {MetricsFile}{earlier}; " +
                   $"{then}run the same command again to write them all";
        return $"nothing was written to {folder}{earlier}; {then}run the same command again to validate";
    }

    const string MetricsFile = "val_metrics.csv";

    static bool IsValFile(string name) => name is MetricsFile or "pr_curve.png" or "confusion_matrix.png" || name.StartsWith("val_pred_", StringComparison.Ordinal);

    /// <summary>Validates and reports; returns the evaluation.</summary>
    public static DetectEvaluation Run(string weights, string? data, int? img, int? batchSize, string? output, TextWriter log, bool singleClass = false,
        bool augment = false, double? conf = null, double? iou = null, bool allowNonFinite = false)
        => Run(null, weights, data, img, batchSize, output, log, singleClass, augment, conf, iou, allowNonFinite);

    // With `signals`, its account of a stop is this validation's output folder, as it was before anything was written.
    static DetectEvaluation Run(SignalExit? signals, string weights, string? data, int? img, int? batchSize, string? output, TextWriter log, bool singleClass,
        bool augment, double? conf, double? iou, bool allowNonFinite)
    {
        // the folder that val writes into: --output, or the run folder that holds the weights
        var runDir = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(weights)))!;
        var outputFolder = Path.GetFullPath(output ?? runDir);
        if (signals is not null)
        {
            var before = SignalExit.Stamps(outputFolder);
            signals.Outcome = then => Interrupted(outputFolder, before, then);
        }
        var nms = DetectPredictCommand.Thresholds(NmsOptions.ForValidation, conf, iou);
        var (model, names) = DetectJob.LoadDetector(weights, allowNonFinite);
        if (augment && !AugmentedInference.Supports(model.Detect.Strides))
            throw new ConfigException($"--augment: {weights} ({model.ModelName}) cannot be run augmented: YOLOv5's augmented inference needs {AugmentedInference.Requirement(model.Detect.Strides)}");
        var args = Path.Combine(runDir, "args.yaml");
        var run = File.Exists(args) ? DetectConfig.Load(args) : null;
        data ??= run?.Data ?? throw new ConfigException($"--data is needed: {weights} is not inside a run folder with an args.yaml naming its data set");
        int size = img ?? run?.EffectiveValImg ?? 640;
        int batch = batchSize ?? run?.EffectiveValBatchSize ?? 32;
        if (size < 32 || size % 32 != 0) throw new ConfigException($"--img must be a positive multiple of 32, got {size}");
        DetectConfig.CheckImgFits("--img", size, mosaic: false);
        if (batch < 1) throw new ConfigException($"--batch-size must be at least 1, got {batch}");
        CliErrors.MemoryHint = $"lower --img ({size}) or --batch-size ({batch})";
        var config = DetectJob.LoadData(data);
        DetectJob.CheckSplit(config, train: false);
        if (config.ClassCount != names.Length)
            throw new ConfigException($"--data {data} has {config.ClassCount} classes but {weights} was trained on {names.Length} ({string.Join(", ", names.Take(5))}{(names.Length > 5 ? ", …" : "")})");
        var set = DetectJob.Scan(config, train: false, cache: false, log: null);
        // the loss is the training loss, scaled for the training size (as train.py's validation), whatever size validates
        var lossOptions = (run ?? new DetectConfig()).LossOptions(model.Detect.NumLevels, names.Length, run?.Img ?? size);
        var loss = new DetectLoss(new YoloLoss(model.Detect, lossOptions), model.Detect);
        // an image that fits alone but not beside the batch is skipped as the scan's own, before the summary counts them
        string sizes = $"{weights} ({model.ModelName}) at --img {size} and --batch-size {batch}{(augment ? " with --augment" : "")}";
        var probe = set.Count > 0 ? DetectJob.ValidationProbeOf(model, lossOptions, DetectJob.ObjectsPerImage(set)) : null;
        if (probe is not null) DetectJob.SkipBesideValidation(set, size, batch, workers: 0, probe, 0, 0, augment, sizes, []);
        DetectJob.WriteSummary(config, set, train: false, log);
        if (set.Count == 0) throw new InvalidDataException($"{data}: the val split has no usable images");
        if (DetectJob.NoLabelsWarning(config, set, train: false, "they are not computed: val_metrics.csv records NaN for them, the table shows —, and no pr_curve.png is written") is { } noLabels)
            CliErrors.Warn(noLabels);
        var valData = DetectJob.ValidationData(set, size, batch);
        DetectJob.RequireValidationFits(probe!, valData, 0, 0, sizes, augment, [DetectJob.DecodeTerm(set, set.Count, workers: 0)]);
        var folder = Reporting.RunFolder.CreateOutput(outputFolder, "--output"); // an unwritable folder fails before the evaluation
        RunFolderCheck.Writable(folder, "detect val writes val_metrics.csv and its pictures there; give --output a folder you can write to");
        // what a validation killed mid-write left there (its pictures and metrics are written here; a run folder's own
        // checkpoint staging is --resume's to clear, so only the folder itself)
        StaleTemporaries.Remove(folder, recursive: false, log);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var evaluation = DetectJob.Evaluate(model, valData, loss, run?.PlotImages ?? 4, singleClass: singleClass, augment: augment, nms: nms);
        double seconds = clock.Elapsed.TotalSeconds;
        if (singleClass) names = ["object"];
        DetectJob.WritePictures(evaluation, names, folder);
        var m = evaluation.Scores;
        Interop.AtomicFile.WriteAllText(Path.Combine(folder, MetricsFile), "precision,recall,map50,map50_95,fitness,val_box_loss,val_obj_loss,val_cls_loss\n" +
            string.Join(",", new[] { m.Precision, m.Recall, m.Map50, m.Map50To95, m.Fitness, evaluation.Box, evaluation.Objectness, evaluation.Class }
                .Select(v => v.ToString("G9", CultureInfo.InvariantCulture))) + "\n");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(augment ? "augmented inference (scales 1, 0.83, 0.67; flips none, left-right, none)" : "plain inference")}, NMS confidence {nms.ConfidenceThreshold}, IoU {nms.IouThreshold}: " +
            $"{evaluation.Images} images in {seconds:F1} s ({1000 * seconds / Math.Max(1, evaluation.Images):F0} ms per image, data loading and loss included, {Torch.NumThreads} threads)"));
        log.Write(DetectJob.Summary(evaluation, names));
        log.WriteLine($"wrote val_metrics.csv, {(evaluation.HasLabels ? "pr_curve.png, " : "")}confusion_matrix.png and {evaluation.Samples.Count} val_pred_*.png to {folder}");
        return evaluation;
    }
}
