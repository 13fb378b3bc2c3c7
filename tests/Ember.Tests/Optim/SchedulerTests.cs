using Ember.Nn;
using Ember.Optim;
using Ember.Optim.Schedulers;

namespace Ember.Tests.Optim;

/// <summary>LR sequences of every scheduler over 35 steps against PyTorch's (SchedulerReference, made by tools/oracle/schedulers.cs).</summary>
public class SchedulerTests
{
    const int Steps = 35;

    static Sgd TwoGroups(double momentum = 0) => new(
        [new ParamGroup<SgdOptions>([new Parameter(Torch.Ones(3))]), new ParamGroup<SgdOptions>([new Parameter(Torch.Ones(2))], o => o with { LearningRate = 0.05 })],
        new SgdOptions { LearningRate = 0.1, Momentum = momentum });

    static double[] Lrs(Optimizer o) => o.ParamGroups.Select(g => g.LearningRate).ToArray();

    static (double[] Lrs, double[] Extra) Run(Optimizer opt, Func<Optimizer, LRScheduler> make, Func<Optimizer, double[]>? extra = null)
    {
        var s = make(opt);
        var seq = new List<double>(Lrs(opt));
        var ex = new List<double>(extra?.Invoke(opt) ?? []);
        Assert.Equal(Lrs(opt), s.GetLastLr());
        for (int t = 0; t < Steps; t++)
        {
            opt.Step();
            s.Step();
            seq.AddRange(Lrs(opt));
            if (extra != null) ex.AddRange(extra(opt));
            Assert.Equal(Lrs(opt), s.GetLastLr());
        }
        return (seq.ToArray(), ex.ToArray());
    }

    static void Check(double[] expected, double[] actual) => TestUtil.Close(expected, actual, rtol: 1e-12, atol: 1e-15);

    static double[] SgdMomentum(Optimizer o) => o.ParamGroups.Select(g => ((IMomentumOptions)g.Options).Momentum).ToArray();

    public static TheoryData<string> Simple => new("LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "MultiStepLRRepeatedMilestone", "ExponentialLR", "CosineAnnealingLR",
        "LinearLR", "LinearLRCustom", "ConstantLR", "PolynomialLR", "CosineAnnealingWarmRestarts", "SequentialLR", "ChainedScheduler");

    static LRScheduler Make(string name, Optimizer o) => name switch
    {
        "LambdaLR" => new LambdaLR(o, e => 1.0 / (1 + 0.3 * e)),
        "MultiplicativeLR" => new MultiplicativeLR(o, e => 0.95 - 0.001 * e),
        "StepLR" => new StepLR(o, 7, 0.5),
        "MultiStepLR" => new MultiStepLR(o, [3, 10, 22], 0.3),
        "MultiStepLRRepeatedMilestone" => new MultiStepLR(o, [3, 10, 10, 22], 0.3),
        "ExponentialLR" => new ExponentialLR(o, 0.9),
        "CosineAnnealingLR" => new CosineAnnealingLR(o, 12, 0.001),
        "LinearLR" => new LinearLR(o),
        "LinearLRCustom" => new LinearLR(o, 0.1, 0.8, 20),
        "ConstantLR" => new ConstantLR(o),
        "PolynomialLR" => new PolynomialLR(o, 20, 2.0),
        "CosineAnnealingWarmRestarts" => new CosineAnnealingWarmRestarts(o, 5, 2, 0.01),
        "SequentialLR" => new SequentialLR(o, [new LinearLR(o, 0.1, 1.0, 5), new CosineAnnealingLR(o, 25, 0.0)], [5]),
        "ChainedScheduler" => new ChainedScheduler([new ConstantLR(o, 0.5, 4), new ExponentialLR(o, 0.9)]),
        _ => throw new ArgumentException(name),
    };

    static double[] Reference(string name) => (double[])typeof(SchedulerReference).GetField(name)!.GetValue(null)!;

    [Theory]
    [MemberData(nameof(Simple))]
    public void SequenceMatchesPyTorch(string name) => Check(Reference(name), Run(TwoGroups(), o => Make(name, o)).Lrs);

