using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>
/// Validation on images without labels (the labels folder missing, or there and empty): precision, recall and mAP
/// are undefined, so `ember detect val` and `detect train` warn as YOLOv5 does ("no labels found in val set, can not
/// compute metrics without labels") and record NaN, never zeros that read as a real score; a training run picks best/
/// by the validation loss instead of a fitness that is 0 at every epoch.
/// </summary>
public sealed class DetectNoLabelsTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-detect-no-labels").FullName;

    public void Dispose() => Directory.Delete(root, true);

    /// <summary>The one-object set with <paramref name="change"/> done to its val labels; returns its data.yaml.</summary>
    string Set(string name, Action<string> change)
    {
        var folder = Path.Combine(root, name);
        var yaml = DetectCommandTests.OneObjectSet(folder, train: 8, val: 3).Yaml;
        change(Path.Combine(folder, "labels", "val"));
        return yaml;
    }

    static readonly Action<string> NoLabelsFolder = labels => Directory.Delete(labels, true);
    static readonly Action<string> EmptyLabelsFolder = labels => { foreach (var txt in Directory.GetFiles(labels)) File.Delete(txt); };

    static string[] Train(string data, string project, int epochs = 2) =>
        ["detect", "train", "--data", data, "--img", "64", "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--batch-size", "4", "--augment", "false", "--optimizer", "adam", "--lr", "0.01",
         "--ema", "0", "--warmup-epochs", "0", "--plot-images", "1", "--plain", "--project", project];

    static double[] ValMetrics(string folder)
    {
        var lines = File.ReadAllLines(Path.Combine(folder, "val_metrics.csv"));
        Assert.Equal("precision,recall,map50,map50_95,fitness,val_box_loss,val_obj_loss,val_cls_loss", lines[0]);
        return lines[1].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }

    [Fact]
    public void Training_on_a_val_split_without_labels_warns_records_NaN_metrics_and_keeps_best_by_validation_loss()
    {
        var data = Set("train-no-labels", NoLabelsFolder);
        var project = Path.Combine(root, "runs");
        var (code, stdout, stderr) = CliFailureTests.Invoke(Train(data, project));
        Assert.True(code == 0, $"exit code {code}: {stderr}{stdout}");
        Assert.Contains("ember: warning: ", stderr);
        Assert.Contains("the val split has no labels (", stderr);
        Assert.Contains(Path.Combine(root, "train-no-labels", "labels", "val") + " does not exist", stderr);
        Assert.Contains("best/ keeps the epoch with the lowest validation loss", stderr);
        Assert.Contains("val: no labels, no P, R or mAP", stdout);
        Assert.DoesNotContain("val P 0.000", stdout);

        var run = Path.Combine(project, "exp1");
        var rows = DetectFaultTests.Rows(Path.Combine(run, "metrics.csv"));
        Assert.Equal(2, rows.Count);
        foreach (var column in new[] { "precision", "recall", "map50", "map50_95", "fitness" })
        {
            int c = Array.IndexOf(DetectEpoch.CsvHeader.Split(','), column);
            Assert.All(rows, r => Assert.True(double.IsNaN(r[c]), $"{column} is {r[c]}, not NaN"));
        }
        int valObj = Array.IndexOf(DetectEpoch.CsvHeader.Split(','), "val_obj_loss");
        Assert.All(rows, r => Assert.True(double.IsFinite(r[valObj]) && r[valObj] > 0, $"val_obj_loss {r[valObj]}"));

        // best/ is the epoch of the lower validation loss; the final pass writes no PR curve
        var valLoss = rows.Select(r => r[valObj - 1] + r[valObj] + r[valObj + 1]).ToArray();
        int bestEpoch = Checkpoint.ReadState(Path.Combine(run, "best")).Epoch;
        Assert.Equal(valLoss[1] < valLoss[0] ? 2 : 1, bestEpoch);
        Assert.False(File.Exists(Path.Combine(run, "pr_curve.png")));
        Assert.True(File.Exists(Path.Combine(run, "results.png")));
        Assert.True(File.Exists(Path.Combine(run, "confusion_matrix.png")));
        Assert.Contains("lowest validation loss; the val split has no labels", File.ReadAllText(Path.Combine(run, "summary.md")));
        Assert.Contains("| all (3 images) | 0 | — | — | — | — |", stdout);

        // the same split validated by `detect val`: the warning, NaN metrics, no PR curve; the losses are real
        var output = Path.Combine(root, "val-out");
        (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", Path.Combine(run, "best"), "--output", output]);
        Assert.True(code == 0, $"exit code {code}: {stderr}{stdout}");
        Assert.Contains("ember: warning: ", stderr);
        Assert.Contains("the val split has no labels (", stderr);
        Assert.Contains("val_metrics.csv records NaN for them", stderr);
        Assert.Contains("| all (3 images) | 0 | — | — | — | — |", stdout);
        var m = ValMetrics(output);
        Assert.All(m[..5], v => Assert.True(double.IsNaN(v), $"a metric is {v}, not NaN"));
        Assert.True(double.IsFinite(m[6]) && m[6] > 0, $"val_obj_loss {m[6]}");
        Assert.False(File.Exists(Path.Combine(output, "pr_curve.png")));
        Assert.True(File.Exists(Path.Combine(output, "confusion_matrix.png")));

        // an empty labels folder (every image a background) is the same case, named by what is there
        var empty = Set("val-empty-labels", EmptyLabelsFolder);
        var emptyOutput = Path.Combine(root, "val-empty-out");
        (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", Path.Combine(run, "best"), "--data", empty, "--output", emptyOutput]);
        Assert.True(code == 0, $"exit code {code}: {stderr}{stdout}");
        Assert.Contains("the val split has no labels (no label file holds an object; 3 images, 0 objects, 3 backgrounds", stderr);
        Assert.All(ValMetrics(emptyOutput)[..5], v => Assert.True(double.IsNaN(v)));

        // with labels: no warning, real numbers and the PR curve
        var labelled = DetectCommandTests.OneObjectSet(Path.Combine(root, "labelled"), train: 8, val: 3).Yaml;
        var labelledOutput = Path.Combine(root, "val-labelled-out");
        (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", Path.Combine(run, "best"), "--data", labelled, "--output", labelledOutput]);
        Assert.True(code == 0, $"exit code {code}: {stderr}{stdout}");
        Assert.DoesNotContain("warning", stderr);
        Assert.All(ValMetrics(labelledOutput), v => Assert.True(double.IsFinite(v), $"a metric is {v}"));
        Assert.True(File.Exists(Path.Combine(labelledOutput, "pr_curve.png")));
    }

    [Fact]
    public void A_run_without_val_labels_resumes_after_Ctrl_C_with_its_NaN_rows()
    {
        var data = Set("resume-no-labels", EmptyLabelsFolder);
        var project = Path.Combine(root, "resume-runs");
        var (code, stdout, stderr) = CliFailureTests.Invoke(Train(data, project, epochs: 1));
        Assert.True(code == 0, $"exit code {code}: {stderr}{stdout}");
        var run = Path.Combine(project, "exp1");
        // the checkpoint holds NaN metrics (metrics.csv rows, the callbacks' state): extending the run reads it back
        (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "train", "--resume", run, "--epochs", "2"]);
        Assert.True(code == 0, $"exit code {code}: {stderr}{stdout}");
        Assert.Contains("the val split has no labels", stderr);
        var rows = DetectFaultTests.Rows(Path.Combine(run, "metrics.csv"));
        Assert.Equal(2, rows.Count);
        int fitness = Array.IndexOf(DetectEpoch.CsvHeader.Split(','), "fitness");
        Assert.All(rows, r => Assert.True(double.IsNaN(r[fitness])));
    }
}
