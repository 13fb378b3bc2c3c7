using Ember.Detection.Loss;
using Ember.Detection.Model;
using Ember.Detection.Optim;
using Ember.Optim;
using Ember.Training;

namespace Ember.Tests.Detection.Optim;

public class YoloFreezeTests
{
    static (Tensor Images, Tensor Targets) Batch()
    {
        var images = Torch.Rand([2, 3, 64, 64], DType.Float32, new Generator(5));
        var targets = Torch.FromArray(new float[] { 0, 0, 0.3f, 0.3f, 0.3f, 0.3f, 1, 1, 0.7f, 0.6f, 0.4f, 0.5f }, [2, 6]);
        return (images, targets);
    }

    static bool InLayers(string name, int first, int last)
        => Enumerable.Range(first, last - first + 1).Any(i => name.StartsWith($"model.{i}.", StringComparison.Ordinal));

    [Fact]
    public void One_number_freezes_the_first_n_layers_and_several_freeze_exactly_those_as_yolov5()
    {
        Assert.Equal(Enumerable.Range(0, 10), YoloFreeze.Layers([10]));
        Assert.Empty(YoloFreeze.Layers([0]));
        Assert.Equal([0, 1, 2], YoloFreeze.Layers([0, 1, 2]));
        Assert.Equal([5, 2], YoloFreeze.Layers([5, 2]));
        Assert.Equal("0–9", YoloFreeze.Describe(YoloFreeze.Layers([10])));
        Assert.Equal("0–2, 5", YoloFreeze.Describe([5, 0, 1, 2]));
        Assert.Equal("3, 4, 7", YoloFreeze.Describe([3, 4, 7]));

        var model = new YoloV5(2, YoloSize.N);
        Assert.Equal(25, YoloFreeze.LayerCount(model));
        var frozen = YoloFreeze.Apply(model, [10]);
        // model.1. must not catch model.10.–model.19.: YOLOv5's names end the index with a dot
        var expected = model.NamedParameters().Select(p => p.Name).Where(n => InLayers(n, 0, 9)).ToList();
        Assert.Equal(expected, frozen);
        Assert.Contains("model.0.conv.weight", frozen);
        Assert.DoesNotContain(frozen, n => n.StartsWith("model.10.", StringComparison.Ordinal));
        foreach (var (name, p) in model.NamedParameters()) Assert.Equal(!InLayers(name, 0, 9), p.RequiresGrad);

        var exact = new YoloV5(2, YoloSize.N);
        Assert.Equal(exact.NamedParameters().Select(p => p.Name).Where(n => InLayers(n, 1, 1) || InLayers(n, 24, 24)), YoloFreeze.Apply(exact, [24, 1]));
        // the optimizer's groups leave frozen parameters out
        var groups = YoloParameterGroups.Of(exact);
        Assert.All(groups.Weights.Concat(groups.Biases).Concat(groups.NormWeights), p => Assert.True(p.RequiresGrad));
        Assert.Equal(exact.Parameters().Count(p => p.RequiresGrad), groups.Weights.Count + groups.Biases.Count + groups.NormWeights.Count);
    }

    [Fact]
    public void A_frozen_backbone_records_no_graph_gets_no_gradient_and_its_batch_norm_statistics_still_update()
    {
        var model = new YoloV5(2, YoloSize.N);
        YoloFreeze.Apply(model, [10]);
        var layers = model.NamedModules().ToDictionary(m => m.Name, m => m.Module);
        Tensor? backboneOut = null, neckIn = null;
        using var h9 = layers["model.9"].RegisterForwardHook((_, _, y) => { backboneOut = y; return null; });
        using var h10 = layers["model.10"].RegisterForwardHook((_, _, y) => { neckIn = y; return null; });
        var runningMean = model.StateDict()["model.0.bn.running_mean"].Clone();
        var (images, targets) = Batch();
        var loss = new YoloLoss(model.Detect, new YoloLossOptions().ScaledFor(3, 2, 64));
        loss.Forward(model.Call(images), targets).Backward();

        // nothing upstream of layer 10 needs a gradient: the backbone's ops recorded no node
        Assert.NotNull(backboneOut);
        Assert.False(backboneOut!.RequiresGrad);
        Assert.Null(backboneOut.GradFn);
        Assert.True(neckIn!.RequiresGrad);
        foreach (var (name, p) in model.NamedParameters())
            if (InLayers(name, 0, 9)) Assert.True(p.Grad is null, $"{name} got a gradient");
            else Assert.True(p.Grad is not null, $"{name} got no gradient");
        // train mode: the frozen BN layers normalize by the batch and update their running statistics (as YOLOv5's)
        Assert.NotEqual(runningMean.ToArray<float>(), model.StateDict()["model.0.bn.running_mean"].ToArray<float>());
    }