    // PyTorch anneals each group on its own; with equal max_lr both groups follow the one-group reference
    // (TorchSharp's port leaks the phase start across groups, so the oracle runs one group).
    static double[] Group(double[] interleaved, int g) => interleaved.Where((_, i) => i % 2 == g).ToArray();

    [Fact]
    public void OneCycleCyclesSgdMomentum()
    {
        var (lrs, momentum) = Run(TwoGroups(0.9), o => new OneCycleLR(o, 0.5, totalSteps: Steps + 1), SgdMomentum);
        for (int g = 0; g < 2; g++)
        {
            Check(SchedulerReference.OneCycleLRSgd, Group(lrs, g));
            Check(SchedulerReference.OneCycleLRSgdMomentum, Group(momentum, g));
        }
    }

    [Fact]
    public void OneCycleLinearThreePhaseWithEpochs()
    {
        var (lrs, momentum) = Run(TwoGroups(0.9), o => new OneCycleLR(o, 0.5, epochs: 4, stepsPerEpoch: 9, pctStart: 0.25,
            annealStrategy: AnnealStrategy.Linear, threePhase: true, divFactor: 10, finalDivFactor: 100), SgdMomentum);
        for (int g = 0; g < 2; g++)
        {
            Check(SchedulerReference.OneCycleLRLinearThreePhase, Group(lrs, g));
            Check(SchedulerReference.OneCycleLRLinearThreePhaseMomentum, Group(momentum, g));
        }
    }

    [Fact]
    public void OneCyclePerGroupMaxLr()
    {
        var (lrs, _) = Run(TwoGroups(0.9), o => new OneCycleLR(o, [0.5, 0.25], totalSteps: Steps + 1));
        Check(SchedulerReference.OneCycleLRSgd, Group(lrs, 0));
        Check(SchedulerReference.OneCycleLRSgd.Select(v => v / 2).ToArray(), Group(lrs, 1));
    }

    [Fact]
    public void OneCycleCyclesAdamBeta1()
    {
        var adam = new Adam([new Parameter(Torch.Ones(3)), new Parameter(Torch.Ones(2))], new() { LearningRate = 0.01 });
        var (lrs, beta1) = Run(adam, o => new OneCycleLR(o, 0.02, totalSteps: Steps + 5, baseMomentum: 0.8, maxMomentum: 0.9),
            o => o.ParamGroups.Select(g => ((IBetasOptions)g.Options).Betas.Beta1).ToArray());
        Check(SchedulerReference.OneCycleLRAdam, lrs);
        Check(SchedulerReference.OneCycleLRAdamBeta1, beta1);
        Assert.Equal(0.999, adam.Groups[0].Options.Betas.Beta2);
    }

    [Fact]
    public void OneCycleRejectsStepsPastTheEndAndOptimizersWithoutMomentum()
    {
        var opt = TwoGroups(0.9);
        var s = new OneCycleLR(opt, 0.5, totalSteps: 3);
        for (int i = 0; i < 3; i++) s.Step();
        var ex = Assert.Throws<InvalidOperationException>(() => s.Step());
        Assert.Contains("OneCycleLR", ex.Message);
        Assert.Contains("total steps is 3", ex.Message);

        var adagrad = new Adagrad([new Parameter(Torch.Ones(2))]);
        var ex2 = Assert.Throws<ArgumentException>(() => new OneCycleLR(adagrad, 0.1, totalSteps: 10));
        Assert.Contains("momentum or beta1", ex2.Message);
        Assert.Throws<ArgumentException>(() => new OneCycleLR(TwoGroups(), 0.1));
    }

