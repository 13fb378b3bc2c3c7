// Reference trajectories for tests/Ember.Tests/Optim/OptimizerReference.cs.
// Run: TORCH_ORACLE_HOME=/root/.cache/torch-oracle-optim ../shared/tools/torch-oracle/run.sh tools/oracle/optimizers.cs > tests/Ember.Tests/Optim/OptimizerReference.cs
// Two references per configuration, both float32 on libtorch 2.10's CPU kernels:
//  (a) "pytorch": a line-by-line transcription of torch/optim/*.py's _single_tensor_* update (the path PyTorch takes on CPU)
//      written with TorchSharp tensor ops (lerp_, addcmul_, addcdiv_, ...), and
//  (b) "torchsharp": TorchSharp's own optimizer class with the same options, where it has them.
// The emitted values are (a); the script prints max |a-b|/|a| for each configuration as a comment, so any disagreement
// between TorchSharp's port and PyTorch's algorithm is visible (e.g. TorchSharp's SGD applies maximize after weight decay).
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

const int Steps = 6;
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

float[] Init(int j) => j == 0
    ? Enumerable.Range(0, 6).Select(i => (float)(0.5 * Math.Cos(1.1 * i))).ToArray()
    : Enumerable.Range(0, 4).Select(i => (float)(1 - 0.3 * i)).ToArray();
long[] ShapeOf(int j) => j == 0 ? new long[] { 2, 3 } : new long[] { 4 };
float[] GradAt(int j, int t, int n) => Enumerable.Range(0, n).Select(i => (float)(Math.Sin(0.9 * i + 1.7 * j + 0.6 * t + 0.3) * 2.0 / (1 + t))).ToArray();

Tensor[] NewParams() => new[] { tensor(Init(0)).reshape(ShapeOf(0)), tensor(Init(1)).reshape(ShapeOf(1)) };

// Runs the transcription: update(j, param, grad, state, stepNumber starting at 1), all under no_grad.
double[] RunManual(Action<int, Tensor, Tensor, Dictionary<string, object>, int> update)
{
    var ps = NewParams();
    var states = new[] { new Dictionary<string, object>(), new Dictionary<string, object>() };
    var trace = new List<double>();
    using (no_grad())
        for (int t = 0; t < Steps; t++)
        {
            for (int j = 0; j < 2; j++) update(j, ps[j], tensor(GradAt(j, t, (int)ps[j].numel())).reshape(ShapeOf(j)), states[j], t + 1);
            foreach (var p in ps) trace.AddRange(p.data<float>().ToArray().Select(v => (double)v));
        }
    return trace.ToArray();
}

double[] RunTorchSharp(Func<Parameter[], optim.Optimizer> make)
{
    var ps = NewParams().Select(p => new Parameter(p)).ToArray();
    var opt = make(ps);
    var trace = new List<double>();
    for (int t = 0; t < Steps; t++)
    {
        for (int j = 0; j < 2; j++) ps[j].grad = tensor(GradAt(j, t, (int)ps[j].numel())).reshape(ShapeOf(j));
        opt.step();
        foreach (var p in ps) trace.AddRange(p.data<float>().ToArray().Select(v => (double)v));
    }
    return trace.ToArray();
}

var output = new List<string>();
void Emit(string name, double[] reference, double[] torchSharp)
{
    string cmp = "torchsharp: n/a";
    if (torchSharp != null)
    {
        double worst = 0;
        for (int i = 0; i < reference.Length; i++) worst = Math.Max(worst, Math.Abs(reference[i] - torchSharp[i]) / Math.Max(Math.Abs(reference[i]), 1e-30));
        cmp = $"torchsharp max rel diff {worst:G3}";
    }
    output.Add($"    // {cmp}");
    output.Add($"    public static readonly double[] {name} = [{string.Join(", ", reference.Select(v => v.ToString("G9")))}];");
}

Tensor T(object o) => (Tensor)o;

