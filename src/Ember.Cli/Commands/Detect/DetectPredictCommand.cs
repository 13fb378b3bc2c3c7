using System.CommandLine;
using System.Globalization;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Detection.Model;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// `ember detect predict --weights RUN/best --source FOLDER [--img N] [--conf 0.25] [--iou 0.45] [--augment] [--project DIR]`:
/// detects objects in every image of a folder (or one image) and writes, into a new PROJECT/expN, each image with its boxes
/// drawn and labels/NAME.txt lines <c>class cx cy w h conf</c> (see <see cref="DetectPredictor"/>). An unreadable image, or
/// one too large for the memory free now, is reported by name and skipped; the others are still written, and the exit
/// code is then the data error's (3).
/// </summary>
public static class DetectPredictCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("predict", "Detect objects in a folder of images: annotated images and YOLO-format txt results");
        var weights = new Option<DirectoryInfo>("--weights") { Description = "checkpoint folder: RUN/best or RUN/last of `ember detect train`", Required = true };
        var source = new Option<string>("--source") { Description = "a folder of images (PNG, JPEG, BMP) or one image", Required = true };
        var img = new Option<int?>("--img") { Description = "inference size (default: the run's validation size, --val-img or else --img; 640 without a run)" };
        var conf = new Option<double>("--conf") { Description = "confidence threshold", DefaultValueFactory = _ => 0.25 };
        var iou = new Option<double>("--iou") { Description = "NMS IoU threshold", DefaultValueFactory = _ => 0.45 };
        var project = new Option<string>("--project") { Description = "results go to PROJECT/expN", DefaultValueFactory = _ => "runs/detect/predict" };
        var augment = new Option<bool>("--augment") { Description = "augmented inference (detect.py --augment): scales 1, 0.83, 0.67 with flips none, left-right, none, one NMS over all" };
        var allowNonFinite = EvalCommand.AllowNonFiniteOption();
        foreach (var o in new Option[] { weights, source, img, conf, iou, project, augment, allowNonFinite }) command.Options.Add(o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            // Ctrl-C or SIGTERM: the image being written is finished, its picture and labels whole (the two are one write);
            // the message counts the images whose labels were written
            var projectFolder = Path.GetFullPath(parse.GetValue(project)!);
            var earlier = RunFolders(projectFolder);
            return SignalExit.Run(then => Interrupted(projectFolder, earlier, parse.GetValue(source)!, then),
                () => Run(parse.GetValue(weights)!.FullName, parse.GetValue(source)!, parse.GetValue(img), parse.GetValue(conf), parse.GetValue(iou), parse.GetValue(project)!,
                    Console.Out, parse.GetValue(augment), parse.GetValue(allowNonFinite)));
        }));
        return command;
    }

    static HashSet<string> RunFolders(string project)
    {
        try { return Directory.Exists(project) ? [.. Directory.EnumerateDirectories(project)] : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    // What a prediction stopped by a signal leaves: the run folder it made (the one not there at its start), with the
    // images done so far, each a picture and a labels file.
    static string Interrupted(string project, HashSet<string> earlier, string source, string then)
    {
        var made = RunFolders(project).Except(earlier).Order(StringComparer.Ordinal).LastOrDefault();
        if (made is null) return $"nothing was written (no image had been predicted); {then}run the same command again";
        var labels = Path.Combine(made, "labels");
        int done = Directory.Exists(labels) ? Directory.EnumerateFiles(labels, "*.txt").Count() : 0;
        int all;
        try { all = DetectPredictor.Images(source).Count; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException) { all = -1; }
        return $"{done}{(all >= 0 ? $" of {all}" : "")} image(s) were written whole to {made} (annotated images and labels/*.txt); " +
               $"the others were not: {then}run the same command again for all of them (it writes a new expN)";
    }

    /// <summary>Predicts and returns the output folder; throws <see cref="InvalidDataException"/> after writing the rest when images were skipped.</summary>
    public static string Run(string weights, string source, int? img, double conf, double iou, string project, TextWriter log, bool augment = false, bool allowNonFinite = false)
    {
        var nms = Thresholds(new NmsOptions(), conf, iou);
        DetectPredictor.Images(source); // a missing or empty source fails before anything is loaded or made
        var (model, names) = DetectJob.LoadDetector(weights, allowNonFinite);
        if (augment && !AugmentedInference.Supports(model.Detect.Strides))
            throw new ConfigException($"--augment: {weights} ({model.ModelName}) cannot be run augmented: YOLOv5's augmented inference needs {AugmentedInference.Requirement(model.Detect.Strides)}");
        var args = Path.Combine(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(weights)))!, "args.yaml");
        int size = img ?? (File.Exists(args) ? DetectConfig.Load(args).EffectiveValImg : 640);
        if (size < 32 || size % 32 != 0) throw new ConfigException($"--img must be a positive multiple of 32, got {size}");
        DetectConfig.CheckImgFits("--img", size, mosaic: false);
        CliErrors.MemoryHint = $"lower --img ({size})";
        int probe = DetectJob.ProbeSize(model);
        TrainingMemory.RequireInferenceFits($"{weights} ({model.ModelName}) at --img {size}", "for one image", model, n => (Torch.Zeros(n, 3, probe, probe), Torch.Zeros(0)), null,
            DetectJob.AreaRatio(size, size, probe), 0, 1, "image", 0, $"images of {probe} px, 2 and 4 at once");
        // what a prediction killed mid-write left in its expN (each run writes a new one, so no later run looks there)
        StaleTemporaries.RemoveInRunFolders(project, log);
        var output = RunFolder.Create(project);
        var outcome = DetectPredictor.Run(model, names, source, output, size, nms, log, augment);
        log.WriteLine($"{outcome.Written} image(s), {outcome.Boxes} box(es) → {output} (annotated images; labels/*.txt: class cx cy w h conf)");
        var skipped = outcome.Unreadable.Concat(outcome.TooLarge).ToList();
        if (skipped.Count > 0)
        {
            var why = (outcome.Unreadable.Count, outcome.TooLarge.Count) switch
            {
                (_, 0) => "could not be read",
                (0, _) => "did not fit in memory",
                var (unreadable, tooLarge) => $"could not be read ({unreadable}) or did not fit in memory ({tooLarge})",
            };
            throw new InvalidDataException($"{skipped.Count} of {outcome.Written + skipped.Count} image(s) {why} and were skipped: " +
                string.Join("; ", skipped.Take(5).Select(u => $"{u.Path}: {u.Reason}")) + (skipped.Count > 5 ? "; …" : "") + $" (the others are in {output})");
        }
        return output;
    }

    /// <summary><paramref name="defaults"/> with --conf and --iou where given; a value out of range is an error naming the option.</summary>
    internal static NmsOptions Thresholds(NmsOptions defaults, double? conf, double? iou)
    {
        if (conf is double c && !(c >= 0 && c < 1)) throw new ConfigException($"--conf must be in [0, 1), got {c.ToString(CultureInfo.InvariantCulture)}");
        if (iou is double u && !(u > 0 && u <= 1)) throw new ConfigException($"--iou must be in (0, 1], got {u.ToString(CultureInfo.InvariantCulture)}");
        return defaults with { ConfidenceThreshold = conf ?? defaults.ConfidenceThreshold, IouThreshold = iou ?? defaults.IouThreshold };
    }
}
