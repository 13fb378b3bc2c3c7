using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Interop;
using Ember.Models;
using Ember.Nn;
using Ember.Tests.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Ember.Tests.Cli;

public class ExportCommandTests
{
    /// <summary>
    /// A run folder as `ember train` leaves it, with what export reads: args.yaml (the model's name) and the best/ and
    /// last/ checkpoints (a CNN with BN statistics, so that --fuse changes the graph).
    /// </summary>
    internal static string TinyRun(string model = "cnn")
    {
        var (checkpoint, _) = ModelTests.SavedCheckpoint(model);
        var run = Path.Combine(Directory.CreateTempSubdirectory("ember-runs").FullName, "exp1");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "args.yaml"), ConfigLoader.ToYaml(new TrainConfig { Model = model }));
        Directory.Move(checkpoint, Path.Combine(run, "best"));
        TestFolders.Copy(Path.Combine(run, "best"), Path.Combine(run, "last"));
        return run;
    }

    internal static float[] RunOnnx(string path, Tensor x)
    {
        using var session = new InferenceSession(path);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray<float>(), x.Shape.ToArray()))]);
        return results.Single().AsTensor<float>().ToArray();
    }

    [Fact]
    public void Onnx_export_of_a_run_matches_the_model_in_onnx_runtime()
    {
        var run = TinyRun();
        Assert.Equal(0, ExportCommand.Create().Parse([run, "--format", "onnx"]).Invoke());
        var path = Path.Combine(run, "best.onnx");
        Assert.True(File.Exists(path));
        var (model, _) = EvalCommand.Load(run, "best");
        var x = Torch.Randn([3, 1, 28, 28], generator: new Generator(4));
        var expected = Model.Predict(model, x).ToDoubleArray();
        TestUtil.Close(expected, [.. RunOnnx(path, x).Select(v => (double)v)], 1e-4, 1e-4);

        // fused, another opset, another checkpoint, an explicit output: still the same predictions
        var log = new StringWriter();
        var fused = ExportCommand.Export(run, "onnx", Path.Combine(run, "fused.onnx"), "last", Onnx.MaxOpset, fuse: true, log);
        Assert.Contains($"exported cnn (last) to {fused}: ONNX opset {Onnx.MaxOpset}, input \"input\" [batch, 1, 28, 28] → output \"output\" [batch, 10]", log.ToString());
        Assert.True(new FileInfo(fused).Length < new FileInfo(path).Length); // the BN initializers are gone
        TestUtil.Close(expected, [.. RunOnnx(fused, x).Select(v => (double)v)], 1e-4, 1e-4);
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }

    /// <summary>
    /// With --ema the model that train measured, eval evaluates and export writes is one and the same (the EMA weights):
    /// ONNX Runtime on the exported best/ gives Ember's logits for best/, not the live weights' logits, and its top-1 on
    /// the test set is exactly the top-1 that train recorded for that epoch.
    /// </summary>
    [Fact]
    public void An_ema_runs_onnx_export_gives_the_evaluated_logits_and_the_recorded_top1()
    {
        var project = Directory.CreateTempSubdirectory("ember-runs").FullName;
        var config = new TrainConfig { Model = "mlp", Epochs = 1, BatchSize = 64, Limit = 512, Project = project, Plain = true, Seed = 3, Ema = 0.9 };
        Assert.Equal(0, TrainJob.Run(config, null, new StringWriter()));
        var run = Path.Combine(project, "exp1");
        var onnx = ExportCommand.Export(run, "onnx", Path.Combine(project, "best.onnx"), "best", Onnx.MaxOpset, fuse: false, TextWriter.Null);

        var (evaluated, recorded) = EvalCommand.Load(run, "best");
        var live = Ember.Models.ModelZoo.Create("mlp", 10, 1);
        live.LoadStateDict(SafeTensors.Load(Path.Combine(run, "last", "model.safetensors")));
        var (data, _) = DataSource.Resolve(recorded);
        var test = new Ember.Data.Mnist(data.Folder, train: false, transform: new Ember.Data.Transforms.Normalize([data.Mean], [data.Std]));
        long correct = 0, total = 0;
        double fromEma = 0, fromLive = double.PositiveInfinity;
        foreach (var batch in new Ember.Data.DataLoader<(Tensor, long)>(test, 2500).Iterate(0))
        {
            Tensor images = batch[0], labels = batch[1];
            var logits = RunOnnx(onnx, images);
            if (total == 0)
            {
                // EMA and live weights are close after one short epoch, so the tolerance must be far below their gap
                var ema = Model.Predict(evaluated, images).ToDoubleArray();
                var liveLogits = Model.Predict(live, images).ToDoubleArray();
                double gap = 0;
                for (int i = 0; i < ema.Length; i++)
                {
                    fromEma = Math.Max(fromEma, Math.Abs(logits[i] - ema[i]));
                    gap = Math.Max(gap, Math.Abs(logits[i] - liveLogits[i]));
                }
                fromLive = gap;
            }
            var truth = labels.ToArray<long>();
            int classes = logits.Length / truth.Length;
            for (int r = 0; r < truth.Length; r++)
            {
                int argmax = 0;
                for (int c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + argmax]) argmax = c;
                if (argmax == truth[r]) correct++;
            }
            total += truth.Length;
        }
        Assert.True(fromEma < 2e-5, $"ONNX Runtime's logits differ from Ember's EMA model's by {fromEma}");
        Assert.True(fromLive > 10 * fromEma + 1e-5, $"ONNX Runtime's logits are {fromLive} from the live weights' and {fromEma} from the EMA's: they must match the EMA");
        var top1 = double.Parse(File.ReadAllLines(Path.Combine(run, "metrics.csv"))[1].Split(',')[4], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(10_000, total);
        Assert.Equal(top1, (double)correct / total, 1e-9);
        Directory.Delete(project, true);
    }

    [Fact]
    public void Safetensors_export_writes_the_state_dict_with_pytorch_names()
    {
        var run = TinyRun();
        var log = new StringWriter();
        var path = ExportCommand.Export(run, "safetensors", null, "best", Onnx.MinOpset, fuse: false, log);
        Assert.Equal(Path.Combine(run, "best.safetensors"), path);
        Assert.Contains("safetensors, 22 tensors with PyTorch's names", log.ToString());
        var tensors = SafeTensors.Load(path, out var metadata);
        Assert.Equal("cnn", metadata["model"]);
        Assert.Equal("pt", metadata["format"]);
        Assert.Contains("features.1.running_var", tensors.Keys);
        var (model, _) = EvalCommand.Load(run, "best");
        var fresh = new FashionCnn();
        fresh.LoadStateDict(tensors);
        foreach (var (key, value) in model.StateDict())
            Assert.Equal(value.ToDoubleArray(), fresh.StateDict()[key].ToDoubleArray());
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }

    [Fact]
    public void Bad_arguments_are_reported()
    {
        var run = TinyRun("mlp");
        var ex = Assert.Throws<ConfigException>(() => ExportCommand.Export(run, "tflite", null, "best", 17, false, TextWriter.Null));
        Assert.Equal("unknown format 'tflite'; valid choices: onnx, safetensors", ex.Message);
        ex = Assert.Throws<ConfigException>(() => ExportCommand.Export(run, "safetensors", null, "best", 17, true, TextWriter.Null));
        Assert.Contains("--fuse applies to --format onnx only", ex.Message);
        ex = Assert.Throws<ConfigException>(() => ExportCommand.Export(run, "onnx", null, "first", 17, false, TextWriter.Null));
        Assert.Equal("unknown checkpoint 'first'; valid choices: best, last", ex.Message);
        var opset = Assert.Throws<ArgumentOutOfRangeException>(() => ExportCommand.Export(run, "onnx", null, "best", 13, false, TextWriter.Null));
        Assert.Contains("opset 13 is not supported", opset.Message);
        Assert.Equal(2, ExportCommand.Create().Parse([run, "--format", "tflite"]).Invoke()); // a clear line, no stack trace
        Assert.False(File.Exists(Path.Combine(run, "best.onnx")));
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }
}
