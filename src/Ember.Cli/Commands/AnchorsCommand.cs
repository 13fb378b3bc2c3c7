using System.CommandLine;
using System.Globalization;
using System.Text;
using Ember.Cli.Configuration;
using Ember.Detection.Data;
using Ember.Detection.Model;
using Ember.Tuning;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember anchors DATA.yaml [--img 640] [--threshold 4] [--generations 1000] [--seed 0]`: YOLOv5's autoanchor check on a
/// YOLO-format data set's training labels. Prints the best possible recall of YOLOv5's default anchors and, when it is
/// not above 0.98, of the anchors k-means + genetic evolution finds, with those anchors in YOLOv5's YAML form.
/// </summary>
public static class AnchorsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var d = new AnchorOptions();
        var command = new Command("anchors", "Check anchors on a YOLO data set's labels (best possible recall) and evolve better ones (k-means + genetic)");
        var data = new Argument<FileInfo>("data") { Description = "the data set's data.yaml (train labels are used)" };
        var size = new Option<int>("--img") { Description = "training image size in pixels (label sizes are scaled to it)", DefaultValueFactory = _ => 640 };
        var threshold = new Option<double>("--threshold") { Description = "anchor_t: a box fits an anchor when both side ratios are within this factor", DefaultValueFactory = _ => d.Threshold };
        var generations = new Option<int>("--generations") { Description = "genetic evolution generations after k-means", DefaultValueFactory = _ => d.Generations };
        var seed = new Option<long>("--seed") { Description = "seed of the scale jitter, k-means and evolution", DefaultValueFactory = _ => d.Seed };
        command.Arguments.Add(data);
        foreach (var o in new Option[] { size, threshold, generations, seed }) command.Options.Add(o);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            Console.Write(Run(parse.GetValue(data)!.FullName, parse.GetValue(size), d with
            {
                Threshold = parse.GetValue(threshold), Generations = parse.GetValue(generations), Seed = parse.GetValue(seed),
            }));
            return 0;
        }));
        return command;
    }

    /// <summary>Runs the check and returns the report.</summary>
    public static string Run(string dataYaml, int imageSize, AnchorOptions options)
    {
        if (imageSize < 32) throw new ConfigException($"--img must be at least 32 pixels, got {imageSize}");
        // a size no training image can have (the label sizes scaled to 2³¹ px overflowed into negative boxes)
        Detect.DetectConfig.CheckImgFits("--img", imageSize, mosaic: false);
        if (!(options.Threshold > 1)) throw new ConfigException($"--threshold must be above 1, got {options.Threshold}");
        if (options.Generations < 0) throw new ConfigException($"--generations must be non-negative, got {options.Generations}");
        if (!File.Exists(dataYaml)) throw new FileNotFoundException($"data set description not found: {dataYaml}", dataYaml);
        var config = YoloDataConfig.Load(dataYaml);
        var set = YoloDataset.FromConfig(config, train: true);
        var shapes = new List<(int Width, int Height)>();
        var labelWh = new List<float[]>();
        for (int i = 0; i < set.Count; i++)
        {
            var (h, w) = set.ImageSize(i);
            var labels = set.LabelsOf(i).ToArray<float>();
            var wh = new float[labels.Length / 5 * 2];
            for (int b = 0; b < labels.Length / 5; b++) { wh[2 * b] = labels[5 * b + 3]; wh[2 * b + 1] = labels[5 * b + 4]; }
            shapes.Add((w, h));
            labelWh.Add(wh);
        }
        var sizes = AutoAnchor.LabelSizes(shapes, labelWh, imageSize, new Generator(options.Seed));
        if (sizes.Size(0) == 0) throw new InvalidDataException($"{dataYaml}: the training split has no labelled boxes to fit anchors to ({set.Summary()})");
        var head = new DetectHead(config.ClassCount, DetectHead.DefaultAnchors, [64, 128, 256], YoloV5.LevelStrides);
        var result = AutoAnchor.Check(head, sizes, options);

        var report = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        report.AppendLine($"{set.Summary()}; {sizes.Size(0)} boxes at --img {imageSize}, anchor_t {options.Threshold.ToString(inv)}");
        report.AppendLine(Line("YOLOv5 default anchors", result.Before));
        if (result.Evolution is null)
            report.AppendLine($"best possible recall above {AutoAnchor.GoodBpr.ToString(inv)}: the default anchors fit, nothing to evolve");
        else
        {
            report.AppendLine(Line($"evolved anchors (k-means + {options.Generations} generations)", Anchors.Metrics(sizes, result.Evolution.Anchors, options.Threshold)));
            report.AppendLine(result.Replaced ? "the evolved anchors fit better; for a model YAML (one row per stride 8, 16, 32):" : "the evolved anchors fit no better; keep the defaults");
            if (result.Replaced)
            {
                var a = result.Anchors.ToArray<float>();
                int perLevel = a.Length / 6;
                for (int level = 0; level < 3; level++)
                {
                    var pairs = Enumerable.Range(0, perLevel).Select(k => $"{Math.Round(a[level * perLevel * 2 + 2 * k]).ToString(inv)},{Math.Round(a[level * perLevel * 2 + 2 * k + 1]).ToString(inv)}");
                    report.AppendLine($"  - [{string.Join(", ", pairs)}]  # P{level + 3}/{8 << level}");
                }
            }
        }
        return report.ToString();
    }

    static string Line(string what, AnchorMetrics m) => string.Create(CultureInfo.InvariantCulture,
        $"{what}: best possible recall {m.BestPossibleRecall:F4}, anchors above threshold per box {m.AnchorsAboveThreshold:F2}, fitness {m.Fitness:F4}");
}
