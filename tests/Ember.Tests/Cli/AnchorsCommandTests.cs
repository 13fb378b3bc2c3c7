using System.Globalization;
using System.Text.RegularExpressions;
using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Detection.Data;
using Ember.Detection.Model;
using Ember.Tuning;

namespace Ember.Tests.Cli;

/// <summary>`ember anchors`: the autoanchor check on a generated YOLO-format set.</summary>
public class AnchorsCommandTests
{
    static readonly SyntheticDetectionOptions Small = new() { TrainImages = 24, ValImages = 2, MinSide = 112, MaxSide = 160, Seed = 5 };

    static double Bpr(string report, string what)
    {
        var m = Regex.Match(report, Regex.Escape(what) + @"[^:]*: best possible recall ([0-9.]+)");
        Assert.True(m.Success, $"no '{what}' line in:\n{report}");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>YOLOv5's BPR written out: a box fits an anchor when both side ratios are within the threshold.</summary>
    static double ExpectedBpr(float[] wh, double[][] anchors, double threshold)
    {
        int fitting = 0;
        for (int b = 0; b < wh.Length / 2; b++)
        {
            bool fits = false;
            foreach (var level in anchors)
                for (int a = 0; a < level.Length; a += 2)
                {
                    double rw = wh[2 * b] / level[a], rh = wh[2 * b + 1] / level[a + 1];
                    fits |= Math.Min(Math.Min(rw, 1 / rw), Math.Min(rh, 1 / rh)) > 1 / threshold;
                }
            if (fits) fitting++;
        }
        return (double)fitting / (wh.Length / 2);
    }

    [Fact]
    public void ItReportsTheDefaultAnchorsRecallAndEvolvesBetterOnesWhenTheyFitPoorly()
    {
        var root = Directory.CreateTempSubdirectory("ember-anchors").FullName;
        FashionMnistDetectionSet.Write(root, Small);
        var yaml = Path.Combine(root, "data.yaml");
        var options = new AnchorOptions { Threshold = 1.5, Generations = 60, Seed = 2 };
        var report = AnchorsCommand.Run(yaml, 320, options);

        // the same box sizes the command gathers, and the BPR of YOLOv5's default anchors by the formula above
        var set = YoloDataset.FromConfig(YoloDataConfig.Load(yaml), train: true);
        var shapes = Enumerable.Range(0, set.Count).Select(i => (set.ImageSize(i).Width, set.ImageSize(i).Height)).ToList();
        var labelWh = Enumerable.Range(0, set.Count).Select(i =>
        {
            var l = set.LabelsOf(i).ToArray<float>();
            return Enumerable.Range(0, l.Length / 5).SelectMany(b => new[] { l[5 * b + 3], l[5 * b + 4] }).ToArray();
        }).ToList();
        var wh = AutoAnchor.LabelSizes(shapes, labelWh, 320, new Generator(2)).ToArray<float>();
        double before = Bpr(report, "YOLOv5 default anchors");
        Assert.Equal(ExpectedBpr(wh, DetectHead.DefaultAnchors, 1.5), before, 4);
        Assert.True(before <= AutoAnchor.GoodBpr, $"the strict threshold should make the defaults fit poorly:\n{report}");
        Assert.True(Bpr(report, "evolved anchors") > before, report);
        Assert.Contains("# P3/8", report);
        Assert.Contains($"{wh.Length / 2} boxes at --img 320", report);

        // with YOLOv5's threshold the defaults fit these boxes, and nothing is evolved
        var relaxed = AnchorsCommand.Run(yaml, 320, options with { Threshold = 4.0 });
        Assert.Contains("the default anchors fit, nothing to evolve", relaxed);
        Directory.Delete(root, true);
    }

    [Fact]
    public void BadOptionsAndMissingFilesAreNamedErrors()
    {
        Assert.Contains("--threshold must be above 1, got 0.5", Assert.Throws<ConfigException>(() => AnchorsCommand.Run("x.yaml", 640, new AnchorOptions { Threshold = 0.5 })).Message);
        Assert.Contains("--img must be at least 32 pixels, got 8", Assert.Throws<ConfigException>(() => AnchorsCommand.Run("x.yaml", 8, new AnchorOptions())).Message);
        Assert.Contains("data set description not found: /nonexistent/data.yaml", Assert.Throws<FileNotFoundException>(() => AnchorsCommand.Run("/nonexistent/data.yaml", 640, new AnchorOptions())).Message);
    }
}
