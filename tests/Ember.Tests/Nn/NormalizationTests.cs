using Ember.Autograd;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using static Ember.Tests.Nn.NnTestUtil;

namespace Ember.Tests.Nn;

public class NormalizationTests
{
    static Tensor BnStep(int t) => Det([4, 3, 2, 2], 0.31 + 0.05 * t, 0.2 * t, 2.0) + 0.5 * t;

    [Fact]
    public void BatchNorm2d_running_statistics_after_three_steps_match_PyTorch()
    {
        var bn = new BatchNorm2d(3);
        Assert.Equal(["weight", "bias"], bn.NamedParameters().Select(p => p.Name));
        Assert.Equal(["running_mean", "running_var", "num_batches_tracked"], bn.NamedBuffers().Select(b => b.Name));
        Set(bn.Weight!, Det([3], 0.7, 0.2, 0.5) + 1);
        Set(bn.Bias!, Det([3], 0.5, 0.3, 0.5));
        Tensor x = null!, y = null!;
        for (int t = 0; t < 3; t++)
        {
            x = Leaf(BnStep(t));
            y = bn.Call(x);
        }
        Backward(y);
        Close("bn2d.y3", y);
        Close("bn2d.dx3", x.Grad!, rtol: 1e-4, atol: 1e-5);
        Close("bn2d.dw3", bn.Weight!.Grad!);
        Close("bn2d.db3", bn.Bias!.Grad!);
        Close("bn2d.running_mean", bn.RunningMean!);
        Close("bn2d.running_var", bn.RunningVar!);
        Assert.Equal(3L, bn.NumBatchesTracked!.Item<long>());
        bn.Eval();
        Close("bn2d.eval_y", bn.Call(Det([2, 3, 2, 2], 0.53, 0.1, 1.5)));
        Assert.Equal(3L, bn.NumBatchesTracked!.Item<long>());
    }

    [Fact]
    public void BatchNorm_with_momentum_null_keeps_a_cumulative_average()
    {
        var bn = new BatchNorm2d(3, momentum: null);
        for (int t = 0; t < 3; t++) bn.Call(BnStep(t));
        Close("bn2d_cma.running_mean", bn.RunningMean!);
        Close("bn2d_cma.running_var", bn.RunningVar!);
    }

    [Fact]
    public void BatchNorm1d_accepts_2d_and_3d_inputs()
    {
        var bn = new BatchNorm1d(3);
        Set(bn.Weight!, Det([3], 0.7, 0.2, 0.5) + 1);
        Set(bn.Bias!, Det([3], 0.5, 0.3, 0.5));
        var x = Leaf(Det([5, 3], 0.43, 0.9, 1.7));
        var y = bn.Call(x);
        Backward(y);
        Close("bn1d.y", y);
        Close("bn1d.dx", x.Grad!, rtol: 1e-4, atol: 1e-5);
        Close("bn1d.running_var", bn.RunningVar!);

        var bn3 = new BatchNorm1d(3, affine: false);
        Assert.Empty(bn3.Parameters());
        var x3 = Leaf(Det([4, 3, 2], 0.43, 0.9, 1.7));
        var y3 = bn3.Call(x3);
        Backward(y3);
        Close("bn1d3.y", y3);
        Close("bn1d3.dx", x3.Grad!, rtol: 1e-4, atol: 1e-5);
        Close("bn1d3.running_mean", bn3.RunningMean!);
        Close("bn1d3.running_var", bn3.RunningVar!);
    }

