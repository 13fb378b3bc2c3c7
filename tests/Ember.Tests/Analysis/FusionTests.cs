using Ember.Analysis;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;

namespace Ember.Tests.Analysis;

public class FusionTests
{
    static void RandomizeStats(Module model, int seed)
    {
        var g = new Generator(seed);
        using (Torch.NoGrad())
            foreach (var bn in model.Modules().OfType<BatchNorm2d>())
            {
                int c = bn.NumFeatures;
                bn.RunningMean!.CopyFrom(Torch.Randn([c], generator: g) * 0.5);
                bn.RunningVar!.CopyFrom(Torch.Rand([c], generator: g) + 0.5);
                bn.Weight?.CopyFrom(Torch.Rand([c], generator: g) + 0.5);
                bn.Bias?.CopyFrom(Torch.Randn([c], generator: g) * 0.3);
            }
    }

    static void Train(Module model, int[] inputShape, int steps, int seed)
    {
        var g = new Generator(seed);
        var opt = new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.05, Momentum = 0.9 });
        model.Train();
        for (int i = 0; i < steps; i++)
        {
            var x = Torch.Randn(inputShape, generator: g) * 2 + 0.5;
            var y = Torch.Randint(0, 10, [inputShape[0]], generator: g);
            opt.ZeroGrad();
            F.CrossEntropy(model.Call(x), y).Backward();
            opt.Step();
        }
    }

    static Tensor EvalOutput(Module model, Tensor x)
    {
        model.Eval();
        using (Torch.NoGrad()) return model.Call(x);
    }

    [Theory]
    [InlineData(true, 1, 1, 1)]
    [InlineData(false, 2, 2, 1)]
    [InlineData(true, 1, 1, 2)]
    public void Fused_conv_equals_conv_then_eval_bn(bool bias, int stride, int groups, int dilation)
    {
        Torch.ManualSeed(3);
        var conv = new Conv2d(4, 6, 3, stride: stride, padding: 1, dilation: dilation, groups: groups, bias: bias);
        var bn = new BatchNorm2d(6);
        RandomizeStats(bn, 5);
        bn.Eval();
        var x = Torch.Randn([2, 4, 9, 9], generator: new Generator(7));
        var fused = Fusion.FuseConvBn(conv, bn);
        using (Torch.NoGrad()) TestUtil.Close(bn.Call(conv.Call(x)), fused.Call(x), rtol: 1e-5, atol: 1e-5);
        Assert.NotNull(fused.Bias);
        Assert.Equal((conv.Stride, conv.Padding, conv.Dilation, conv.Groups), (fused.Stride, fused.Padding, fused.Dilation, fused.Groups));
    }

    [Fact]
    public void Fused_weights_follow_the_notes_formula()
    {
        // ŵ = γ/√(var+ε)·w, b̂ = γ/√(var+ε)·(b − mean) + β on a 1×1 single-channel case.
        var conv = new Conv2d(1, 1, 1);
        var bn = new BatchNorm2d(1, eps: 0.25);
        using (Torch.NoGrad())
        {
            conv.Weight.FillInPlace(2); conv.Bias!.FillInPlace(1);
            bn.RunningMean!.FillInPlace(3); bn.RunningVar!.FillInPlace(3.75);   // √(3.75 + 0.25) = 2
            bn.Weight!.FillInPlace(4); bn.Bias!.FillInPlace(0.5);
        }
        var fused = Fusion.FuseConvBn(conv, bn);
        Assert.Equal(4.0, fused.Weight.Item(), 6);                // 4/2 · 2
        Assert.Equal(4.0 / 2 * (1 - 3) + 0.5, fused.Bias!.Item(), 6);
    }

    [Fact]
    public void Mismatched_or_statless_batch_norm_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Fusion.FuseConvBn(new Conv2d(3, 8, 3), new BatchNorm2d(4)));
        Assert.Contains("FuseConvBn", ex.Message);
        Assert.Contains("4 features", ex.Message);
        Assert.Contains("8 output channels", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => Fusion.FuseConvBn(new Conv2d(3, 4, 3), new BatchNorm2d(4, trackRunningStats: false)));
        Assert.Contains("running statistics", ex2.Message);
    }

    [Fact]
    public void Small_cnn_fused_after_training_matches_unfused_eval()
    {
        Torch.ManualSeed(11);
        var model = new Sequential(
            new Conv2d(1, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 16, 3, padding: 1, bias: false), new BatchNorm2d(16), new ReLU(),
            new AdaptiveAvgPool2d(1), new Flatten(), new Linear(16, 10));
        Train(model, [8, 1, 12, 12], steps: 4, seed: 12);
        var x = Torch.Randn([4, 1, 12, 12], generator: new Generator(13));
        var expected = EvalOutput(model, x);
        var (fusedModel, count) = Fusion.FuseModel(model);
        Assert.Equal(2, count);
        Assert.Empty(fusedModel.Modules().OfType<BatchNorm2d>());
        Assert.IsType<Identity>(((Sequential)fusedModel)[1]);
        TestUtil.Close(expected, EvalOutput(fusedModel, x), rtol: 1e-5, atol: 1e-5);
        Assert.Equal(0, Fusion.FuseModel(fusedModel).Fused);   // idempotent
    }

    [Fact]
    public void ResNet_small_fused_after_training_matches_unfused_eval()
    {
        Torch.ManualSeed(21);
        var model = ResNet.Small(width: 8);
        Train(model, [8, 1, 16, 16], steps: 3, seed: 22);
        var x = Torch.Randn([3, 1, 16, 16], generator: new Generator(23));
        var expected = EvalOutput(model, x);
        long before = model.ParameterCount();
        int bns = model.Modules().OfType<BatchNorm2d>().Count();
        var (_, count) = Fusion.FuseModel(model);
        // stem 1 + 6 blocks × 2 + 2 downsample pairs.
        Assert.Equal(15, bns);
        Assert.Equal(15, count);
        Assert.Empty(model.Modules().OfType<BatchNorm2d>());
        Assert.Contains("conv1.bias", model.StateDict().Keys);   // the stem's fused conv is the registered one
        Assert.True(model.ParameterCount() < before);           // γ, β gone; conv biases added (fewer)
        TestUtil.Close(expected, EvalOutput(model, x), rtol: 1e-5, atol: 1e-5);
    }

    [Fact]
    public void Bottleneck_and_ConvBnSiLU_fuse_their_own_pairs()
    {
        Torch.ManualSeed(31);
        var block = new Bottleneck(8, 4, stride: 2);
        RandomizeStats(block, 32);
        var x = Torch.Randn([2, 8, 8, 8], generator: new Generator(33));
        var expected = EvalOutput(block, x);
        Assert.Equal(4, Fusion.FuseModel(block).Fused);       // three pairs + downsample
        TestUtil.Close(expected, EvalOutput(block, x), rtol: 1e-5, atol: 1e-5);

        var focus = new Focus(3, 8, kernelSize: 3);
        RandomizeStats(focus, 34);
        var xf = Torch.Randn([2, 3, 8, 8], generator: new Generator(35));
        var expectedFocus = EvalOutput(focus, xf);
        Assert.Equal(1, Fusion.FuseModel(focus).Fused);
        TestUtil.Close(expectedFocus, EvalOutput(focus, xf), rtol: 1e-5, atol: 1e-5);
    }
}