// ---- SGD (torch/optim/sgd.py _single_tensor_sgd) ----
Action<int, Tensor, Tensor, Dictionary<string, object>, int> Sgd(double lr, double momentum = 0, double dampening = 0, double wd = 0, bool nesterov = false, bool maximize = false, double lr1 = double.NaN)
    => (j, p, g, s, t) =>
    {
        double rate = j == 1 && !double.IsNaN(lr1) ? lr1 : lr;
        var grad = maximize ? -g : g;
        if (wd != 0) grad = grad.add(p, alpha: wd);
        if (momentum != 0)
        {
            if (!s.ContainsKey("buf")) s["buf"] = grad.clone();
            else T(s["buf"]).mul_(momentum).add_(grad, alpha: 1 - dampening);
            grad = nesterov ? grad.add(T(s["buf"]), alpha: momentum) : T(s["buf"]);
        }
        p.add_(grad, alpha: -rate);
    };
Emit("SgdPlain", RunManual(Sgd(0.1)), RunTorchSharp(ps => optim.SGD(ps, 0.1)));
Emit("SgdMomentum", RunManual(Sgd(0.1, momentum: 0.9)), RunTorchSharp(ps => optim.SGD(ps, 0.1, momentum: 0.9)));
Emit("SgdDampening", RunManual(Sgd(0.1, momentum: 0.9, dampening: 0.5)), RunTorchSharp(ps => optim.SGD(ps, 0.1, momentum: 0.9, dampening: 0.5)));
Emit("SgdNesterov", RunManual(Sgd(0.1, momentum: 0.9, nesterov: true)), RunTorchSharp(ps => optim.SGD(ps, 0.1, momentum: 0.9, nesterov: true)));
Emit("SgdWeightDecay", RunManual(Sgd(0.1, momentum: 0.5, wd: 0.1)), RunTorchSharp(ps => optim.SGD(ps, 0.1, momentum: 0.5, weight_decay: 0.1)));
Emit("SgdMaximize", RunManual(Sgd(0.1, momentum: 0.9, maximize: true)), RunTorchSharp(ps => optim.SGD(ps, 0.1, momentum: 0.9, maximize: true)));
// TorchSharp negates after weight decay and momentum; PyTorch negates the gradient first: they differ here.
Emit("SgdMaximizeWeightDecay", RunManual(Sgd(0.1, momentum: 0.9, wd: 0.1, maximize: true)), RunTorchSharp(ps => optim.SGD(ps, 0.1, momentum: 0.9, weight_decay: 0.1, maximize: true)));
Emit("SgdGroups", RunManual(Sgd(0.1, momentum: 0.9, lr1: 0.01)), RunTorchSharp(ps => optim.SGD(new[] {
    new SGD.ParamGroup(new[] { ps[0] }, 0.1, momentum: 0.9), new SGD.ParamGroup(new[] { ps[1] }, 0.01, momentum: 0.9) }, 0.1, momentum: 0.9)));

// ---- Adagrad (adagrad.py _single_tensor_adagrad) ----
Action<int, Tensor, Tensor, Dictionary<string, object>, int> Adagrad(double lr, double lrDecay = 0, double wd = 0, double init = 0, double eps = 1e-10, bool maximize = false)
    => (j, p, g, s, t) =>
    {
        if (!s.ContainsKey("sum")) s["sum"] = full_like(p, init);
        var grad = maximize ? -g : g;
        if (wd != 0) grad = grad.add(p, alpha: wd);
        double clr = lr / (1 + (t - 1) * lrDecay);
        T(s["sum"]).addcmul_(grad, grad, value: 1);
        var std = T(s["sum"]).sqrt().add_(eps);
        p.addcdiv_(grad, std, value: -clr);
    };
