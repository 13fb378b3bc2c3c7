using Ember.Cli.Commands;
using Ember.Cli.Configuration;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Lora;
using Ember.Training;

namespace Ember.Tests.Cli;

/// <summary>`ember train --init-from RUN_DIR` (fine-tuning a trained run) and `--lora R` (LoRA adapters on it).</summary>
public class FineTuneSwitchTests
{
    static readonly TrainConfig Small = new() { Model = "mlp", Epochs = 1, BatchSize = 32, Limit = 128, Plain = true, Seed = 3 };

    static string Train(string project, TrainConfig config)
    {
        Assert.Equal(0, TrainJob.Run(config with { Project = project }, null, new StringWriter()));
        return Directory.GetDirectories(project).Single();
    }

    static double[] Values(Tensor t) => t.Detach().To(DType.Float64).Contiguous().ToArray<double>();

    static bool Same(Tensor a, Tensor b) => a.Shape.SequenceEqual(b.Shape) && Values(a).SequenceEqual(Values(b));

    static bool Close(Tensor a, Tensor b, double rtol, double atol)
    {
        if (!a.Shape.SequenceEqual(b.Shape)) return false;
        double[] x = Values(a), y = Values(b);
        for (int i = 0; i < x.Length; i++) if (!(Math.Abs(x[i] - y[i]) <= atol + rtol * Math.Abs(y[i]))) return false;
        return true;
    }

    static Tensor Inputs() => Torch.Randn([8, 1, 28, 28], generator: new Generator(11));

    [Fact]
    public void LoraTrainsOnlyTheAdaptersAndBestHoldsTheMergedModel()
    {
        var project = Directory.CreateTempSubdirectory("ember-lora").FullName;
        try
        {
            var baseRun = Train(Path.Combine(project, "a"), Small);
            var loraRun = Train(Path.Combine(project, "b"), Small with { InitFrom = baseRun, Lora = 4, Lr = 0.01, Seed = 4 });
            var trained = Model.Load(Path.Combine(baseRun, "best"), "mlp").StateDict();

            // last/: the frozen base, bit for bit the init_from run's weights, and adapters that moved (B starts at zero)
            var adapted = ModelZoo.Create("mlp", 10, 1);
            var lora = LoraModel.Apply(adapted, 4, 16);
            Checkpoint.LoadForInference(Path.Combine(loraRun, "last"), lora);
            foreach (var (key, value) in adapted.StateDict())
                Assert.True(Same(value, trained[key]), $"base tensor {key} changed during LoRA training");
            Assert.NotEmpty(lora.Adapters);
            foreach (var (path, _, adapter) in lora.Adapters)
                Assert.True(adapter.B.Abs().Max().Item() > 0, $"the adapter of {path} did not train");

            // best/: a plain model whose adapted weights are W + (α/r)·B·A and whose other tensors are the base's
            var merged = Model.Load(Path.Combine(loraRun, "best"), "mlp");
            var adaptedKeys = lora.Adapters.Select(a => a.Path + ".weight").ToHashSet();
            foreach (var (key, value) in merged.StateDict())
            {
                if (!adaptedKeys.Contains(key)) { Assert.True(Same(value, trained[key]), $"{key} should be the base's"); continue; }
                var adapter = lora.Adapters.Single(a => a.Path + ".weight" == key).Adapter;
                Assert.False(Same(value, trained[key]), $"{key} should hold the merged update");
                Assert.True(Close(value, trained[key] + adapter.WeightDelta(), 1e-5, 1e-6), $"{key} is not W + (α/r)·B·A");
            }

            // the merged model computes what the adapted one does, and `ember eval --checkpoint last` merges the same way
            lora.Eval();
            var expected = lora.Call(Inputs());
            Assert.True(Close(merged.Call(Inputs()), expected, 1e-4, 1e-5));
            var (fromLast, _) = EvalCommand.Load(loraRun, "last");
            Assert.True(Close(fromLast.Call(Inputs()), expected, 1e-4, 1e-5));
            Assert.False(Close(Model.Load(Path.Combine(baseRun, "best"), "mlp").Call(Inputs()), expected, 1e-4, 1e-5));
        }
        finally { Directory.Delete(project, true); }
    }

    [Fact]
    public void InitFromStartsFullFineTuningFromTheRunsWeights()
    {
        var project = Directory.CreateTempSubdirectory("ember-init").FullName;
        try
        {
            var baseRun = Train(Path.Combine(project, "a"), Small);
            var trained = Model.Load(Path.Combine(baseRun, "best"), "mlp").StateDict();
            var fresh = ModelZoo.Create("mlp", 10, 1);
            FineTuneStage.LoadInitWeights(Small with { InitFrom = baseRun }, fresh);
            foreach (var (key, value) in fresh.StateDict()) Assert.True(Same(value, trained[key]), key);

            // a learning rate too small to move the weights: the fine-tuned run ends where the init_from run did, and every
            // parameter trains (the weights do move a little), unlike a run from a random start
            var tuned = Model.Load(Path.Combine(Train(Path.Combine(project, "b"), Small with { InitFrom = baseRun, Lr = 1e-12, Seed = 4 }), "best"), "mlp").StateDict();
            var scratch = Model.Load(Path.Combine(Train(Path.Combine(project, "c"), Small with { Lr = 1e-12, Seed = 4 }), "best"), "mlp").StateDict();
            foreach (var (key, value) in tuned)
                if (key.EndsWith("weight") || key.EndsWith("bias")) // BatchNorm's running statistics follow the batches at any lr
                    Assert.True(Close(value, trained[key], 0, 1e-6), $"{key} did not start from the init_from run");
            Assert.Contains(tuned, kv => kv.Value.Rank > 1 && !Same(kv.Value, trained[kv.Key]));
            Assert.Contains(scratch, kv => !Close(kv.Value, trained[kv.Key], 0, 1e-3));
        }
        finally { Directory.Delete(project, true); }
    }

