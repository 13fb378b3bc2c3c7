using Ember.Autograd;

namespace Ember.Tests.Autograd;

/// <summary>Custom autograd functions (torch.autograd.Function): recording, context, errors, and training through one.</summary>
public class FunctionTests
{
    /// <summary>Legendre P3, ½(5x³ − 3x), with a hand-written backward that saves its input (PyTorch's tutorial function).</summary>
    sealed class LegendreP3 : Function
    {
        public override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0]);
            return (inputs[0].Pow(3) * 5.0 - inputs[0] * 3.0) * 0.5;
        }

        public override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            var x = ctx.SavedTensors[0];
            return [gradOutput * ((x * x * 5.0 - 1.0) * 1.5)];
        }
    }

    /// <summary>x·w + shift, where the scalar shift arrives through the context; w's gradient only when it is needed.</summary>
    sealed class ScaleShift(double shift) : Function
    {
        public bool[]? SeenNeeds;
        public override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0], inputs[1]);
            ctx["shift"] = shift;
            return inputs[0] * inputs[1] + shift;
        }

        public override Tensor?[] Backward(FunctionContext ctx, Tensor g)
        {
            SeenNeeds = [ctx.NeedsInputGrad[0], ctx.NeedsInputGrad[1]];
            Assert.Equal(shift, ctx.Get<double>("shift"));
            var (x, w) = (ctx.SavedTensors[0], ctx.SavedTensors[1]);
            return [ctx.NeedsInputGrad[0] ? g * w : null, ctx.NeedsInputGrad[1] ? g * x : null];
        }
    }

    // Reference values: libtorch 2.10 via ../shared/tools/torch-oracle, script Reference/Autograd/function.oracle.csx
    // (P3 composed from torch ops, gradient of sum(P3(x)·v)).
    static readonly double[] X = [-1.5, -0.7, -0.1, 0.0, 0.3, 0.9, 1.2, 2.0];
    static readonly double[] V = [0.5, -1.0, 2.0, 1.5, -0.25, 1.0, 0.75, -2.0];
    static readonly double[] TorchY = [-6.1875, 0.1925, 0.14750000000000002, 0, -0.38249999999999995, 0.47250000000000014, 2.5200000000000005, 17];
    static readonly double[] TorchGrad = [7.6875, -2.1749999999999994, -2.85, -2.25, 0.20625, 4.575, 6.975000000000001, -57];

    [Fact]
    public void ForwardAndBackwardMatchTorchAndNodeIsNamedAfterTheClass()
    {
        var x = Torch.Tensor(X).RequiresGradInPlace();
        var y = new LegendreP3().Apply(x);
        Assert.Equal("LegendreP3Backward", y.GradFn);
        TestUtil.Close(TorchY, y, 1e-12, 1e-12);
        (y * Torch.Tensor(V)).Sum().Backward();
        TestUtil.Close(TorchGrad, x.Grad!, 1e-12, 1e-12);
    }

    [Fact]
    public void GradCheckAndSecondOrderThroughTheCustomBackward()
    {
        var x = TestUtil.Leaf([3, 4], 5);
        GradCheck.Check(xs => new LegendreP3().Apply(xs[0]), [x]);
        // the backward is written with Ember's ops, so create_graph makes it differentiable
        GradCheck.CheckSecondOrder(xs => new LegendreP3().Apply(xs[0]), [x]);
    }

    [Fact]
    public void NeedsInputGradTellsBackwardWhichGradientsToComputeAndContextCarriesValues()
    {
        var x = TestUtil.Leaf([2, 3], 1);
        var w = Torch.Randn([2, 3], DType.Float64, new Generator(2));   // no grad
        var f = new ScaleShift(0.5);
        var y = f.Apply(x, w);
        TestUtil.Close(x.Detach() * w + 0.5, y, 1e-15, 0);
        y.Sum().Backward();
        Assert.Equal([true, false], f.SeenNeeds!);
        TestUtil.Close(w, x.Grad!, 1e-15, 0);
        GradCheck.Check(xs => new ScaleShift(-1).Apply(xs[0], xs[1]), [TestUtil.Leaf([2, 3], 3), TestUtil.Leaf([2, 3], 4)]);
    }

    [Fact]
    public void NothingIsRecordedUnderNoGradOrWithoutInputsThatRequireGrad()
    {
        var x = TestUtil.Leaf([3], 1);
        using (Torch.NoGrad()) Assert.Null(new LegendreP3().Apply(x).GradFn);
        Assert.False(new LegendreP3().Apply(x.Detach()).RequiresGrad);
    }

    sealed class ArgMaxOneHot : Function
    {
        public override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var y = inputs[0].Eq(inputs[0].Max()).To(DType.Float64);
            ctx.MarkNonDifferentiable(y);
            return y;
        }
        public override Tensor?[] Backward(FunctionContext ctx, Tensor g) => throw new InvalidOperationException("never called");
    }

    [Fact]
    public void MarkedNonDifferentiableOutputDoesNotRequireGrad()
    {
        var x = TestUtil.Leaf([4], 1);
        var y = new ArgMaxOneHot().Apply(x);
        Assert.False(y.RequiresGrad);
        Assert.Null(y.GradFn);
        Assert.Equal(1.0, y.Sum().Item());
    }

    sealed class Identity : Function
    {
        public override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0];
        public override Tensor?[] Backward(FunctionContext ctx, Tensor g) => [g * 2.0];
    }

    [Fact]
    public void ReturningAnInputUnchangedRecordsOnAnAliasNotOnTheInput()
    {
        var x = TestUtil.Leaf([3], 1);
        var h = x * 1.0;
        var y = new Identity().Apply(h);
        Assert.NotSame(h, y);
        Assert.Equal("MulBackward0", h.GradFn);
        Assert.Equal("IdentityBackward", y.GradFn);
        y.Sum().Backward();
        TestUtil.Close(Torch.Full([3], 2.0, DType.Float64), x.Grad!, 0, 0);
    }

    sealed class WrongCount : Function
    {
        public override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0] + inputs[1];
        public override Tensor?[] Backward(FunctionContext ctx, Tensor g) => [g];
    }

    [Fact]
    public void BackwardReturningTheWrongNumberOfGradientsNamesTheFunction()
    {
        var y = new WrongCount().Apply(TestUtil.Leaf([2], 1), TestUtil.Leaf([2], 2));
        var e = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("WrongCountBackward", e.Message);
        Assert.Contains("expected 2, got 1", e.Message);
    }

    [Fact]
    public void InPlaceChangeOfASavedTensorIsDetected()
    {
        var x = TestUtil.Leaf([3], 1);
        var h = x * 1.0;
        var y = new LegendreP3().Apply(h);
        using (Torch.NoGrad()) h.AddInPlace(1.0);
        var e = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("LegendreP3Backward", e.Message);
    }

    /// <summary>The docs' straight-through estimator: round in forward, identity in backward.</summary>
    sealed class RoundSte : Function
    {
        public override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0].Round();
        public override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) => [gradOutput];
    }

    [Fact]
    public void StraightThroughEstimatorTrainsAQuantizedRegressionWhereRoundAloneCannot()
    {
        // y = round(x·w) should learn w ≈ 3 from targets 3x; round's own gradient is zero everywhere.
        var x = Torch.Tensor([1.0, 2.0, -1.0, 3.0, -2.0]);
        var target = x * 3.0;
        double Train(Func<Tensor, Tensor> quantize)
        {
            var w = Torch.Tensor([0.2]).RequiresGradInPlace();
            var opt = new Ember.Optim.Sgd([w], new Ember.Optim.SgdOptions { LearningRate = 0.02 });
            double loss = 0;
            for (int step = 0; step < 60; step++)
            {
                opt.ZeroGrad();
                var l = (quantize(x * w) - target).Square().Mean();
                l.Backward();
                opt.Step();
                loss = l.Item();
            }
            return loss;
        }
        double ste = Train(t => new RoundSte().Apply(t)), plain = Train(t => t.Round());
        Assert.True(ste < 1e-9, $"straight-through training ended at loss {ste}");
        Assert.True(plain > 10, $"round without STE should not train, ended at loss {plain}");
    }
}