Emit("AdagradPlain", RunManual(Adagrad(0.1)), RunTorchSharp(ps => optim.Adagrad(ps, 0.1)));
Emit("AdagradLrDecay", RunManual(Adagrad(0.1, lrDecay: 0.05)), RunTorchSharp(ps => optim.Adagrad(ps, 0.1, lr_decay: 0.05)));
Emit("AdagradWeightDecay", RunManual(Adagrad(0.1, wd: 0.1)), RunTorchSharp(ps => optim.Adagrad(ps, 0.1, weight_decay: 0.1)));
Emit("AdagradInitialAccumulator", RunManual(Adagrad(0.1, init: 0.5)), RunTorchSharp(ps => optim.Adagrad(ps, 0.1, initial_accumulator_value: 0.5)));
Emit("AdagradEps", RunManual(Adagrad(0.1, eps: 0.1)), RunTorchSharp(ps => optim.Adagrad(ps, 0.1, eps: 0.1)));
Emit("AdagradMaximize", RunManual(Adagrad(0.1, wd: 0.1, maximize: true)), null);

// ---- RMSprop (rmsprop.py _single_tensor_rmsprop) ----
Action<int, Tensor, Tensor, Dictionary<string, object>, int> RmsProp(double lr, double alpha = 0.99, double eps = 1e-8, double wd = 0, double momentum = 0, bool centered = false, bool maximize = false)
    => (j, p, g, s, t) =>
    {
        if (!s.ContainsKey("sq")) { s["sq"] = zeros_like(p); s["buf"] = zeros_like(p); s["gavg"] = zeros_like(p); }
        var grad = maximize ? -g : g;
        if (wd != 0) grad = grad.add(p, alpha: wd);
        var sq = T(s["sq"]);
        sq.mul_(alpha).addcmul_(grad, grad, value: 1 - alpha);
        Tensor avg;
        if (centered)
        {
            var ga = T(s["gavg"]);
            ga.lerp_(grad, 1 - alpha);
            avg = sq.addcmul(ga, ga, value: -1).sqrt_();
        }
        else avg = sq.sqrt();
        avg = avg.add_(eps);
        if (momentum > 0)
        {
            var buf = T(s["buf"]);
            buf.mul_(momentum).addcdiv_(grad, avg);
            p.add_(buf, alpha: -lr);
        }
        else p.addcdiv_(grad, avg, value: -lr);
    };
Emit("RmsPropPlain", RunManual(RmsProp(0.01)), RunTorchSharp(ps => optim.RMSProp(ps, 0.01)));
Emit("RmsPropAlpha", RunManual(RmsProp(0.01, alpha: 0.9)), RunTorchSharp(ps => optim.RMSProp(ps, 0.01, alpha: 0.9)));
Emit("RmsPropEps", RunManual(RmsProp(0.01, eps: 1e-2)), RunTorchSharp(ps => optim.RMSProp(ps, 0.01, eps: 1e-2)));
Emit("RmsPropWeightDecay", RunManual(RmsProp(0.01, wd: 0.1)), RunTorchSharp(ps => optim.RMSProp(ps, 0.01, weight_decay: 0.1)));
Emit("RmsPropMomentum", RunManual(RmsProp(0.01, momentum: 0.9)), RunTorchSharp(ps => optim.RMSProp(ps, 0.01, momentum: 0.9)));
Emit("RmsPropCentered", RunManual(RmsProp(0.01, centered: true)), RunTorchSharp(ps => optim.RMSProp(ps, 0.01, centered: true)));
Emit("RmsPropCenteredMomentum", RunManual(RmsProp(0.01, momentum: 0.5, centered: true)), RunTorchSharp(ps => optim.RMSProp(ps, 0.01, momentum: 0.5, centered: true)));
Emit("RmsPropMaximize", RunManual(RmsProp(0.01, wd: 0.1, maximize: true)), RunTorchSharp(ps => optim.RMSProp(ps, 0.01, weight_decay: 0.1, maximize: true)));