    [Theory]
    [InlineData("PlateauMinRel")]
    [InlineData("PlateauMaxAbs")]
    public void ReduceLROnPlateauMatchesPyTorch(string name)
    {
        var opt = TwoGroups();
        var s = name == "PlateauMinRel"
            ? new ReduceLROnPlateau(opt, patience: 3, cooldown: 2, minLr: [0.002, 0.0])
            : new ReduceLROnPlateau(opt, PlateauMode.Max, factor: 0.5, patience: 2, threshold: 0.01, thresholdMode: ThresholdMode.Abs);
        var metrics = SchedulerReference.PlateauMetrics.Select(m => name == "PlateauMinRel" ? m : 1 - m);
        var seq = new List<double>(Lrs(opt));
        foreach (var m in metrics)
        {
            opt.Step();
            s.Step(m);
            seq.AddRange(Lrs(opt));
        }
        Check(Reference(name), seq.ToArray());
        Assert.Equal(Lrs(opt), s.GetLastLr());
    }

    [Fact]
    public void SchedulerStateDictResumesTheSequence()
    {
        var opt = TwoGroups();
        var straight = new CosineAnnealingWarmRestarts(opt, 5, 2, 0.01);
        var expected = new List<double>();
        for (int i = 0; i < 12; i++) { straight.Step(); expected.AddRange(Lrs(opt)); }

        var opt2 = TwoGroups();
        var first = new CosineAnnealingWarmRestarts(opt2, 5, 2, 0.01);
        var got = new List<double>();
        for (int i = 0; i < 6; i++) { first.Step(); got.AddRange(Lrs(opt2)); }
        var optState = opt2.StateDict();
        var schedState = first.StateDict();
        var opt3 = TwoGroups();
        opt3.LoadStateDict(optState);
        var resumed = new CosineAnnealingWarmRestarts(opt3, 5, 2, 0.01, lastEpoch: (int)schedState["last_epoch"]);
        resumed.LoadStateDict(schedState);
        opt3.LoadStateDict(optState);
        for (int i = 0; i < 6; i++) { resumed.Step(); got.AddRange(Lrs(opt3)); }
        Assert.Equal(expected, got);
    }

    [Fact]
    public void ResumingWithoutInitialLrIsAnError()
    {
        var ex = Assert.Throws<ArgumentException>(() => new StepLR(TwoGroups(), 3, lastEpoch: 4));
        Assert.Contains("StepLR", ex.Message);
        Assert.Contains("initial_lr", ex.Message);
    }

    [Fact]
    public void InvalidSchedulerArgumentsAreRejected()
    {
        Assert.Contains("LinearLR", Assert.Throws<ArgumentException>(() => new LinearLR(TwoGroups(), startFactor: 0)).Message);
        Assert.Contains("between 0 and 1", Assert.Throws<ArgumentException>(() => new ConstantLR(TwoGroups(), factor: 1.5)).Message);
        Assert.Contains("T_0", Assert.Throws<ArgumentException>(() => new CosineAnnealingWarmRestarts(TwoGroups(), 0)).Message);
        Assert.Contains("Factor should be < 1.0", Assert.Throws<ArgumentException>(() => new ReduceLROnPlateau(TwoGroups(), factor: 1.0)).Message);
        var o = TwoGroups();
        Assert.Contains("number of milestones", Assert.Throws<ArgumentException>(() => new SequentialLR(o, [new StepLR(o, 2)], [3])).Message);
    }

    [Fact]
    public void SequentialLRStateDictResumesWarmupThenCosine()
    {
        LRScheduler Make(Optimizer o) => new SequentialLR(o, [new LinearLR(o, 0.1, 1.0, 5), new CosineAnnealingLR(o, 25)], [5]);
        var full = Run(TwoGroups(), Make).Lrs;

        var opt = TwoGroups();
        var s = Make(opt);
        for (int i = 0; i < 8; i++) { opt.Step(); s.Step(); }
        var optState = opt.StateDict();
        var state = s.StateDict();
        var opt2 = TwoGroups();
        var s2 = Make(opt2);
        opt2.LoadStateDict(optState);
        s2.LoadStateDict(state);
        var got = new List<double>();
        for (int i = 8; i < Steps; i++) { opt2.Step(); s2.Step(); got.AddRange(Lrs(opt2)); }
        Assert.Equal(full[(2 * 9)..], got.ToArray());
    }
}
