using System.Globalization;
using Ember.Cli.Commands.Detect;
using Ember.Detection.Model;
using Ember.Interop;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>`ember detect train --freeze` (YOLOv5's train.py --freeze) on the one-object set of <see cref="DetectCommandTests"/>.</summary>
public class DetectFreezeTests
{
    // Small and fast as DetectCommandTests' runs: 8 images of 64 px at batch 4, no augmentation, Adam, no warm-up; EMA on
    // with a short ramp, so that its shadow moves within the run.
    static Dictionary<string, string?> Tiny(string data, string project, int epochs) => new()
    {
        ["data"] = data,
        ["project"] = project,
        ["img"] = "64",
        ["epochs"] = epochs.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = "4",
        ["augment"] = "false",
        ["optimizer"] = "adam",
        ["lr"] = "0.01",
        ["ema_tau"] = "2",
        ["warmup_epochs"] = "0",
        ["plot_images"] = "0",
        ["plain"] = "true",
    };

    static string[] Args(Dictionary<string, string?> options) => ["detect", "train", .. options.SelectMany(kv => new[] { "--" + kv.Key.Replace('_', '-'), kv.Value! })];

    static bool InBackbone(string name) => Enumerable.Range(0, 10).Any(i => name.StartsWith($"model.{i}.", StringComparison.Ordinal));

    static bool Same(Tensor a, Tensor b) => a.ToArray<float>().SequenceEqual(b.ToArray<float>());

    static OrderedDictionary<string, Tensor> Weights(string run, string file) => SafeTensors.Load(Path.Combine(run, "last", file));

    static readonly string[] ParameterNames = [.. new YoloV5(1, YoloSize.N).NamedParameters().Select(p => p.Name)];

    [Fact]
    public void Freeze_keeps_the_frozen_layers_and_their_ema_bit_identical_trains_the_rest_and_moves_their_batch_norm_statistics()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-freeze").FullName;
        try
        {
            var (data, _) = DetectCommandTests.OneObjectSet(temp, train: 8, val: 4);
            var project = Path.Combine(temp, "runs");
            // the weights to start from: a run without EMA, so that --weights copies its plain weights
            var first = Tiny(data, project, 1);
            first["ema"] = "0";
            Assert.Equal(0, CliFailureTests.Invoke(Args(first)).Code);
            var start = Weights(Path.Combine(project, "exp1"), Checkpoint.ModelFile);

            var options = Tiny(data, project, 2);
            options["weights"] = Path.Combine(project, "exp1", "last");
            var (code, stdout, stderr) = CliFailureTests.Invoke([.. Args(options), "--freeze", "10"]);
            Assert.True(code == 0, stderr);
            Assert.Contains("freezing layers 0–9 of 0–24 (model.0. … model.9.): 99 of 177 parameter tensors", stdout);
            Assert.Contains("freeze: \"10\"", File.ReadAllText(Path.Combine(project, "exp2", "args.yaml")));

            var run = Path.Combine(project, "exp2");
            var (model, ema) = (Weights(run, Checkpoint.ModelFile), Weights(run, Checkpoint.EmaFile));
            Assert.Equal(2, Checkpoint.ReadState(Path.Combine(run, "last")).Epoch);
            int frozen = 0;
            foreach (var name in ParameterNames)
                if (InBackbone(name))
                {
                    frozen++;
                    Assert.True(Same(start[name], model[name]), $"frozen {name} changed");
                    Assert.True(Same(start[name], ema[name]), $"the EMA of frozen {name} is not equal to it");
                }
                else Assert.False(Same(start[name], model[name]), $"{name} (not frozen) did not train");
            Assert.Equal(99, frozen);
            // YOLOv5 freezes by requires_grad alone: the frozen layers' BatchNorm still tracks the batches in train mode
            foreach (var stat in new[] { "model.0.bn.running_mean", "model.0.bn.running_var", "model.8.cv3.bn.running_mean" })
                Assert.False(Same(start[stat], model[stat]), $"{stat} did not move");
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void A_resumed_frozen_run_gives_the_bytes_of_an_unbroken_one_and_keeps_its_freeze()
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-freeze-resume").FullName;
        try
        {
            var (data, _) = DetectCommandTests.OneObjectSet(temp, train: 8, val: 4);
            var project = Path.Combine(temp, "runs");
            // several numbers, with a comma: kept as "0 1 2 3 4 5 6 7 8" in args.yaml
            var values = Tiny(data, project, 2);
            values["freeze"] = "0,1,2,3,4,5,6,7, 8";
            var config = DetectConfig.Apply(new DetectConfig(), values, "test");
            Assert.Equal("0 1 2 3 4 5 6 7 8", config.Freeze);
            Assert.Equal(0, DetectJob.Train(config, plainOutput: TextWriter.Null));
            // stopped in epoch 2 (batch 1 of 2) as by Ctrl-C, then resumed
            Assert.Equal(130, DetectJob.Train(config, plainOutput: TextWriter.Null, interruptAfterBatches: 3));
            var (whole, stopped) = (Path.Combine(project, "exp1"), Path.Combine(project, "exp2"));
            var log = new StringWriter();
            Assert.Equal(0, DetectJob.Train(new DetectConfig(), stopped, log));
            Assert.Contains("resuming", log.ToString());
            Assert.Contains("freezing layers 0–8 of 0–24", log.ToString());
            foreach (var file in new[] { Checkpoint.ModelFile, Checkpoint.EmaFile, Checkpoint.OptimizerFile })
            {
                var (a, b) = (Weights(whole, file), Weights(stopped, file));
                Assert.Equal(a.Keys, b.Keys);
                foreach (var (name, t) in a)
                    Assert.True(t.DType != DType.Float32 || Same(t, b[name]), $"{file} {name}: the resumed run differs from the unbroken one");
            }
            var rows = (File.ReadAllLines(Path.Combine(whole, "metrics.csv")), File.ReadAllLines(Path.Combine(stopped, "metrics.csv")));
            Assert.Equal(rows.Item1.Select(WithoutTime), rows.Item2.Select(WithoutTime));

            // the run's own value holds: another --freeze is refused by name, the same one (in another spelling) is not
            var (code, _, stderr) = CliFailureTests.Invoke(["detect", "train", "--resume", stopped, "--freeze", "10"]);
            Assert.Equal(2, code);
            Assert.Contains("--freeze cannot change when resuming", stderr);
            (code, _, stderr) = CliFailureTests.Invoke(["detect", "train", "--resume", stopped, "--freeze", "0", "1", "2", "3", "4", "5", "6", "7", "8"]);
            Assert.True(code == 0, stderr);
        }
        finally { Directory.Delete(temp, true); }

        static string WithoutTime(string row) => row[..row.LastIndexOf(',')];
    }

    [Theory]
    [InlineData(new[] { "--freeze=-1" }, "command line: freeze expects numbers ≥ 0 (layer counts or indices), got -1")]
    [InlineData(new[] { "--freeze", "3", "-2" }, "command line: freeze expects numbers ≥ 0 (layer counts or indices), got -2")]
    [InlineData(new[] { "--freeze", "backbone" }, "command line: freeze expects a number of layers N (YOLOv5's --freeze 10 freezes layers 0–9; 0: none) or several layer indices (0 1 2), got 'backbone'")]
    [InlineData(new[] { "--freeze", "2.5" }, "got '2.5'")]
    [InlineData(new[] { "--freeze", "1", "1" }, "command line: freeze expects each layer once, got layer 1 2 times in '1 1'")]
    [InlineData(new[] { "--freeze", "26" }, "--freeze 26 (yolov5n): expected a number of layers up to 25 (the detector's layers are 0–24), got 26")]
    [InlineData(new[] { "--freeze", "25" }, "--freeze 25 (yolov5n): expected at least one layer with parameters left to train, got all of them frozen (layers 0–24 of 0–24)")]
    [InlineData(new[] { "--freeze", "0", "30" }, "--freeze 0 30 (yolov5n): expected layer indices 0–24 (the detector's layers), got 30")]
    [InlineData(new[] { "--freeze", "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24" },
        "--freeze 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 (yolov5n): expected at least one layer with parameters left to train, got all of them frozen")]
    public void Bad_values_are_usage_errors_naming_the_option_before_any_run_folder(string[] freeze, string message)
    {
        var temp = Directory.CreateTempSubdirectory("ember-detect-freeze-bad").FullName;
        try
        {
            var (data, _) = DetectCommandTests.OneObjectSet(temp, train: 2, val: 1);
            var project = Path.Combine(temp, "runs");
            var (code, _, stderr) = CliFailureTests.Invoke(["detect", "train", "--data", data, "--project", project, "--img", "64", .. freeze]);
            Assert.Equal(2, code);
            Assert.Contains(message, stderr);
            Assert.False(Directory.Exists(project), "a refused run made its run folder");
        }
        finally { Directory.Delete(temp, true); }
    }

    [Fact]
    public void Help_describes_the_option_and_args_yaml_without_it_freezes_nothing()
    {
        var (code, stdout, _) = CliFailureTests.Invoke(["detect", "train", "--help"]);
        Assert.Equal(0, code);
        var text = string.Join(" ", stdout.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--freeze", text);
        Assert.Contains("N freezes model.0 … model.N-1 (10: the backbone), several numbers exactly those layers (--freeze 0 1 2)", text);
        Assert.Contains("the BatchNorm layers among them still update their running statistics in train mode, as in YOLOv5; 0: none; best with --weights; default 0", text);

        var temp = Directory.CreateTempSubdirectory("ember-detect-freeze-args").FullName;
        try
        {
            var path = Path.Combine(temp, "args.yaml");
            var config = DetectConfig.Apply(new DetectConfig(), new Dictionary<string, string?> { ["freeze"] = "3 ,5" }, "test");
            Assert.Equal("3 5", config.Freeze);
            Assert.Equal([3, 5], config.FreezeNumbers);
            File.WriteAllText(path, config.ToYaml());
            Assert.Equal(config, DetectConfig.Load(path));
            // an args.yaml from before the option: nothing frozen
            File.WriteAllText(path, string.Join("\n", new DetectConfig().ToYaml().Split('\n').Where(l => !l.StartsWith("freeze:"))));
            var older = DetectConfig.Load(path);
            Assert.Equal("0", older.Freeze);
            Assert.False(older.Freezes);
            Assert.Equal(new DetectConfig(), older);
        }
        finally { Directory.Delete(temp, true); }
    }
}