// ---- Adam / AdamW (adam.py _single_tensor_adam; AdamW = decoupled_weight_decay) ----
Action<int, Tensor, Tensor, Dictionary<string, object>, int> Adam(double lr, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double wd = 0, bool amsgrad = false, bool maximize = false, bool decoupled = false)
    => (j, p, g, s, t) =>
    {
        if (!s.ContainsKey("m")) { s["m"] = zeros_like(p); s["v"] = zeros_like(p); s["vmax"] = zeros_like(p); }
        var grad = maximize ? -g : g;
        if (wd != 0)
        {
            if (decoupled) p.mul_(1 - lr * wd);
            else grad = grad.add(p, alpha: wd);
        }
        var m = T(s["m"]); var v = T(s["v"]);
        m.lerp_(grad, 1 - b1);
        v.mul_(b2).addcmul_(grad, grad, value: 1 - b2);
        double bc1 = 1 - Math.Pow(b1, t), bc2 = 1 - Math.Pow(b2, t);
        double stepSize = lr / bc1, bc2Sqrt = Math.Sqrt(bc2);
        Tensor denom;
        if (amsgrad)
        {
            var vmax = maximum(T(s["vmax"]), v); s["vmax"] = vmax;
            denom = (vmax.sqrt() / bc2Sqrt).add_(eps);
        }
        else denom = (v.sqrt() / bc2Sqrt).add_(eps);
        p.addcdiv_(m, denom, value: -stepSize);
    };
Emit("AdamPlain", RunManual(Adam(0.01)), RunTorchSharp(ps => optim.Adam(ps, 0.01)));
Emit("AdamBetas", RunManual(Adam(0.01, b1: 0.8, b2: 0.99)), RunTorchSharp(ps => optim.Adam(ps, 0.01, beta1: 0.8, beta2: 0.99)));
Emit("AdamEps", RunManual(Adam(0.01, eps: 1e-3)), RunTorchSharp(ps => optim.Adam(ps, 0.01, eps: 1e-3)));
Emit("AdamWeightDecay", RunManual(Adam(0.01, wd: 0.1)), RunTorchSharp(ps => optim.Adam(ps, 0.01, weight_decay: 0.1)));
Emit("AdamAmsgrad", RunManual(Adam(0.01, amsgrad: true)), RunTorchSharp(ps => optim.Adam(ps, 0.01, amsgrad: true)));
Emit("AdamMaximize", RunManual(Adam(0.01, wd: 0.1, maximize: true)), RunTorchSharp(ps => optim.Adam(ps, 0.01, weight_decay: 0.1, maximize: true)));
Emit("AdamWDefault", RunManual(Adam(0.01, wd: 0.01, decoupled: true)), RunTorchSharp(ps => optim.AdamW(ps, 0.01)));
Emit("AdamWWeightDecay", RunManual(Adam(0.01, wd: 0.1, decoupled: true)), RunTorchSharp(ps => optim.AdamW(ps, 0.01, weight_decay: 0.1)));
Emit("AdamWAmsgrad", RunManual(Adam(0.01, wd: 0.1, amsgrad: true, decoupled: true)), RunTorchSharp(ps => optim.AdamW(ps, 0.01, weight_decay: 0.1, amsgrad: true)));
Emit("AdamWMaximize", RunManual(Adam(0.01, wd: 0.1, maximize: true, decoupled: true)), RunTorchSharp(ps => optim.AdamW(ps, 0.01, weight_decay: 0.1, maximize: true)));

// ---- Adamax (adamax.py _single_tensor_adamax) ----
Action<int, Tensor, Tensor, Dictionary<string, object>, int> Adamax(double lr, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double wd = 0, bool maximize = false)
    => (j, p, g, s, t) =>
    {
        if (!s.ContainsKey("m")) { s["m"] = zeros_like(p); s["u"] = zeros_like(p); }
        var grad = maximize ? -g : g;
        if (wd != 0) grad = grad.add(p, alpha: wd);
        var m = T(s["m"]); var u = T(s["u"]);
        m.lerp_(grad, 1 - b1);
        s["u"] = u = maximum(u.mul_(b2), grad.abs().add_(eps));
        double clr = lr / (1 - Math.Pow(b1, t));
        p.addcdiv_(m, u, value: -clr);
    };
