using Ember.Models;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Training;

namespace Ember.Tests.Models;

public class ModelTests
{
    /// <summary>A checkpoint folder of a zoo model with non-trivial BN statistics, as `ember train` writes it.</summary>
    internal static (string Folder, Module Model) SavedCheckpoint(string name, bool recordName = true)
    {
        Torch.ManualSeed(7);
        var model = ModelZoo.Create(name);
        var gen = new Generator(8);
        using (Torch.NoGrad())
            foreach (var m in model.Modules())
                if (m is NormBase norm)
                {
                    norm.RunningMean!.CopyFrom(Torch.Randn([norm.NumFeatures], generator: gen) * 0.3);
                    norm.RunningVar!.CopyFrom(Torch.Rand([norm.NumFeatures], generator: gen) + 0.5);
                    norm.Weight!.CopyFrom(Torch.Rand([norm.NumFeatures], generator: gen) + 0.5);
                    norm.Bias!.CopyFrom(Torch.Randn([norm.NumFeatures], generator: gen) * 0.3);
                }
        var folder = Directory.CreateTempSubdirectory("ember-ckpt").FullName;
        var state = new CheckpointState { Metadata = recordName ? new() { ["model"] = name } : new() };
        Checkpoint.Save(folder, model, state);
        return (folder, model);
    }

    [Theory]
    [InlineData("cnn")]
    [InlineData("resnet")]
    public void Load_rebuilds_the_recorded_model_and_fused_predictions_equal_unfused(string name)
    {
        var (folder, original) = SavedCheckpoint(name);
        var loaded = Model.Load(folder);
        var fused = Model.Load(folder, fuse: true);
        Directory.Delete(folder, true);
        Assert.Equal(original.GetType(), loaded.GetType());
        Assert.False(loaded.Training);
        Assert.Contains(loaded.Modules(), m => m is BatchNorm2d);
        Assert.DoesNotContain(fused.Modules(), m => m is BatchNorm2d);

        var x = Torch.Randn([10, 1, 28, 28], generator: new Generator(9));
        original.Eval();
        Tensor direct;
        using (Torch.NoGrad()) direct = original.Call(x);
        var batched = Model.Predict(loaded, x, batchSize: 4);          // 4 + 4 + 2 rows
        Assert.Equal(new Shape(10, 10), batched.Shape);
        Assert.False(batched.RequiresGrad);
        Assert.Null(batched.GradFn);
        TestUtil.Close(direct, batched, 1e-5, 1e-5);
        TestUtil.Close(batched, Model.Predict(fused, x, batchSize: 3), 1e-4, 1e-4);
    }

    [Fact]
    public void Predict_runs_in_eval_mode()
    {
        Torch.ManualSeed(1);
        var mlp = new Mlp(12, [8], 3, dropout: 0.5);
        mlp.Train();
        var x = Torch.Randn(5, 12);
        var first = Model.Predict(mlp, x);
        Assert.False(mlp.Training);
        Assert.Equal(first.ToArray<float>(), Model.Predict(mlp, x, batchSize: 2).ToArray<float>()); // no dropout noise
    }

    [Fact]
    public void Load_and_predict_report_what_is_wrong()
    {
        var (folder, _) = SavedCheckpoint("mlp", recordName: false);
        var ex = Assert.Throws<CheckpointException>(() => Model.Load(folder));
        Assert.Contains($"checkpoint: {folder} does not record which model it holds; pass the model name (mlp, cnn", ex.Message);
        Assert.IsType<Mlp>(Model.Load(folder, "mlp"));
        var wrong = Assert.Throws<CheckpointException>(() => Model.Load(folder, "lenet"));
        Assert.Contains($"{Path.Combine(folder, "model.safetensors")} does not fit the model LeNet: Error(s) in loading state_dict for LeNet", wrong.Message);
        Directory.Delete(folder, true);
        Assert.Throws<DirectoryNotFoundException>(() => Model.Load(folder, "mlp"));
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => Model.Predict(new Linear(2, 2), Torch.Randn(3, 2), batchSize: 0));
        Assert.Contains("Model.Predict: batch size must be positive, got 0", bad.Message);
    }
}