    [Fact]
    public void BatchNorm_errors_name_the_module_and_the_sizes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new BatchNorm2d(3).Call(Torch.Zeros(2, 4, 5, 5)));
        Assert.Equal("BatchNorm2d: expected input with 3 channels, got 4 (input shape [2, 4, 5, 5])", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => new BatchNorm2d(3).Call(Torch.Zeros(2, 3, 5)));
        Assert.Contains("BatchNorm2d: expected 4D input (got 3D input", ex2.Message);
        var ex3 = Assert.Throws<ArgumentException>(() => new BatchNorm1d(3).Call(Torch.Zeros(1, 3)));
        Assert.Contains("more than 1 value per channel", ex3.Message);
        Assert.Contains("[1, 3]", ex3.Message);
    }

    [Fact]
    public void BatchNorm_without_tracking_uses_batch_statistics_in_eval_and_registers_no_buffers()
    {
        var bn = new BatchNorm1d(2, trackRunningStats: false);
        Assert.Empty(bn.Buffers());
        Assert.DoesNotContain("running_mean", bn.StateDict().Keys);
        bn.Eval();
        var y = bn.Call(Torch.Tensor(new float[,] { { 1, 10 }, { 3, 30 } }));
        TestUtil.Close([-1, -1, 1, 1], y, 1e-4, 1e-4);
    }

    [Fact]
    public void BatchNorm_float64_gradcheck_in_training_and_eval()
    {
        var x = TestUtil.Leaf([4, 3, 2], 1); var w = TestUtil.Leaf([3], 2, shift: 1); var b = TestUtil.Leaf([3], 3);
        GradCheck.Check(xs => F.BatchNorm(xs[0], null, null, xs[1], xs[2], training: true), [x, w, b]);
        var rm = Torch.Tensor(0.1, -0.2, 0.3); var rv = Torch.Tensor(1.5, 0.5, 2.0);
        GradCheck.Check(xs => F.BatchNorm(xs[0], rm, rv, xs[1], xs[2], training: false), [x, w, b]);
    }

    [Fact]
    public void LayerNorm_matches_PyTorch_and_passes_gradcheck()
    {
        var ln = new LayerNorm(4);
        Set(ln.Weight!, Det([4], 0.7, 0.2, 0.5) + 1);
        Set(ln.Bias!, Det([4], 0.5, 0.3, 0.5));
        var x = Leaf(X);
        var y = ln.Call(x);
        Backward(y);
        Close("ln.y", y);
        Close("ln.dx", x.Grad!, rtol: 1e-4, atol: 1e-5);
        Close("ln.dw", ln.Weight!.Grad!);
        Close("ln.db", ln.Bias!.Grad!);

        var ln34 = new LayerNorm([3, 4], elementwiseAffine: false);
        Assert.Empty(ln34.Parameters());
        var x2 = Leaf(X);
        var y2 = ln34.Call(x2);
        Backward(y2);
        Close("ln34.y", y2);
        Close("ln34.dx", x2.Grad!, rtol: 1e-4, atol: 1e-5);

        GradCheck.Check(xs => F.LayerNorm(xs[0], [4], xs[1], xs[2]), [TestUtil.Leaf([2, 3, 4], 4), TestUtil.Leaf([4], 5), TestUtil.Leaf([4], 6)]);
        var ex = Assert.Throws<ArgumentException>(() => ln.Call(Torch.Zeros(2, 5)));
        Assert.Contains("[4]", ex.Message);
        Assert.Contains("[2, 5]", ex.Message);
        Assert.Null(new LayerNorm(4, bias: false).Bias);
    }

    [Fact]
    public void LayerNorm_fused_backward_has_a_second_order_and_is_bit_identical_across_thread_counts()
    {
        // Double backward goes through the closed form built from differentiable ops.
        GradCheck.CheckSecondOrder(xs => F.LayerNorm(xs[0], [3, 4], xs[1], xs[2]),
            [TestUtil.Leaf([2, 3, 4], 7), TestUtil.Leaf([3, 4], 8), TestUtil.Leaf([3, 4], 9)]);

        // 37 rows: the weight and bias gradients sum over fixed row chunks, so 1 and 2 threads agree to the bit.
        Torch.ManualSeed(3);
        var x = Torch.Randn([37, 96]);
        var w = Torch.Randn([96]);
        var b = Torch.Randn([96]);
        var dy = Torch.Randn([37, 96]);
        float[][] Run()
        {
            var xl = x.Clone().RequiresGradInPlace(); var wl = w.Clone().RequiresGradInPlace(); var bl = b.Clone().RequiresGradInPlace();
            var y = F.LayerNorm(xl, [96], wl, bl);
            (y * dy).Sum().Backward();
            return [y.ToArray<float>(), xl.Grad!.ToArray<float>(), wl.Grad!.ToArray<float>(), bl.Grad!.ToArray<float>()];
        }
        int saved = Torch.NumThreads;
        try
        {
            Torch.NumThreads = 1;
            var one = Run();
            Torch.NumThreads = 2;
            var two = Run();
            for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], two[i]);
        }
        finally { Torch.NumThreads = saved; }
    }

    [Fact]
    public void LayerNorm_is_stable_for_a_large_offset()
    {
        // E[x²] − E[x]² would lose every digit here; the two-pass form keeps them.
        var x = Torch.Tensor(10000.0f, 10001.0f, 10002.0f, 10003.0f).Reshape(1, 4);
        var y = F.LayerNorm(x, [4], eps: 0);
        TestUtil.Close([-1.3416408, -0.4472136, 0.4472136, 1.3416408], y, 1e-5, 1e-5);
    }

    [Fact]
    public void GroupNorm_matches_PyTorch_and_checks_divisibility()
    {
        var gn = new GroupNorm(2, 4);
        Set(gn.Weight!, Det([4], 0.7, 0.2, 0.5) + 1);
        Set(gn.Bias!, Det([4], 0.5, 0.3, 0.5));
        var x = Leaf(Det([2, 4, 3], 0.47, 0.3, 3.0));
        var y = gn.Call(x);
        Backward(y);
        Close("gn.y", y);
        Close("gn.dx", x.Grad!, rtol: 1e-4, atol: 1e-5);
        Close("gn.dw", gn.Weight!.Grad!);
        Close("gn.db", gn.Bias!.Grad!);
        GradCheck.Check(xs => F.GroupNorm(xs[0], 2, xs[1], xs[2]), [TestUtil.Leaf([2, 4, 3], 4), TestUtil.Leaf([4], 5), TestUtil.Leaf([4], 6)]);
        var ex = Assert.Throws<ArgumentException>(() => new GroupNorm(3, 4));
        Assert.Contains("GroupNorm", ex.Message);
        Assert.Contains("(4)", ex.Message);
        Assert.Contains("(3)", ex.Message);
    }

    [Fact]
    public void InstanceNorm_matches_PyTorch_with_and_without_running_statistics()
    {
        var inorm = new InstanceNorm1d(3);
        Assert.Empty(inorm.Parameters());
        Assert.Empty(inorm.Buffers());
        var x = Leaf(X);
        var y = inorm.Call(x);
        Backward(y);
        Close("in1d.y", y);
        Close("in1d.dx", x.Grad!, rtol: 1e-4, atol: 1e-5);

        var tracked = new InstanceNorm1d(3, trackRunningStats: true);
        for (int t = 0; t < 2; t++) tracked.Call(Det([2, 3, 4], 0.37 + 0.1 * t, 0.1, 8.0));
        Close("in1d.running_mean", tracked.RunningMean!);
        Close("in1d.running_var", tracked.RunningVar!);

        // unbatched [C, H, W] equals the batched result of one sample
        var in2 = new InstanceNorm2d(2, affine: true);
        var img = Det([2, 3, 3], 0.3, 0.2, 1);
        TestUtil.Close(in2.Call(img.Unsqueeze(0)).Squeeze(0), in2.Call(img), 0, 0);
        GradCheck.Check(xs => F.InstanceNorm(xs[0], weight: xs[1], bias: xs[2]), [TestUtil.Leaf([2, 2, 3, 2], 4), TestUtil.Leaf([2], 5), TestUtil.Leaf([2], 6)]);
    }
}