    [Fact]
    public void Training_leaves_frozen_parameters_and_their_ema_bit_identical_and_moves_the_rest()
    {
        Torch.ManualSeed(3);
        var model = new YoloV5(2, YoloSize.N);
        YoloFreeze.Apply(model, [10]);
        var start = model.StateDict().Where(kv => kv.Value.DType == DType.Float32).ToDictionary(kv => kv.Key, kv => kv.Value.Clone().ToArray<float>());
        var ema = new ModelEma(model, 0.9999, tau: 2);
        var opt = YoloParameterGroups.Of(model).Sgd(0.01, 0.937, 5e-4);
        var loss = new YoloLoss(model.Detect, new YoloLossOptions().ScaledFor(3, 2, 64));
        var (images, targets) = Batch();
        var blended = ema.Shadow["model.0.conv.weight"].Clone();
        bool blendingDrifts = false;
        for (int step = 0; step < 4; step++)
        {
            opt.ZeroGrad();
            loss.Forward(model.Call(images), targets).Backward();
            opt.Step();
            ema.Update();
            // what YOLOv5's rule (every float blended) would do to a frozen weight: it drifts by roundings
            ModelEma.Blend(blended.Span<float>(), model.StateDict()["model.0.conv.weight"].Span<float>(), (float)ema.DecayAt(ema.Updates), (float)(1 - ema.DecayAt(ema.Updates)));
            blendingDrifts |= !blended.ToArray<float>().SequenceEqual(start["model.0.conv.weight"]);
        }
        Assert.True(blendingDrifts, "blending a constant moved none of its values: this test could not tell a copy from a blend");
        foreach (var (name, p) in model.NamedParameters())
        {
            var now = p.ToArray<float>();
            if (InLayers(name, 0, 9))
            {
                Assert.True(start[name].SequenceEqual(now), $"frozen {name} changed");
                Assert.True(start[name].SequenceEqual(ema.Shadow[name].ToArray<float>()), $"the EMA of frozen {name} differs from it");
            }
            else Assert.False(start[name].SequenceEqual(now), $"trained {name} did not change");
        }
        Assert.False(start["model.0.bn.running_var"].SequenceEqual(model.StateDict()["model.0.bn.running_var"].ToArray<float>()));
    }

    [Theory]
    [InlineData(new[] { 26 }, "expected a number of layers up to 25 (the detector's layers are 0–24), got 26")]
    [InlineData(new[] { 25 }, "expected at least one layer with parameters left to train, got all of them frozen (layers 0–24 of 0–24)")]
    [InlineData(new[] { 0, 30 }, "expected layer indices 0–24 (the detector's layers), got 30")]
    [InlineData(new[] { 3, -1 }, "expected numbers ≥ 0, got -1")]
    [InlineData(new[] { 2, 2 }, "expected each layer once, got layer 2 2 times")]
    public void Freezes_the_detector_cannot_take_are_refused_with_the_reason(int[] freeze, string reason)
    {
        var model = new YoloV5(2, YoloSize.N);
        Assert.Equal(reason, YoloFreeze.Check(model, freeze));
        var e = Assert.Throws<ArgumentException>(() => YoloFreeze.Apply(model, freeze));
        Assert.Contains(reason, e.Message);
        Assert.All(model.Parameters(), p => Assert.True(p.RequiresGrad));
        Assert.Null(YoloFreeze.Check(model, [24]));
        Assert.Null(YoloFreeze.Check(model, [0]));
    }
}
