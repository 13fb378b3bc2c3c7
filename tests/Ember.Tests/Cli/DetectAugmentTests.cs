using Ember.Cli.Commands.Detect;
using Ember.Detection.Data;
using Ember.Detection.Model;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>
/// `ember detect val | predict --augment` and `detect train --val-augment` (YOLOv5's augmented inference) on
/// <see cref="DetectCommandTests.OneObjectSet"/> with an untrained yolov5n checkpoint: the wiring, not the accuracy.
/// </summary>
public class DetectAugmentTests
{
    // an untrained one-class yolov5n saved as a detection checkpoint (no args.yaml beside it: --data and --img are given)
    static string UntrainedCheckpoint(string folder, YoloDetector? model = null, Dictionary<string, string>? metadata = null)
    {
        Torch.ManualSeed(7);
        model ??= new YoloV5(1, YoloSize.N);
        Checkpoint.Save(folder, model, new CheckpointState { Metadata = metadata ?? new() { [DetectJob.ModelKey] = "n", [DetectJob.NamesKey] = "square" } });
        return folder;
    }

    [Fact]
    public void Val_with_augment_scores_the_augmented_passes_and_without_it_the_plain_forward()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-tta").FullName;
        try
        {
            var (data, _) = DetectCommandTests.OneObjectSet(temp, train: 2, val: 5);
            var weights = UntrainedCheckpoint(Path.Combine(temp, "run", "best"));
            var log = new StringWriter();
            var plain = DetectValCommand.Run(weights, data, 64, 2, Path.Combine(temp, "plain"), log);
            Assert.Contains("plain inference, NMS confidence 0.001, IoU 0.6: 5 images", log.ToString());
            var augmentedLog = new StringWriter();
            var augmented = DetectValCommand.Run(weights, data, 64, 2, Path.Combine(temp, "tta"), augmentedLog, augment: true);
            Assert.Contains("augmented inference (scales 1, 0.83, 0.67; flips none, left-right, none), NMS confidence 0.001, IoU 0.6: 5 images", augmentedLog.ToString());

            // the same numbers from the batches by hand: plain, the decoded forward; augmented, AugmentedInference's; the
            // loss is the plain forward's either way
            var (model, _) = DetectJob.LoadDetector(weights);
            var set = YoloDataset.FromConfig(DetectJob.LoadData(data), train: false);
            foreach (var (augment, evaluation) in new[] { (false, plain), (true, augmented) })
            {
                var evaluator = new DetectionEvaluator(1);
                using (Torch.NoGrad())
                    foreach (var batch in DetectJob.ValidationData(set, 64, 2).CreateLoader().Iterate(0))
                        evaluator.Update(batch.Images, augment ? AugmentedInference.Forward(model, batch.Images) : model.Call(batch.Images), batch.Targets, null);
                var m = evaluator.Result().Metrics;
                Assert.Equal([m.MeanPrecision, m.MeanRecall, m.Map50, m.Map50To95], [evaluation.Metrics.MeanPrecision, evaluation.Metrics.MeanRecall, evaluation.Metrics.Map50, evaluation.Metrics.Map50To95]);
                Assert.Equal(5, evaluation.Images);
            }
            Assert.Equal((plain.Box, plain.Objectness, plain.Class), (augmented.Box, augmented.Objectness, augmented.Class));
            Assert.True(File.Exists(Path.Combine(temp, "tta", "val_metrics.csv")));

            // --conf and --iou replace val.py's thresholds: at confidence 0.999 an untrained detector keeps nothing
            var strict = DetectValCommand.Run(weights, data, 64, 2, Path.Combine(temp, "strict"), TextWriter.Null, conf: 0.999, iou: 0.5);
            Assert.Equal(0, strict.Metrics.Map50);
            Assert.All(strict.Samples, s => Assert.Equal(0, s.Detections.Size(0)));
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void Predict_with_augment_writes_its_detections_in_the_original_image()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-tta-predict").FullName;
        try
        {
            DetectCommandTests.OneObjectSet(temp, train: 1, val: 2);
            var weights = UntrainedCheckpoint(Path.Combine(temp, "run", "best"));
            var source = Path.Combine(temp, "images", "val");
            var (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "predict", "--weights", weights, "--source", source, "--img", "64", "--conf", "0.001", "--augment", "--project", Path.Combine(temp, "predict")]);
            Assert.True(code == 0, stderr + stdout);
            var (model, _) = DetectJob.LoadDetector(weights);
            foreach (var name in new[] { "000", "001" })
            {
                var image = DetectionImages.Decode(Path.Combine(source, name + ".png"), int.MaxValue);
                var detections = DetectPredictor.Detect(model, image, 64, new NmsOptions { ConfidenceThreshold = 0.001 }, augment: true);
                var lines = File.ReadAllLines(Path.Combine(temp, "predict", "exp1", "labels", name + ".txt"));
                Assert.Equal(detections.Size(0), lines.Length);
                Assert.True(lines.Length > 0, "an untrained detector at confidence 0.001 keeps some boxes");
                // every box lies inside the 64 × 64 image (mapped back and clipped)
                var d = detections.ToArray<float>();
                for (int i = 0; i < d.Length / 6; i++)
                    for (int k = 0; k < 4; k++) Assert.InRange(d[6 * i + k], 0, 64);
            }
        }
        finally { Directory.Delete(temp, true); }
    }

    // strides 8 and 32: the clip counts rows by levels of 4× fewer cells each, which these are not
    const string SkippingYaml = """
        nc: 1
        depth_multiple: 1.0
        width_multiple: 1.0
        anchors:
          - [10,13, 16,30, 33,23]
          - [116,90, 156,198, 373,326]
        backbone:
          [[-1, 1, Conv, [8, 3, 2]],   # 0 stride 2
           [-1, 1, Conv, [8, 3, 2]],   # 1 stride 4
           [-1, 1, Conv, [8, 3, 2]],   # 2 stride 8
           [-1, 1, Conv, [8, 3, 2]],   # 3 stride 16
           [-1, 1, Conv, [8, 3, 2]],   # 4 stride 32
          ]
        head:
          [[[2, 4], 1, Detect, [nc, anchors]]]
        """;

    [Fact]
    public void Bad_combinations_give_clear_errors()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-tta-errors").FullName;
        try
        {
            var (data, _) = DetectCommandTests.OneObjectSet(temp, train: 2, val: 2);
            var yamlPath = Path.Combine(temp, "skipping.yaml");
            File.WriteAllText(yamlPath, SkippingYaml);
            var model = new YoloModel(YoloModelConfig.Parse(SkippingYaml, yamlPath), numClasses: 1);
            var weights = UntrainedCheckpoint(Path.Combine(temp, "run", "best"), model,
                new() { [DetectJob.ModelKey] = yamlPath, [DetectJob.NamesKey] = "square", [DetectJob.ModelYamlKey] = SkippingYaml });
            string[][] cases =
            [
                ["detect", "val", "--weights", weights, "--data", data, "--img", "64", "--augment"],
                ["detect", "predict", "--weights", weights, "--source", Path.Combine(temp, "images", "val"), "--img", "64", "--augment", "--project", Path.Combine(temp, "p")],
            ];
            foreach (var args in cases)
            {
                var (code, _, stderr) = CliFailureTests.Invoke(args);
                Assert.Equal(2, code);
                Assert.Contains("--augment: ", stderr);
                Assert.Contains("strides double from one to the next (as YOLOv5's 8, 16, 32), got strides [8, 32]", stderr);
            }
            var (trainCode, _, trainErr) = CliFailureTests.Invoke(["detect", "train", "--data", data, "--model", yamlPath, "--img", "64", "--epochs", "1", "--val-augment", "--project", Path.Combine(temp, "runs"), "--plain"]);
            Assert.Equal(2, trainCode);
            Assert.Contains("--val-augment: ", trainErr);
            Assert.False(Directory.Exists(Path.Combine(temp, "runs")), "the run folder was made before the error");
            foreach (var (option, value, expected) in new[] { ("--conf", "1.5", "--conf must be in [0, 1), got 1.5"), ("--iou", "0", "--iou must be in (0, 1], got 0") })
            {
                var (code, _, stderr) = CliFailureTests.Invoke(["detect", "val", "--weights", weights, "--data", data, "--img", "64", option, value]);
                Assert.Equal(2, code);
                Assert.Contains(expected, stderr);
            }
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void Train_with_val_augment_reports_the_best_weights_plain_and_augmented()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-tta-train").FullName;
        try
        {
            var (data, _) = DetectCommandTests.OneObjectSet(temp, train: 4, val: 2);
            var project = Path.Combine(temp, "runs");
            var (code, stdout, stderr) = CliFailureTests.Invoke(["detect", "train", "--data", data, "--img", "64", "--epochs", "1", "--batch-size", "4", "--augment", "false",
                "--ema", "0", "--warmup-epochs", "0", "--plot-images", "0", "--val-augment", "--project", project, "--plain"]);
            Assert.True(code == 0, stderr + stdout);
            var summary = File.ReadAllText(Path.Combine(project, "exp1", "summary.md"));
            int plain = summary.IndexOf("Plain inference:", StringComparison.Ordinal), augmented = summary.IndexOf("Augmented inference (--val-augment", StringComparison.Ordinal);
            Assert.True(plain >= 0 && augmented > plain, summary);
            Assert.Equal(2, summary.Split("| all (2 images)").Length - 1);
            Assert.Contains("val_augment: true", File.ReadAllText(Path.Combine(project, "exp1", "args.yaml")));
        }
        finally { Directory.Delete(temp, true); }
    }
}
