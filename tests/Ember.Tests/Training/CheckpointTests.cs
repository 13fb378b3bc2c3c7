using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Optim;
using Ember.Training;

namespace Ember.Tests.Training;

public class CheckpointTests
{
    static (Linear Model, Sgd Optimizer) Setup(long seed)
    {
        var model = new Linear(3, 2, generator: new Generator(seed));
        return (model, new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.1, Momentum = 0.9 }));
    }

    static void TrainStep(Linear model, Sgd optimizer, int i)
    {
        var x = Torch.Randn([4, 3], generator: new Generator(100 + i));
        optimizer.ZeroGrad();
        model.Call(x).Square().Mean().Backward();
        optimizer.Step();
    }

    [Fact]
    public void Resuming_from_a_checkpoint_continues_bit_identically()
    {
        var folder = Directory.CreateTempSubdirectory("ember-ckpt").FullName;
        var (straight, straightOpt) = Setup(1);
        for (int i = 0; i < 6; i++) TrainStep(straight, straightOpt, i);

        var (first, firstOpt) = Setup(1);
        for (int i = 0; i < 3; i++) TrainStep(first, firstOpt, i);
        Checkpoint.Save(folder, first, new CheckpointState { Epoch = 1, GlobalStep = 3 }, firstOpt);

        var (resumed, resumedOpt) = Setup(2); // different initial weights: everything must come from the checkpoint
        var state = Checkpoint.Load(folder, resumed, resumedOpt);
        Assert.Equal(3, state.GlobalStep);
        for (int i = 3; i < 6; i++) TrainStep(resumed, resumedOpt, i);
        Assert.Equal(straight.Weight.ToArray<float>(), resumed.Weight.ToArray<float>());
        Assert.Equal(straight.Bias!.ToArray<float>(), resumed.Bias!.ToArray<float>());
        Directory.Delete(folder, true);
    }

    [Fact]
    public void A_damaged_tensor_file_is_detected_by_its_checksum()
    {
        var folder = Directory.CreateTempSubdirectory("ember-ckpt").FullName;
        var (model, optimizer) = Setup(3);
        Checkpoint.Save(folder, model, new CheckpointState { Epoch = 2 }, optimizer);
        var path = Path.Combine(folder, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.Load(folder, model, optimizer));
        Assert.Contains("model.safetensors is damaged", ex.Message);
        Directory.Delete(folder, true);
    }

    [Fact]
    public void A_folder_without_a_checkpoint_gives_a_clear_message()
    {
        var ex = Assert.Throws<DirectoryNotFoundException>(() => Checkpoint.ReadState("/nonexistent/runs/train/exp9/last"));
        Assert.Contains("/nonexistent/runs/train/exp9/last", ex.Message);
    }
}
