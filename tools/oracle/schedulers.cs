// Reference LR sequences and clipping norms for tests/Ember.Tests/Optim/SchedulerReference.cs.
// Run: TORCH_ORACLE_HOME=/root/.cache/torch-oracle-optim ../shared/tools/torch-oracle/run.sh tools/oracle/schedulers.cs > tests/Ember.Tests/Optim/SchedulerReference.cs
// LR sequences come from TorchSharp 0.107's lr_scheduler classes (ports of torch/optim/lr_scheduler.py) driving an SGD
// (or Adam) optimizer with two param groups (lr 0.1 and 0.05). TorchSharp has no CosineAnnealingWarmRestarts: that
// sequence is a float64 transcription of PyTorch's CosineAnnealingWarmRestarts.step() written below.
// Clipping values come from TorchSharp's torch.nn.utils.clip_grad_norm_/clip_grad_value_ (libtorch kernels, float32).
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;
using static TorchSharp.torch.optim.lr_scheduler;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
const int Steps = 35;
var output = new List<string>();
void Emit(string name, IEnumerable<double> values) =>
    output.Add($"    public static readonly double[] {name} = [{string.Join(", ", values.Select(v => v.ToString("R")))}];");

(Parameter a, Parameter b) Params() => (new Parameter(ones(3)), new Parameter(ones(2)));
SGD Sgd(double momentum = 0)
{
    var (a, b) = Params();
    return optim.SGD(new[] { new SGD.ParamGroup(new[] { a }, 0.1, momentum: momentum), new SGD.ParamGroup(new[] { b }, 0.05, momentum: momentum) }, 0.1, momentum: momentum);
}
// TorchSharp's OneCycleLR carries the phase start across param groups (PyTorch restarts it per group), so OneCycle runs use one group.
SGD Sgd1(double momentum) => optim.SGD(new[] { new Parameter(ones(3)) }, 0.1, momentum: momentum);
double[] Lrs(optim.Optimizer o) => o.ParamGroups.Select(g => g.LearningRate).ToArray();

// Sequence: lrs after construction, then after each step (group 0 and group 1 interleaved).
void Run(string name, Func<optim.Optimizer, LRScheduler> make, optim.Optimizer opt = null, Func<optim.Optimizer, double[]> extra = null, string extraName = null)
{
    opt ??= Sgd();
    var s = make(opt);
    var seq = new List<double>(Lrs(opt)); var ex = new List<double>();
    if (extra != null) ex.AddRange(extra(opt));
    for (int t = 0; t < Steps; t++)
    {
        opt.step();
        s.step();
        seq.AddRange(Lrs(opt));
        if (extra != null) ex.AddRange(extra(opt));
    }
    Emit(name, seq);
    if (extra != null) Emit(extraName, ex);
}

Run("LambdaLR", o => LambdaLR(o, e => 1.0 / (1 + 0.3 * e)));
Run("MultiplicativeLR", o => MultiplicativeLR(o, e => 0.95 - 0.001 * e));
Run("StepLR", o => StepLR(o, 7, 0.5));
Run("MultiStepLR", o => MultiStepLR(o, new List<int> { 3, 10, 22 }, 0.3));
// TorchSharp applies a repeated milestone once; PyTorch counts repeats (Counter(milestones)): gamma ** count. Transcribed:
{
    var seq = new List<double>();
    var lrs = new[] { 0.1, 0.05 };
    int[] ms = { 3, 10, 10, 22 };
    for (int e = 0; e <= Steps; e++)
    {
        int count = ms.Count(m => m == e);
        if (count > 0) lrs = lrs.Select(lr => lr * Math.Pow(0.3, count)).ToArray();
        seq.AddRange(lrs);
    }
    Emit("MultiStepLRRepeatedMilestone", seq);
}
Run("ExponentialLR", o => ExponentialLR(o, 0.9));
Run("CosineAnnealingLR", o => CosineAnnealingLR(o, 12, 0.001));      // runs past T_max: the recursive form keeps going
Run("LinearLR", o => LinearLR(o));
Run("LinearLRCustom", o => LinearLR(o, 0.1, 0.8, 20));
Run("ConstantLR", o => ConstantLR(o));
Run("PolynomialLR", o => PolynomialLR(o, 20, 2.0));
Run("OneCycleLRSgd", o => OneCycleLR(o, 0.5, total_steps: Steps + 1), Sgd1(0.9),
    o => o.ParamGroups.Select(g => ((SGD.Options)((TorchSharp.Modules.ParamGroup)g).Options).momentum.Value).ToArray(), "OneCycleLRSgdMomentum");