Emit("AdamaxPlain", RunManual(Adamax(0.01)), RunTorchSharp(ps => optim.Adamax(ps, 0.01)));
Emit("AdamaxBetas", RunManual(Adamax(0.01, b1: 0.8, b2: 0.9)), RunTorchSharp(ps => optim.Adamax(ps, 0.01, beta1: 0.8, beta2: 0.9)));
Emit("AdamaxEps", RunManual(Adamax(0.01, eps: 0.1)), RunTorchSharp(ps => optim.Adamax(ps, 0.01, eps: 0.1)));
Emit("AdamaxWeightDecay", RunManual(Adamax(0.01, wd: 0.1)), RunTorchSharp(ps => optim.Adamax(ps, 0.01, weight_decay: 0.1)));
Emit("AdamaxMaximize", RunManual(Adamax(0.01, wd: 0.1, maximize: true)), null);

// ---- NAdam (nadam.py _single_tensor_nadam; mu_product is a float32 tensor there) ----
Action<int, Tensor, Tensor, Dictionary<string, object>, int> NAdam(double lr, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double wd = 0, double md = 4e-3, bool decoupled = false, bool maximize = false)
    => (j, p, g, s, t) =>
    {
        if (!s.ContainsKey("m")) { s["m"] = zeros_like(p); s["v"] = zeros_like(p); s["mu"] = ones(1); }
        var grad = maximize ? -g : g;
        double bc2 = 1 - Math.Pow(b2, t);
        if (wd != 0)
        {
            if (decoupled) p.mul_(1 - lr * wd);
            else grad = grad.add(p, alpha: wd);
        }
        double mu = b1 * (1.0 - 0.5 * Math.Pow(0.96, t * md));
        double muNext = b1 * (1.0 - 0.5 * Math.Pow(0.96, (t + 1) * md));
        var muProduct = T(s["mu"]); muProduct.mul_(mu);
        var m = T(s["m"]); var v = T(s["v"]);
        m.lerp_(grad, 1 - b1);
        v.mul_(b2).addcmul_(grad, grad, value: 1 - b2);
        var denom = v.div(bc2).sqrt();
        double prod = muProduct.item<float>();
        double prodNext = prod * muNext;
        denom.add_(eps);
        p.addcdiv_(grad, denom, value: -lr * (1.0 - mu) / (1.0 - prod));
        p.addcdiv_(m, denom, value: (-lr * muNext) / (1.0 - prodNext));
    };
Emit("NAdamPlain", RunManual(NAdam(0.01)), RunTorchSharp(ps => optim.NAdam(ps, 0.01)));
Emit("NAdamBetas", RunManual(NAdam(0.01, b1: 0.8, b2: 0.99)), RunTorchSharp(ps => optim.NAdam(ps, 0.01, beta1: 0.8, beta2: 0.99)));
Emit("NAdamWeightDecay", RunManual(NAdam(0.01, wd: 0.1)), RunTorchSharp(ps => optim.NAdam(ps, 0.01, weight_decay: 0.1)));
Emit("NAdamMomentumDecay", RunManual(NAdam(0.01, md: 0.05)), RunTorchSharp(ps => optim.NAdam(ps, 0.01, momentum_decay: 0.05)));
Emit("NAdamDecoupled", RunManual(NAdam(0.01, wd: 0.1, decoupled: true)), null);
Emit("NAdamMaximize", RunManual(NAdam(0.01, wd: 0.1, maximize: true)), null);

Console.WriteLine("// Generated by tools/oracle/optimizers.cs (torch-oracle: TorchSharp 0.107 / libtorch 2.10, CPU, float32). Do not edit.");
Console.WriteLine("// Each array: parameter values after steps 1..6 (per step: p0 [2,3] then p1 [4]), from the gradients in OptimizerTests.");
Console.WriteLine("namespace Ember.Tests.Optim;");
Console.WriteLine();
Console.WriteLine("internal static class OptimizerReference");
Console.WriteLine("{");
foreach (var line in output) Console.WriteLine(line);
Console.WriteLine("}");
