using System.CommandLine;
using System.Globalization;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Detection.Model;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// `ember detect predict --weights RUN/best --source FOLDER [--img N] [--conf 0.25] [--iou 0.45] [--project DIR]`:
/// detects objects in every image of a folder (or one image) and writes, into a new PROJECT/expN, each image with its boxes
/// drawn and labels/NAME.txt lines <c>class cx cy w h conf</c> (see <see cref="DetectPredictor"/>). An unreadable image is
/// reported by name and skipped; the others are still written, and the exit code is then the data error's (3).
/// </summary>
public static class DetectPredictCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("predict", "Detect objects in a folder of images: annotated images and YOLO-format txt results");
        var weights = new Option<DirectoryInfo>("--weights") { Description = "checkpoint folder: RUN/best or RUN/last of `ember detect train`", Required = true };
        var source = new Option<string>("--source") { Description = "a folder of images (PNG, JPEG, BMP) or one image", Required = true };
        var img = new Option<int?>("--img") { Description = "inference size (default: the run's training size, else 640)" };
        var conf = new Option<double>("--conf") { Description = "confidence threshold", DefaultValueFactory = _ => 0.25 };
        var iou = new Option<double>("--iou") { Description = "NMS IoU threshold", DefaultValueFactory = _ => 0.45 };
        var project = new Option<string>("--project") { Description = "results go to PROJECT/expN", DefaultValueFactory = _ => "runs/detect/predict" };
        foreach (var o in new Option[] { weights, source, img, conf, iou, project }) command.Options.Add(o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            Run(parse.GetValue(weights)!.FullName, parse.GetValue(source)!, parse.GetValue(img), parse.GetValue(conf), parse.GetValue(iou), parse.GetValue(project)!, Console.Out);
            return 0;
        }));
        return command;
    }

    /// <summary>Predicts and returns the output folder; throws <see cref="InvalidDataException"/> after writing the rest when images were unreadable.</summary>
    public static string Run(string weights, string source, int? img, double conf, double iou, string project, TextWriter log)
    {
        if (!(conf >= 0 && conf < 1)) throw new ConfigException($"--conf must be in [0, 1), got {conf.ToString(CultureInfo.InvariantCulture)}");
        if (!(iou > 0 && iou <= 1)) throw new ConfigException($"--iou must be in (0, 1], got {iou.ToString(CultureInfo.InvariantCulture)}");
        DetectPredictor.Images(source); // a missing or empty source fails before anything is loaded or made
        var (model, names) = DetectJob.LoadDetector(weights);
        var args = Path.Combine(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(weights)))!, "args.yaml");
        int size = img ?? (File.Exists(args) ? DetectConfig.Load(args).Img : 640);
        if (size < 32 || size % 32 != 0) throw new ConfigException($"--img must be a positive multiple of 32, got {size}");
        var output = RunFolder.Create(project);
        var outcome = DetectPredictor.Run(model, names, source, output, size, new NmsOptions { ConfidenceThreshold = conf, IouThreshold = iou }, log);
        log.WriteLine($"{outcome.Written} image(s), {outcome.Boxes} box(es) → {output} (annotated images; labels/*.txt: class cx cy w h conf)");
        if (outcome.Unreadable.Count > 0)
            throw new InvalidDataException($"{outcome.Unreadable.Count} of {outcome.Written + outcome.Unreadable.Count} image(s) could not be read and were skipped: " +
                string.Join("; ", outcome.Unreadable.Take(5).Select(u => $"{u.Path}: {u.Reason}")) + (outcome.Unreadable.Count > 5 ? "; …" : "") + $" (the others are in {output})");
        return output;
    }
}