    [Fact]
    public void AnInterruptedLoraRunResumesToTheUninterruptedOne()
    {
        var project = Directory.CreateTempSubdirectory("ember-lora-resume").FullName;
        try
        {
            var baseRun = Train(Path.Combine(project, "a"), Small);
            var config = Small with { Epochs = 2, InitFrom = baseRun, Lora = 2, Lr = 0.01, Seed = 4, Project = Path.Combine(project, "b") };
            Assert.Equal(0, TrainJob.Run(config, null, new StringWriter()));
            Assert.Equal(130, TrainJob.Run(config, null, new StringWriter(), interruptAfterBatches: 3)); // Ctrl-C in epoch 1 of 4 batches
            string straight = Path.Combine(project, "b", "exp1"), cut = Path.Combine(project, "b", "exp2");
            Assert.Equal(0, TrainJob.Run(new TrainConfig(), cut, new StringWriter()));
            foreach (var saved in new[] { "last/model.safetensors", "last/optimizer.safetensors", "best/model.safetensors" })
                Assert.True(ResumeTests.Sha256(Path.Combine(straight, saved)) == ResumeTests.Sha256(Path.Combine(cut, saved)), $"{saved} differs from the uninterrupted run's");
        }
        finally { Directory.Delete(project, true); }
    }

    [Fact]
    public void MissingOrMismatchedRunsAreClearErrors()
    {
        var project = Directory.CreateTempSubdirectory("ember-init-errors").FullName;
        try
        {
            var missing = Path.Combine(project, "nothing");
            var e = Assert.Throws<ConfigException>(() => TrainJob.Run(Small with { InitFrom = missing, Project = Path.Combine(project, "x") }, null, new StringWriter()));
            Assert.Contains("init_from", e.Message);
            Assert.Contains($"run folder not found: {missing}", e.Message);

            var baseRun = Train(Path.Combine(project, "a"), Small);
            e = Assert.Throws<ConfigException>(() => FineTuneStage.LoadInitWeights(Small with { Model = "cnn", InitFrom = baseRun }, ModelZoo.Create("cnn", 10, 1)));
            Assert.Contains("'mlp' model", e.Message);
            Assert.Contains("'cnn'", e.Message);
            // a model that has the name but not the shapes (here: 5 outputs instead of 10)
            e = Assert.Throws<ConfigException>(() => FineTuneStage.LoadInitWeights(Small with { InitFrom = baseRun }, ModelZoo.Create("mlp", 5, 1)));
            Assert.Contains("do not fit", e.Message);
            Assert.Contains(Path.Combine(baseRun, "best"), e.Message);

            // weights that fit but diverged: said as such, not as a model that does not fit
            var diverged = Path.Combine(project, "diverged");
            TestFolders.Copy(baseRun, diverged);
            var best = Path.Combine(diverged, "best");
            var nan = ModelZoo.Create("mlp", 10, 1);
            Checkpoint.LoadForInference(best, nan);
            using (Torch.NoGrad()) nan.StateDict().First().Value.FillInPlace(double.NaN);
            Checkpoint.Save(best, nan, Checkpoint.ReadState(best));
            e = Assert.Throws<ConfigException>(() => FineTuneStage.LoadInitWeights(Small with { InitFrom = diverged }, ModelZoo.Create("mlp", 10, 1)));
            Assert.Contains($"init_from: {Path.Combine(best, Checkpoint.ModelFile)}: tensor '{nan.StateDict().First().Key}' holds", e.Message);
            Assert.Contains("the run diverged", e.Message);
            Assert.DoesNotContain("do not fit", e.Message);

            e = Assert.Throws<ConfigException>(() => ConfigValidator.Validate(Small with { Lora = 4 }));
            Assert.Contains("--init-from", e.Message);
            e = Assert.Throws<ConfigException>(() => ConfigValidator.Validate(Small with { Lora = -1, InitFrom = baseRun }));
            Assert.Contains("lora must be 0", e.Message);
            e = Assert.Throws<ConfigException>(() => ConfigValidator.Validate(Small with { LoraAlpha = 8 }));
            Assert.Contains("lora_alpha 8 has no effect", e.Message);
        }
        finally { Directory.Delete(project, true); }
    }

    [Fact]
    public void FullFineTuningAndLoraAreAnAblation()
    {
        // the documented study file: full fine-tuning from a run against LoRA on it
        var path = Path.Combine(Ember.Tests.Docs.DocsLinkTests.RepositoryRoot(), "docs", "examples", "lora-ablation.yaml");
        var study = AblationStudy.Load(path);
        Assert.Equal("runs/train/exp1", study.Baseline.InitFrom);
        Assert.Equal(0, study.Baseline.Lora);
        var lora = study.Configure(study.Baseline, "lora");
        Assert.Equal((8, 16.0, "runs/train/exp1"), (lora.Lora, lora.LoraAlpha, lora.InitFrom));
    }
}
