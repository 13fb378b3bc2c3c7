using Ember.Nn;
using Ember.Optim;

namespace Ember.Tests.Optim;

/// <summary>
/// Trajectories of every optimizer and option against PyTorch's update (OptimizerReference, made by tools/oracle/optimizers.cs):
/// the same two parameters and the same six gradients; every intermediate parameter value must agree to 1e-6 relative.
/// </summary>
public class OptimizerTests
{
    const int Steps = 6;

    static Parameter[] NewParams() =>
    [
        new Parameter(Torch.FromArray(Enumerable.Range(0, 6).Select(i => (float)(0.5 * Math.Cos(1.1 * i))).ToArray(), [2, 3])),
        new Parameter(Torch.FromArray(Enumerable.Range(0, 4).Select(i => (float)(1 - 0.3 * i)).ToArray(), [4])),
    ];

    static Tensor GradAt(Tensor p, int j, int t) => Torch.FromArray(
        Enumerable.Range(0, p.NumEl).Select(i => (float)(Math.Sin(0.9 * i + 1.7 * j + 0.6 * t + 0.3) * 2.0 / (1 + t))).ToArray(), p.Shape.ToArray());

    static double[] Run(Func<Parameter[], Optimizer> make, int steps = Steps, Parameter[]? ps = null, Optimizer? opt = null, int firstStep = 0)
    {
        ps ??= NewParams();
        opt ??= make(ps);
        var trace = new List<double>();
        for (int t = firstStep; t < firstStep + steps; t++)
        {
            for (int j = 0; j < ps.Length; j++) ps[j].Grad = GradAt(ps[j], j, t);
            opt.Step();
            foreach (var p in ps) trace.AddRange(p.ToDoubleArray());
        }
        return trace.ToArray();
    }

    static void Check(double[] expected, Func<Parameter[], Optimizer> make) => TestUtil.Close(expected, Run(make), rtol: 1e-6, atol: 1e-7);

    public static TheoryData<string> Names => new(typeof(OptimizerReference).GetFields().Select(f => f.Name));

