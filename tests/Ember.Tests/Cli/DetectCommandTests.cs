using System.Globalization;
using Ember.Cli.Commands;
using Ember.Cli.Commands.Detect;
using Ember.Interop;
using Ember.Detection.Data;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>
/// `ember detect train | val | predict` end to end on a one-object set made here: 64×64 dark noisy images, each with one
/// bright rectangle of 16–36 px (one class), in the YOLO format.
/// </summary>
public class DetectCommandTests
{
    /// <summary>Writes the set under <paramref name="root"/>; returns data.yaml and the validation boxes (cx, cy, w, h normalized) by file name.</summary>
    internal static (string Yaml, Dictionary<string, double[]> ValBoxes) OneObjectSet(string root, int train, int val, int seed = 1)
    {
        const int s = 64;
        var random = new Random(seed);
        var valBoxes = new Dictionary<string, double[]>();
        foreach (var (split, count) in new[] { ("train", train), ("val", val) })
        {
            Directory.CreateDirectory(Path.Combine(root, "images", split));
            Directory.CreateDirectory(Path.Combine(root, "labels", split));
            for (int i = 0; i < count; i++)
            {
                var px = new float[3 * s * s];
                for (int k = 0; k < px.Length; k++) px[k] = random.Next(0, 41) / 255f;
                int bw = random.Next(16, 37), bh = random.Next(16, 37), x0 = random.Next(0, s - bw + 1), y0 = random.Next(0, s - bh + 1);
                for (int c = 0; c < 3; c++)
                    for (int y = y0; y < y0 + bh; y++)
                        for (int x = x0; x < x0 + bw; x++) px[c * s * s + y * s + x] = 220 / 255f;
                var name = i.ToString("D3", CultureInfo.InvariantCulture);
                DetectionImages.WritePng(Path.Combine(root, "images", split, name + ".png"), Torch.FromArray(px, [3, s, s]));
                double[] box = [(x0 + bw / 2.0) / s, (y0 + bh / 2.0) / s, (double)bw / s, (double)bh / s];
                File.WriteAllText(Path.Combine(root, "labels", split, name + ".txt"), string.Create(CultureInfo.InvariantCulture, $"0 {box[0]:F6} {box[1]:F6} {box[2]:F6} {box[3]:F6}\n"));
                if (split == "val") valBoxes[name] = box;
            }
        }
        var yaml = Path.Combine(root, "data.yaml");
        File.WriteAllText(yaml, "train: images/train\nval: images/val\nnames: [square]\n");
        return (yaml, valBoxes);
    }

    // Small and fast: no augmentation (so every step sees the objects whole), Adam, no warm-up, no EMA.
    static DetectConfig Tiny(string data, string project, int epochs) => DetectConfig.Apply(new DetectConfig(), new Dictionary<string, string?>
    {
        ["data"] = data,
        ["project"] = project,
        ["img"] = "64",
        ["epochs"] = epochs.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = "4",
        ["augment"] = "false",
        ["optimizer"] = "adam",
        ["lr"] = "0.01",
        ["ema"] = "0",
        ["warmup_epochs"] = "0",
        ["plot_images"] = "2",
        ["plain"] = "true",
    }, "test");

    static List<double[]> Rows(string csv)
        => File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();