Run("OneCycleLRLinearThreePhase", o => OneCycleLR(o, 0.5, epochs: 4, steps_per_epoch: 9, pct_start: 0.25, anneal_strategy: impl.OneCycleLR.AnnealStrategy.Linear, three_phase: true, div_factor: 10, final_div_factor: 100), Sgd1(0.9),
    o => o.ParamGroups.Select(g => ((SGD.Options)((TorchSharp.Modules.ParamGroup)g).Options).momentum.Value).ToArray(), "OneCycleLRLinearThreePhaseMomentum");
{
    var (a, b) = Params();
    var adam = optim.Adam(new[] { a, b }, 0.01);
    Run("OneCycleLRAdam", o => OneCycleLR(o, 0.02, total_steps: Steps + 5, base_momentum: 0.8, max_momentum: 0.9), adam,
        o => o.ParamGroups.Select(g => ((Adam.Options)((TorchSharp.Modules.ParamGroup)g).Options).beta1.Value).ToArray(), "OneCycleLRAdamBeta1");
}
Run("SequentialLR", o => SequentialLR(o, new LRScheduler[] { LinearLR(o, 0.1, 1.0, 5), CosineAnnealingLR(o, 25, 0.0) }, new[] { 5 }));
Run("ChainedScheduler", o => ChainedLR(new LRScheduler[] { ConstantLR(o, 0.5, 4), ExponentialLR(o, 0.9) }));

// ReduceLROnPlateau on fixed metric sequences.
double[] metrics = Enumerable.Range(0, Steps).Select(t => t < 8 ? 1.0 / (1 + t) : 0.12 + 0.001 * Math.Sin(t)).ToArray();
void Plateau(string name, Func<optim.Optimizer, LRScheduler> make, double[] ms)
{
    var opt = Sgd();
    var s = make(opt);
    var seq = new List<double>(Lrs(opt));
    foreach (var m in ms) { opt.step(); s.step(m); seq.AddRange(Lrs(opt)); }
    Emit(name, seq);
}
Plateau("PlateauMinRel", o => ReduceLROnPlateau(o, patience: 3, cooldown: 2, min_lr: new List<double> { 0.002, 0.0 }), metrics);
Plateau("PlateauMaxAbs", o => ReduceLROnPlateau(o, mode: "max", factor: 0.5, patience: 2, threshold: 0.01, threshold_mode: "abs"), metrics.Select(m => 1 - m).ToArray());
Emit("PlateauMetrics", metrics);

// CosineAnnealingWarmRestarts(T_0 = 5, T_mult = 2, eta_min = 0.01): PyTorch's step() transcribed in float64.
{
    double[] bases = { 0.1, 0.05 };
    double ti = 5, tcur = -1; int lastEpoch = -1;
    var seq = new List<double>();
    for (int t = 0; t <= Steps; t++)
    {
        if (lastEpoch < 0) { ti = 5; tcur = 0; lastEpoch = 0; }   // the initial step: epoch = 0 < T_0
        else { tcur += 1; if (tcur >= ti) { tcur -= ti; ti *= 2; } lastEpoch++; }
        seq.AddRange(bases.Select(b => 0.01 + (b - 0.01) * (1 + Math.Cos(Math.PI * tcur / ti)) / 2));
    }
    Emit("CosineAnnealingWarmRestarts", seq);
}

// Gradient clipping: three gradients, norm types 1, 2, inf, clipping (max_norm 1) and not (max_norm 100).
Parameter[] ClipParams()
{
    var ps = new[] { new Parameter(zeros(2, 3)), new Parameter(zeros(4)), new Parameter(zeros(1)) };
    int k = 0;
    foreach (var p in ps) p.grad = tensor(Enumerable.Range(0, (int)p.numel()).Select(i => (float)(Math.Sin(1.3 * (k++) + 0.2) * 1.7)).ToArray()).reshape(p.shape);
    return ps;
}
foreach (var (normName, norm) in new[] { ("L1", 1.0), ("L2", 2.0), ("Inf", double.PositiveInfinity) })
    foreach (var maxNorm in new[] { 1.0, 100.0 })
    {
        var ps = ClipParams();
        var total = nn.utils.clip_grad_norm_(ps, maxNorm, norm);
        Emit($"Clip{normName}Max{maxNorm:0}", new[] { (double)total }.Concat(ps.SelectMany(p => p.grad.data<float>().ToArray().Select(v => (double)v))));
    }
{
    var ps = ClipParams();
    nn.utils.clip_grad_value_(ps, 0.8);
    Emit("ClipValue", ps.SelectMany(p => p.grad.data<float>().ToArray().Select(v => (double)v)));
}

Console.WriteLine("// Generated by tools/oracle/schedulers.cs (torch-oracle: TorchSharp 0.107 / libtorch 2.10). Do not edit.");
Console.WriteLine("// LR sequences: rates after construction and after each of 35 steps, group 0 (lr 0.1) and group 1 (lr 0.05) interleaved (OneCycle*: one group, lr 0.1; OneCycleLRAdam: one group).");
Console.WriteLine("// Clip*: the returned total norm, then the clipped gradients in order.");
Console.WriteLine("namespace Ember.Tests.Optim;");
Console.WriteLine();
Console.WriteLine("internal static class SchedulerReference");
Console.WriteLine("{");
foreach (var line in output) Console.WriteLine(line);
Console.WriteLine("}");