    static Optimizer Make(string name, Parameter[] ps) => name switch
    {
        "SgdPlain" => new Sgd(ps, new() { LearningRate = 0.1 }),
        "SgdMomentum" => new Sgd(ps, new() { LearningRate = 0.1, Momentum = 0.9 }),
        "SgdDampening" => new Sgd(ps, new() { LearningRate = 0.1, Momentum = 0.9, Dampening = 0.5 }),
        "SgdNesterov" => new Sgd(ps, new() { LearningRate = 0.1, Momentum = 0.9, Nesterov = true }),
        "SgdWeightDecay" => new Sgd(ps, new() { LearningRate = 0.1, Momentum = 0.5, WeightDecay = 0.1 }),
        "SgdMaximize" => new Sgd(ps, new() { LearningRate = 0.1, Momentum = 0.9, Maximize = true }),
        "SgdMaximizeWeightDecay" => new Sgd(ps, new() { LearningRate = 0.1, Momentum = 0.9, WeightDecay = 0.1, Maximize = true }),
        "SgdGroups" => new Sgd([new ParamGroup<SgdOptions>([ps[0]]), new ParamGroup<SgdOptions>([ps[1]], o => o with { LearningRate = 0.01 })],
            new SgdOptions { LearningRate = 0.1, Momentum = 0.9 }),
        "AdagradPlain" => new Adagrad(ps, new() { LearningRate = 0.1 }),
        "AdagradLrDecay" => new Adagrad(ps, new() { LearningRate = 0.1, LrDecay = 0.05 }),
        "AdagradWeightDecay" => new Adagrad(ps, new() { LearningRate = 0.1, WeightDecay = 0.1 }),
        "AdagradInitialAccumulator" => new Adagrad(ps, new() { LearningRate = 0.1, InitialAccumulatorValue = 0.5 }),
        "AdagradEps" => new Adagrad(ps, new() { LearningRate = 0.1, Eps = 0.1 }),
        "AdagradMaximize" => new Adagrad(ps, new() { LearningRate = 0.1, WeightDecay = 0.1, Maximize = true }),
        "RmsPropPlain" => new RmsProp(ps, new() { LearningRate = 0.01 }),
        "RmsPropAlpha" => new RmsProp(ps, new() { LearningRate = 0.01, Alpha = 0.9 }),
        "RmsPropEps" => new RmsProp(ps, new() { LearningRate = 0.01, Eps = 1e-2 }),
        "RmsPropWeightDecay" => new RmsProp(ps, new() { LearningRate = 0.01, WeightDecay = 0.1 }),
        "RmsPropMomentum" => new RmsProp(ps, new() { LearningRate = 0.01, Momentum = 0.9 }),
        "RmsPropCentered" => new RmsProp(ps, new() { LearningRate = 0.01, Centered = true }),
        "RmsPropCenteredMomentum" => new RmsProp(ps, new() { LearningRate = 0.01, Momentum = 0.5, Centered = true }),
        "RmsPropMaximize" => new RmsProp(ps, new() { LearningRate = 0.01, WeightDecay = 0.1, Maximize = true }),
        "AdamPlain" => new Adam(ps, new() { LearningRate = 0.01 }),
        "AdamBetas" => new Adam(ps, new() { LearningRate = 0.01, Betas = (0.8, 0.99) }),
        "AdamEps" => new Adam(ps, new() { LearningRate = 0.01, Eps = 1e-3 }),
        "AdamWeightDecay" => new Adam(ps, new() { LearningRate = 0.01, WeightDecay = 0.1 }),
        "AdamAmsgrad" => new Adam(ps, new() { LearningRate = 0.01, Amsgrad = true }),
        "AdamMaximize" => new Adam(ps, new() { LearningRate = 0.01, WeightDecay = 0.1, Maximize = true }),
        "AdamWDefault" => new AdamW(ps, new() { LearningRate = 0.01 }),
        "AdamWWeightDecay" => new AdamW(ps, new() { LearningRate = 0.01, WeightDecay = 0.1 }),
        "AdamWAmsgrad" => new AdamW(ps, new() { LearningRate = 0.01, WeightDecay = 0.1, Amsgrad = true }),
        "AdamWMaximize" => new AdamW(ps, new() { LearningRate = 0.01, WeightDecay = 0.1, Maximize = true }),
        "AdamaxPlain" => new Adamax(ps, new() { LearningRate = 0.01 }),
        "AdamaxBetas" => new Adamax(ps, new() { LearningRate = 0.01, Betas = (0.8, 0.9) }),
        "AdamaxEps" => new Adamax(ps, new() { LearningRate = 0.01, Eps = 0.1 }),
        "AdamaxWeightDecay" => new Adamax(ps, new() { LearningRate = 0.01, WeightDecay = 0.1 }),
        "AdamaxMaximize" => new Adamax(ps, new() { LearningRate = 0.01, WeightDecay = 0.1, Maximize = true }),
        "NAdamPlain" => new NAdam(ps, new() { LearningRate = 0.01 }),
        "NAdamBetas" => new NAdam(ps, new() { LearningRate = 0.01, Betas = (0.8, 0.99) }),
        "NAdamWeightDecay" => new NAdam(ps, new() { LearningRate = 0.01, WeightDecay = 0.1 }),
        "NAdamMomentumDecay" => new NAdam(ps, new() { LearningRate = 0.01, MomentumDecay = 0.05 }),
        "NAdamDecoupled" => new NAdam(ps, new() { LearningRate = 0.01, WeightDecay = 0.1, DecoupledWeightDecay = true }),
        "NAdamMaximize" => new NAdam(ps, new() { LearningRate = 0.01, WeightDecay = 0.1, Maximize = true }),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void A_parameter_without_a_gradient_is_not_moved_by_weight_decay_or_momentum(string name)
    {
        // as PyTorch's step skips a parameter whose grad is None: neither its weight decay nor its momentum or moments
        // (built up by the steps while it still had gradients) move it; the other parameter keeps training
        var ps = NewParams();
        var opt = Make(name, ps);
        Run(_ => opt, steps: 2, ps: ps, opt: opt);
        var frozen = ps[1].ToArray<float>();
        for (int t = 2; t < 5; t++)
        {
            var trained = ps[0].ToArray<float>();
            ps[0].Grad = GradAt(ps[0], 0, t);
            ps[1].Grad = null;
            opt.Step();
            Assert.Equal(frozen, ps[1].ToArray<float>());
            Assert.NotEqual(trained, ps[0].ToArray<float>());
        }

        // one that never had a gradient keeps its initial bits and gets no state
        var fresh = NewParams();
        var initial = fresh[1].ToArray<float>();
        var second = Make(name, fresh);
        for (int t = 0; t < 3; t++)
        {
            fresh[0].Grad = GradAt(fresh[0], 0, t);
            second.Step();
        }
        Assert.Equal(initial, fresh[1].ToArray<float>());
        var saved = second.StateDict();
        Assert.Contains(saved.Tensors.Keys.Concat(saved.Scalars.Keys), k => k.StartsWith("state.0.", StringComparison.Ordinal) || name == "SgdPlain");
        Assert.DoesNotContain(saved.Tensors.Keys.Concat(saved.Scalars.Keys), k => k.StartsWith("state.1.", StringComparison.Ordinal));
    }

    [Fact]
    public void A_parameter_that_does_not_require_grad_gets_no_gradient_and_no_update()
    {
        var ps = NewParams();
        ps[1].RequiresGrad = false;
        var opt = new Sgd(ps, new() { LearningRate = 0.1, Momentum = 0.9, Nesterov = true, WeightDecay = 0.1 });
        var before = ps[1].ToArray<float>();
        for (int t = 0; t < 3; t++)
        {
            opt.ZeroGrad();
            (ps[0].Square().Sum() + ps[1].Square().Sum()).Backward();
            Assert.Null(ps[1].Grad);
            Assert.NotNull(ps[0].Grad);
            opt.Step();
        }
        Assert.Equal(before, ps[1].ToArray<float>());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void TrajectoryMatchesPyTorch(string name)
    {
        var expected = (double[])typeof(OptimizerReference).GetField(name)!.GetValue(null)!;
        Check(expected, ps => Make(name, ps));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Float64FollowsTheFloat32Trajectory(string name)
    {
        // The float64 path runs the same rule: it must land within float32 rounding of PyTorch's float32 trajectory.
        var expected = (double[])typeof(OptimizerReference).GetField(name)!.GetValue(null)!;
        var ps = NewParams().Select(p => new Parameter(p.To(DType.Float64))).ToArray();
        var opt = Make(name, ps);
        var trace = new List<double>();
        for (int t = 0; t < Steps; t++)
        {
            for (int j = 0; j < ps.Length; j++) ps[j].Grad = GradAt(ps[j], j, t).To(DType.Float64);
            opt.Step();
            foreach (var p in ps) trace.AddRange(p.ToDoubleArray());
        }
        Assert.Equal(DType.Float64, ps[0].DType);
        TestUtil.Close(expected, trace.ToArray(), rtol: 1e-5, atol: 1e-6);
    }

    [Theory]
    [InlineData("SgdNesterov")]
    [InlineData("AdagradLrDecay")]
    [InlineData("RmsPropCenteredMomentum")]
    [InlineData("AdamAmsgrad")]
    [InlineData("AdamWAmsgrad")]
    [InlineData("AdamaxWeightDecay")]
    [InlineData("NAdamWeightDecay")]
    public void StateDictRoundTripResumesBitIdentically(string name)
    {
        var straight = Run(ps => Make(name, ps));

        var ps = NewParams();
        var first = Make(name, ps);
        var head = Run(_ => first, steps: 3, ps: ps, opt: first);
        var saved = first.StateDict();
        // A fresh optimizer over the same parameters, loaded from the saved state, continues the run.
        var resumed = Make(name, ps);
        resumed.LoadStateDict(saved);
        var tail = Run(_ => resumed, steps: 3, ps: ps, opt: resumed, firstStep: 3);
        Assert.Equal(straight, head.Concat(tail).ToArray());
    }

    [Fact]
    public void StateDictIsPlainDataWithPyTorchKeys()
    {
        var ps = NewParams();
        var opt = new Adam(ps, new() { LearningRate = 0.01, Amsgrad = true });
        Run(_ => opt, steps: 2, ps: ps, opt: opt);
        var dict = opt.StateDict();
        Assert.Equal(2, dict.Scalars["state.1.step"]);
        Assert.Equal(0.01, dict.Scalars["param_groups.0.lr"]);
        Assert.Equal(0.999, dict.Scalars["param_groups.0.betas.1"]);
        Assert.Equal(new long[] { 0, 1 }, dict.Tensors["param_groups.0.params"].ToArray<long>());
        Assert.Equal(opt.State(ps[1])!.ExpAvgSq.ToArray<float>(), dict.Tensors["state.1.exp_avg_sq"].ToArray<float>());
        // The saved tensors are copies: stepping on does not change the checkpoint.
        var before = dict.Tensors["state.0.exp_avg"].ToArray<float>();
        Run(_ => opt, steps: 1, ps: ps, opt: opt, firstStep: 2);
        Assert.Equal(before, dict.Tensors["state.0.exp_avg"].ToArray<float>());
        Assert.NotEqual(before, opt.State(ps[0])!.ExpAvg.ToArray<float>());
    }

    [Fact]
    public void LoadStateDictRestoresHyperParametersAndRejectsOtherGroupSizes()
    {
        var ps = NewParams();
        var opt = new Sgd(ps, new() { LearningRate = 0.1, Momentum = 0.9 });
        var dict = opt.StateDict();
        opt.Groups[0].Options.LearningRate = 0.5;
        opt.LoadStateDict(dict);
        Assert.Equal(0.1, opt.ParamGroups[0].LearningRate);

        var other = new Sgd([ps[0]], new() { LearningRate = 0.1 });
        var ex = Assert.Throws<ArgumentException>(() => other.LoadStateDict(dict));
        Assert.Contains("SGD", ex.Message);
        Assert.Contains("2 parameters", ex.Message);
    }

    [Fact]
    public void ParamGroupsFillMissingOptionsFromDefaults()
    {
        var ps = NewParams();
        var opt = new AdamW([new ParamGroup<AdamWOptions>([ps[0]], o => o with { LearningRate = 1e-4 }),
                             new ParamGroup<AdamWOptions>([ps[1]], o => o with { WeightDecay = 0 })],
                            new AdamWOptions { LearningRate = 1e-3, Betas = (0.8, 0.9) });
        Assert.Equal(1e-4, opt.Groups[0].Options.LearningRate);
        Assert.Equal(0.01, opt.Groups[0].Options.WeightDecay);
        Assert.Equal(1e-3, opt.Groups[1].Options.LearningRate);
        Assert.Equal(0, opt.Groups[1].Options.WeightDecay);
        Assert.Equal((0.8, 0.9), opt.Groups[1].Options.Betas);
        // Groups own copies: changing one group's lr leaves the defaults and the other group alone.
        opt.Groups[0].Options.LearningRate = 5;
        Assert.Equal(1e-3, opt.Defaults.LearningRate);
        Assert.Equal(1e-3, opt.Groups[1].Options.LearningRate);
    }

    [Fact]
    public void AddParamGroupTrainsTheNewGroupWithItsOwnRate()
    {
        var ps = NewParams();
        var opt = new Sgd([ps[0]], new() { LearningRate = 0.1 });
        opt.AddParamGroup(new ParamGroup<SgdOptions>([ps[1]], o => o with { LearningRate = 0.5 }));
        var before = ps[1].ToArray<float>();
        ps[0].Grad = Torch.OnesLike(ps[0]);
        ps[1].Grad = Torch.OnesLike(ps[1]);
        opt.Step();
        var after = ps[1].ToArray<float>();
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i] - 0.5f, after[i]);
    }

    [Fact]
    public void ParametersWithoutGradAreSkippedAndKeepNoState()
    {
        var ps = NewParams();
        var opt = new Adam(ps);
        var before = ps[1].ToArray<float>();
        ps[0].Grad = Torch.OnesLike(ps[0]);
        opt.Step();
        Assert.Equal(before, ps[1].ToArray<float>());
        Assert.Null(opt.State(ps[1]));
        Assert.Equal(1, opt.State(ps[0])!.Step);
    }

    [Fact]
    public void ZeroGradSetsToNoneOrZeros()
    {
        var ps = NewParams();
        var opt = new Sgd(ps);
        ps[0].Grad = Torch.OnesLike(ps[0]);
        ps[1].Grad = Torch.OnesLike(ps[1]);
        var grad1 = ps[1].Grad!;
        opt.ZeroGrad(setToNone: false);
        Assert.Same(grad1, ps[1].Grad);
        Assert.All(grad1.ToArray<float>(), v => Assert.Equal(0f, v));
        opt.ZeroGrad();
        Assert.Null(ps[0].Grad);
        Assert.Null(ps[1].Grad);
    }

    [Fact]
    public void StepWithClosureReturnsTheLossAndUsesItsGradients()
    {
        var w = new Parameter(Torch.Tensor(new float[] { 1, -2 }));
        var opt = new Sgd([w], new() { LearningRate = 0.25 });
        Tensor Closure()
        {
            opt.ZeroGrad();
            var loss = (w * w).Sum();
            loss.Backward();
            return loss;
        }
        var l = opt.Step(Closure);
        Assert.Equal(5.0, l.Item(), 6);
        Assert.Equal(new float[] { 0.5f, -1f }, w.ToArray<float>());
    }

    [Fact]
    public void UpdatesNonContiguousParametersInPlace()
    {
        var baseTensor = Torch.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        var p = baseTensor.T.Detach().RequiresGradInPlace();   // a transposed view: not contiguous
        Assert.False(p.IsContiguous);
        var opt = new Sgd([p], new() { LearningRate = 1 });
        p.Grad = Torch.OnesLike(p);
        opt.Step();
        Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5 }, baseTensor.ToArray<float>());
    }
}