    static double Iou(double[] a, double[] b)
    {
        double ix = Math.Max(0, Math.Min(a[0] + a[2] / 2, b[0] + b[2] / 2) - Math.Max(a[0] - a[2] / 2, b[0] - b[2] / 2));
        double iy = Math.Max(0, Math.Min(a[1] + a[3] / 2, b[1] + b[3] / 2) - Math.Max(a[1] - a[3] / 2, b[1] - b[3] / 2));
        return ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy);
    }

    // An evaluation in metrics.csv's order: precision, recall, map50, map50_95, fitness, val box/obj/cls loss.
    static double[] ValColumns(DetectEvaluation e)
        => [e.Metrics.MeanPrecision, e.Metrics.MeanRecall, e.Metrics.Map50, e.Metrics.Map50To95, e.Metrics.Fitness, e.Box, e.Objectness, e.Class];

    // `detect val` gives the numbers a metrics.csv row recorded, to the 8 digits it keeps.
    static void AssertReproduces(double[] row, DetectEvaluation e, string what)
    {
        double[] expected = row[4..12], actual = ValColumns(e);
        for (int k = 0; k < expected.Length; k++)
            Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-7 * Math.Max(1, Math.Abs(expected[k])), $"{what}: {DetectEpoch.Columns[3 + k]} {actual[k]} vs metrics.csv {expected[k]}");
    }

    [Fact]
    public void Train_learns_a_one_object_set_val_reproduces_its_metrics_and_predict_finds_the_objects()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect").FullName;
        try
        {
            // 24 images × 15 epochs at batch 2 and lr 0.005: as many images seen as 12 × 30 at batch 4 and lr 0.01, but twice
            // the steps at a steadier rate. That recipe ended anywhere from mAP@0.5 0.56 to 0.90 when only the summation order
            // of the convolution's weight gradient changed; this one ended at 0.86-0.995, with 5 or 6 of 6 boxes found, over
            // 5 data sets and 2 model seeds, each with both orders (docs/bench-logs/2026-12-04-session11-s11-yolo-ab.txt).
            var (data, valBoxes) = OneObjectSet(temp, train: 24, val: 6);
            var project = Path.Combine(temp, "runs");
            var log = new StringWriter();
            Assert.Equal(0, DetectJob.Train(Tiny(data, project, epochs: 15) with { BatchSize = 2, Lr = 0.005 }, plainOutput: log));
            var run = Path.Combine(project, "exp1");
            foreach (var file in new[] { "args.yaml", "metrics.csv", "results.png", "pr_curve.png", "confusion_matrix.png", "val_pred_0.png", "val_pred_1.png", "summary.md" })
                Assert.True(File.Exists(Path.Combine(run, file)), $"no {file} in {run}");
            Assert.Contains("autoanchor: 24 boxes at --img 64", log.ToString());
            Assert.Equal(DetectEpoch.CsvHeader, File.ReadLines(Path.Combine(run, "metrics.csv")).First());
            var rows = Rows(Path.Combine(run, "metrics.csv"));
            Assert.Equal(15, rows.Count);
            int map50 = Array.IndexOf(DetectEpoch.CsvHeader.Split(','), "map50"), fitness = Array.IndexOf(DetectEpoch.CsvHeader.Split(','), "fitness");
            // Untrained, the objectness barely ranks the one true box above the ~300 others per image, so the first epoch
            // scores about 0.01; 0.5 needs the top-scoring box to overlap its object at IoU ≥ 0.5 on most images.
            Assert.True(rows[0][map50] < 0.1, $"epoch 1 mAP@0.5 {rows[0][map50]}");
            Assert.True(rows[^1][map50] > 0.5, $"the last epoch's mAP@0.5 is {rows[^1][map50]}: the detector did not learn\n{log}");
            foreach (var r in rows) Assert.Equal(0.1 * r[map50] + 0.9 * r[map50 + 1], r[fitness], 6);

            // val on last/ (the weights of the last epoch) and best/ (the best fitness) reproduces their rows
            var best = rows.MaxBy(r => r[fitness])!;
            Assert.Equal((int)best[0], Checkpoint.ReadState(Path.Combine(run, "best")).Epoch);
            foreach (var (weights, row) in new[] { ("last", rows[^1]), ("best", best) })
            {
                AssertReproduces(row, DetectValCommand.Run(Path.Combine(run, weights), null, null, null, Path.Combine(temp, "val-" + weights), TextWriter.Null), weights);
                Assert.True(File.Exists(Path.Combine(temp, "val-" + weights, "val_metrics.csv")));
            }

            // predict: the most confident box of each validation image lies on its object; an unreadable image is named, the rest written.
            // --conf 0.1: after 180 steps the best box's objectness is 0.14-0.90 while the box lies on its object (IoU 0.52-0.95),
            // so at the default 0.25 an image now and then kept no box at all.
            var source = Path.Combine(temp, "images", "val");
            File.WriteAllBytes(Path.Combine(source, "zz-broken.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 0, 1, 2]);
            var (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "predict", "--weights", Path.Combine(run, "best"), "--source", source, "--conf", "0.1", "--project", Path.Combine(temp, "predict")]);
            Assert.Equal(3, code);
            Assert.Contains("zz-broken.png", stderr);
            Assert.Contains("1 of 7 image(s) could not be read", stderr);
            var output = Path.Combine(temp, "predict", "exp1");
            int hits = 0;
            foreach (var (name, box) in valBoxes)
            {
                Assert.True(File.Exists(Path.Combine(output, name + ".png")), $"no annotated {name}.png");
                var lines = File.ReadAllLines(Path.Combine(output, "labels", name + ".txt"));
                if (lines.Length == 0) continue;
                var top = lines.Select(l => l.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).MaxBy(v => v[5])!;
                Assert.Equal(6, top.Length);
                Assert.Equal(0, top[0]);
                if (Iou(top[1..5], box) >= 0.5) hits++;
            }
            Assert.True(hits >= valBoxes.Count - 2, $"only {hits} of {valBoxes.Count} top boxes overlap their object at IoU ≥ 0.5\n{stdout}");
            Assert.False(File.Exists(Path.Combine(output, "zz-broken.png")));

            // export: `ember export` on a detection run writes the detector at the run's --img with its decoded output,
            // and ONNX Runtime gives what the trained model gives
            var exported = ExportCommand.Export(run, "onnx", Path.Combine(temp, "detector.onnx"), "best", Onnx.MinOpset, fuse: false, TextWriter.Null);
            var (detector, _) = DetectJob.LoadDetector(Path.Combine(run, "best"));
            var image = Torch.Rand([1, 3, 64, 64], generator: new Generator(5));
            Tensor mine;
            using (Torch.NoGrad()) mine = detector.Call(image);
            using var session = Ember.Tests.Interop.OnnxDetectionExportTests.Session(File.ReadAllBytes(exported));
            var (theirs, shape) = Ember.Tests.Interop.OnnxDetectionExportTests.RunOnnx(session, image);
            Assert.Equal(mine.Shape.ToArray(), shape);
            Assert.Equal([1, 3 * (8 * 8 + 4 * 4 + 2 * 2), 6], shape);
            var expectedValues = mine.ToArray<float>();
            for (int i = 0; i < theirs.Length; i++)
                Assert.True(Math.Abs(theirs[i] - expectedValues[i]) <= 1e-4 * Math.Max(1, Math.Abs(expectedValues[i])), $"output {i}: {theirs[i]} vs {expectedValues[i]}");
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void Val_img_validates_at_its_own_size_and_detect_val_of_the_run_defaults_to_it()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-valimg").FullName;
        try
        {
            var (data, _) = OneObjectSet(temp, train: 8, val: 4);
            var log = new StringWriter();
            Assert.Equal(0, DetectJob.Train(Tiny(data, Path.Combine(temp, "runs"), epochs: 2) with { ValImg = 96, PlotImages = 0 }, plainOutput: log));
            Assert.Contains("--img 64 (validation at 96)", log.ToString());
            var run = Path.Combine(temp, "runs", "exp1");
            Assert.Contains("val_img: 96", File.ReadAllText(Path.Combine(run, "args.yaml")));
            var last = Rows(Path.Combine(run, "metrics.csv"))[^1];
            // the run's own size by default: metrics.csv's row, to the bit of its 8 digits
            var byDefault = DetectValCommand.Run(Path.Combine(run, "last"), null, null, null, Path.Combine(temp, "v0"), TextWriter.Null);
            AssertReproduces(last, byDefault, "last");
            // at the training size the images differ, and so does the validation loss
            var atTrainSize = DetectValCommand.Run(Path.Combine(run, "last"), null, 64, null, Path.Combine(temp, "v1"), TextWriter.Null);
            Assert.NotEqual(ValColumns(byDefault)[5..], ValColumns(atTrainSize)[5..]);
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void A_resumed_run_continues_as_if_never_stopped()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-resume").FullName;
        try
        {
            var (data, _) = OneObjectSet(temp, train: 8, val: 4);
            var project = Path.Combine(temp, "runs");
            Assert.Equal(0, DetectJob.Train(Tiny(data, project, epochs: 2), plainOutput: TextWriter.Null));
            // stopped in epoch 2 (batch 1 of 2) as by Ctrl-C, then resumed
            Assert.Equal(130, DetectJob.Train(Tiny(data, project, epochs: 2), plainOutput: TextWriter.Null, interruptAfterBatches: 3));
            var stopped = Path.Combine(project, "exp2");
            var state = Checkpoint.ReadState(Path.Combine(stopped, "last"));
            Assert.Equal((2, 1, false), (state.Epoch, state.BatchesDone, state.EpochComplete));
            Assert.Single(Rows(Path.Combine(stopped, "metrics.csv")));
            var log = new StringWriter();
            Assert.Equal(0, DetectJob.Train(new DetectConfig(), stopped, log));
            Assert.Contains("resuming", log.ToString());
            var whole = Rows(Path.Combine(project, "exp1", "metrics.csv"));
            var resumed = Rows(Path.Combine(stopped, "metrics.csv"));
            Assert.Equal(2, resumed.Count);
            for (int e = 0; e < 2; e++)
                for (int k = 0; k < DetectEpoch.Columns.Length - 1; k++) // all but the time
                    Assert.True(whole[e][k] == resumed[e][k], $"epoch {e + 1} {(k == 0 ? "epoch" : DetectEpoch.Columns[k - 1])}: {resumed[e][k]} after resuming, {whole[e][k]} uninterrupted");

            // an option that would change the run is refused by name
            var (code, _, stderr) = CliFailureTests.Invoke(["detect", "train", "--resume", stopped, "--lr", "0.5"]);
            Assert.Equal(2, code);
            Assert.Contains("--lr cannot change when resuming", stderr);
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void A_run_resumed_before_or_inside_the_close_mosaic_epochs_continues_as_if_never_stopped()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-close-mosaic").FullName;
        try
        {
            var (data, _) = OneObjectSet(temp, train: 8, val: 4);
            var project = Path.Combine(temp, "runs");
            // mosaic on, the last 2 of 3 epochs without it (2 batches each), cosine to lr·0.1
            DetectConfig Config(int closeMosaic) => DetectConfig.Apply(Tiny(data, project, epochs: 3), new Dictionary<string, string?>
            {
                ["augment"] = "true",
                ["schedule"] = "cosine",
                ["lrf"] = "0.1",
                ["close_mosaic"] = closeMosaic.ToString(CultureInfo.InvariantCulture),
            }, "test");
            var log = new StringWriter();
            Assert.Equal(0, DetectJob.Train(Config(2), plainOutput: log));                                      // exp1
            Assert.Contains("schedule cosine to lr·0.1", log.ToString());
            Assert.Contains("no mosaic in the last 2 epochs", log.ToString());
            Assert.Equal(0, DetectJob.Train(Config(0), plainOutput: TextWriter.Null));                          // exp2
            Assert.Equal(130, DetectJob.Train(Config(2), plainOutput: TextWriter.Null, interruptAfterBatches: 3)); // exp3: epoch 2, closed
            Assert.Equal(130, DetectJob.Train(Config(2), plainOutput: TextWriter.Null, interruptAfterBatches: 1)); // exp4: epoch 1, open
            foreach (var (run, epoch) in new[] { ("exp3", 2), ("exp4", 1) })
            {
                var stopped = Path.Combine(project, run);
                Assert.Equal(epoch, Checkpoint.ReadState(Path.Combine(stopped, "last")).Epoch);
                Assert.Contains("close_mosaic: 2", File.ReadAllText(Path.Combine(stopped, "args.yaml")));
                Assert.Equal(0, DetectJob.Train(new DetectConfig(), stopped, TextWriter.Null));
            }
            var whole = Rows(Path.Combine(project, "exp1", "metrics.csv"));
            Assert.Equal(3, whole.Count);
            foreach (var run in new[] { "exp3", "exp4" })
            {
                var resumed = Rows(Path.Combine(project, run, "metrics.csv"));
                Assert.Equal(3, resumed.Count);
                for (int e = 0; e < 3; e++)
                    for (int k = 0; k < DetectEpoch.Columns.Length - 1; k++) // all but the time
                        Assert.True(whole[e][k] == resumed[e][k], $"{run} epoch {e + 1} {(k == 0 ? "epoch" : DetectEpoch.Columns[k - 1])}: {resumed[e][k]} after resuming, {whole[e][k]} uninterrupted");
            }
            // the switch is real and per epoch: epoch 1 (mosaic in both runs) is the same as without --close-mosaic, the
            // closed epochs' training losses are not; the lr column ends at 0.01·0.1
            var open = Rows(Path.Combine(project, "exp2", "metrics.csv"));
            for (int k = 0; k < DetectEpoch.Columns.Length - 1; k++) Assert.True(open[0][k] == whole[0][k], $"epoch 1 column {k}");
            Assert.NotEqual(open[1][1], whole[1][1]);
            int lr = Array.IndexOf(DetectEpoch.Columns, "lr") + 1;
            Assert.Equal(0.001, whole[2][lr], 12);
            Assert.Equal(0.001, open[2][lr], 12);
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void Bad_inputs_give_clear_errors()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-bad").FullName;
        string data0() => OneObjectSet(Path.Combine(temp, "set0"), train: 1, val: 1).Yaml;
        try
        {
            var project = Path.Combine(temp, "runs");
            var missing = Path.Combine(temp, "nowhere", "data.yaml");
            var (code, _, stderr) = CliFailureTests.Invoke(["detect", "train", "--data", missing, "--project", project]);
            Assert.Equal(3, code);
            Assert.Contains(missing, stderr);
            Assert.Contains("make-data", stderr);
            Assert.False(Directory.Exists(project), "a run folder was made for a run that cannot start");

            (code, _, stderr) = CliFailureTests.Invoke(["detect", "train", "--data", missing, "--model", "xl"]);
            Assert.Equal(2, code);
            Assert.Contains("model must be one of n, s, m, l or a model definition file (.yaml or .yml), got 'xl'", stderr);
            (code, _, stderr) = CliFailureTests.Invoke(["detect", "train", "--data", data0(), "--model", Path.Combine(temp, "absent.yaml"), "--project", project]);
            Assert.Equal(3, code);
            Assert.Contains("--model: model definition not found", stderr);
            Assert.False(Directory.Exists(project), "a run folder was made for a run that cannot start");

            // weights: a folder that is no checkpoint (a data set, named as one; a plain folder), and a checkpoint that holds no detector
            var (data, _) = OneObjectSet(Path.Combine(temp, "set"), train: 1, val: 1);
            (code, _, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", Path.Combine(temp, "set"), "--data", data]);
            Assert.Equal(4, code);
            Assert.Contains("set is a detection data set (`ember detect make-data`), not a detection checkpoint; --weights takes best/ or last/", stderr);
            (code, _, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", Path.Combine(temp, "set", "images"), "--data", data]);
            Assert.Equal(4, code);
            Assert.Contains("checkpoint.json", stderr);
            var classifier = Path.Combine(temp, "classifier", "best");
            Checkpoint.Save(classifier, new Ember.Nn.Layers.Linear(2, 2), new CheckpointState());
            foreach (var args in new[] { new[] { "detect", "val", "--weights", classifier, "--data", data }, ["detect", "predict", "--weights", classifier, "--source", Path.Combine(temp, "set", "images", "val")] })
            {
                (code, _, stderr) = CliFailureTests.Invoke(args);
                Assert.Equal(4, code);
                Assert.Contains("is not a detection checkpoint", stderr);
            }
            (code, _, stderr) = CliFailureTests.Invoke(["detect", "predict", "--weights", classifier, "--source", Path.Combine(temp, "no-images")]);
            Assert.Equal(3, code);
            Assert.Contains("--source", stderr);
        }
        finally { Directory.Delete(temp, true); }
    }

    // A small definition unlike the shipped ones (Focus stem, one C3 per level, a single top-down step), so a run that
    // silently fell back to a built-in size would show in the parameter count.
    const string TinyYaml = """
        nc: 80
        depth_multiple: 1.0
        width_multiple: 1.0
        anchors:
          - [10,13, 16,30, 33,23]
          - [30,61, 62,45, 59,119]
          - [116,90, 156,198, 373,326]
        backbone:
          [[-1, 1, Focus, [16, 3]],       # 0 stride 2
           [-1, 1, Conv, [32, 3, 2]],     # 1 stride 4
           [-1, 1, Conv, [32, 3, 2]],     # 2 stride 8
           [-1, 1, C3, [32]],             # 3
           [-1, 1, Conv, [64, 3, 2]],     # 4 stride 16
           [-1, 1, Conv, [64, 3, 2]],     # 5 stride 32
           [-1, 1, SPPF, [64, 5]],        # 6
          ]
        head:
          [[-1, 1, nn.Upsample, [None, 2, 'nearest']],  # 7 stride 16
           [[-1, 4], 1, Concat, [1]],                   # 8
           [-1, 1, C3, [64, False]],                    # 9
           [[3, 9, 6], 1, Detect, [nc, anchors]],       # 10
          ]
        """;

    [Fact]
    public void A_model_yaml_trains_validates_predicts_and_exports_and_its_run_keeps_the_definition()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-yaml").FullName;
        try
        {
            var (data, _) = OneObjectSet(temp, train: 8, val: 4);
            var yamlPath = Path.Combine(temp, "tiny.yaml");
            File.WriteAllText(yamlPath, TinyYaml);
            var project = Path.Combine(temp, "runs");
            var log = new StringWriter();
            var (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "train", "--data", data, "--model", yamlPath, "--project", project, "--img", "64",
                "--epochs", "4", "--batch-size", "4", "--augment", "false", "--optimizer", "adam", "--lr", "0.01", "--ema", "0", "--warmup-epochs", "0", "--plot-images", "1", "--plain"]);
            Assert.True(code == 0, stderr + stdout);
            var expectedModel = new Ember.Detection.Model.YoloModel(Ember.Detection.Model.YoloModelConfig.Parse(TinyYaml, yamlPath), numClasses: 1);
            Assert.Contains($"ember detect train: tiny ({expectedModel.ParameterCount():N0} parameters, 1 classes)", stdout);
            var run = Path.Combine(project, "exp1");
            var rows = Rows(Path.Combine(run, "metrics.csv"));
            Assert.Equal(4, rows.Count);
            Assert.True(rows[^1][1] < rows[0][1], $"the box loss did not fall: {rows[0][1]} → {rows[^1][1]}");

            // the checkpoint carries the definition: everything below works with the file gone
            File.Delete(yamlPath);
            var (detector, names) = DetectJob.LoadDetector(Path.Combine(run, "last"));
            var fromYaml = Assert.IsType<Ember.Detection.Model.YoloModel>(detector);
            Assert.Equal(expectedModel.ParameterCount(), fromYaml.ParameterCount());
            Assert.Equal(expectedModel.StateDict().Keys, fromYaml.StateDict().Keys);
            Assert.Equal(["square"], names);

            var e = DetectValCommand.Run(Path.Combine(run, "last"), null, null, null, Path.Combine(temp, "val"), TextWriter.Null);
            double[] expected = rows[^1][4..8], actual = [e.Metrics.MeanPrecision, e.Metrics.MeanRecall, e.Metrics.Map50, e.Metrics.Map50To95];
            for (int k = 0; k < expected.Length; k++)
                Assert.True(Math.Abs(expected[k] - actual[k]) <= 1e-7 * Math.Max(1, Math.Abs(expected[k])), $"{DetectEpoch.Columns[3 + k]} {actual[k]} vs metrics.csv {expected[k]}");

            (code, _, stderr) = CliFailureTests.Invoke(["detect", "predict", "--weights", Path.Combine(run, "last"), "--source", Path.Combine(temp, "images", "val"), "--project", Path.Combine(temp, "predict"), "--conf", "0.001"]);
            Assert.True(code == 0, stderr);
            Assert.Equal(4, Directory.GetFiles(Path.Combine(temp, "predict", "exp1", "labels"), "*.txt").Length);

            var exported = ExportCommand.Export(run, "onnx", Path.Combine(temp, "tiny.onnx"), "last", Onnx.MinOpset, fuse: false, TextWriter.Null);
            var image = Torch.Rand([2, 3, 64, 64], generator: new Generator(8));
            Tensor mine;
            using (Torch.NoGrad()) mine = detector.Call(image);
            using var session = Ember.Tests.Interop.OnnxDetectionExportTests.Session(File.ReadAllBytes(exported));
            var (theirs, shape) = Ember.Tests.Interop.OnnxDetectionExportTests.RunOnnx(session, image);
            Assert.Equal([2, 3 * (8 * 8 + 4 * 4 + 2 * 2), 6], shape);
            var values = mine.ToArray<float>();
            for (int i = 0; i < theirs.Length; i++)
                Assert.True(Math.Abs(theirs[i] - values[i]) <= 1e-4 * Math.Max(1, Math.Abs(values[i])), $"output {i}: {theirs[i]} vs {values[i]}");
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void Amp_runs_the_convolutions_in_reduced_precision()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-amp").FullName;
        try
        {
            var (data, _) = OneObjectSet(temp, train: 8, val: 4);
            var losses = new Dictionary<string, double[]>();
            foreach (var amp in new[] { "none", "bf16", "fp16", "none" })
            {
                // one batch: the epoch's training loss is the untrained model's on it, so only the precision differs
                var config = Tiny(data, Path.Combine(temp, "runs-" + amp), epochs: 1) with { Amp = amp, PlotImages = 0, BatchSize = 8 };
                var log = new StringWriter();
                Assert.Equal(0, DetectJob.Train(config, plainOutput: log));
                Assert.Contains($"AMP {amp}", log.ToString());
                var row = Rows(Path.Combine(temp, "runs-" + amp, losses.ContainsKey(amp) ? "exp2" : "exp1", "metrics.csv"))[0];
                double[] parts = row[1..4];
                if (losses.TryGetValue(amp, out var again)) Assert.Equal(again, parts); // a run repeats bit for bit
                else losses[amp] = parts;
            }
            foreach (var amp in new[] { "bf16", "fp16" })
                for (int k = 0; k < 2; k++) // box and objectness (one class: no class loss)
                {
                    double full = losses["none"][k], reduced = losses[amp][k];
                    // rounding the convolutions' inputs changes every loss part, but only by the rounding's size
                    Assert.NotEqual(full, reduced);
                    Assert.True(Math.Abs(reduced - full) < 0.05 * Math.Abs(full), $"{amp}: loss part {k} is {reduced}, {full} in float32");
                }
            Assert.NotEqual(losses["bf16"], losses["fp16"]);
        }
        finally { Directory.Delete(temp, true); }
    }
}
