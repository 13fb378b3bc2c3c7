// Reference values for optimizer steps on half-precision parameters (issue 22), from libtorch 2.10 through TorchSharp:
//   ../shared/tools/torch-oracle/run.sh tests/Ember.Tests/Reference/Optim/half_optimizers.oracle.csx > tests/Ember.Tests/Reference/Optim/HalfOptimizerReference.cs
// A parameter of 37 values P[i] = sin(0.37·i + 0.3)·0.5 in the half dtype takes two steps with gradients
// G_t[i] = sin(a_t·i + 0.3)·s_t (a = 0.91, 1.7; s = 0.3, 0.2), rounded to the dtype. The emitted values are the parameter after
// step 1 and after step 2 (and, where named, a state tensor after step 2) from a line-by-line transcription of torch/optim's
// _single_tensor_* update (PyTorch's CPU path) run with TorchSharp ops on the half tensors, state in the parameter's dtype,
// so every op computes in float32 and rounds its result. A comment gives TorchSharp's own optimizer class's max |diff| from it.
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
const int N = 37;
Tensor Vals(double a, double s, ScalarType dt) => tensor(Enumerable.Range(0, N).Select(i => Math.Sin(a * i + 0.3) * s).ToArray(), dtype: float64).to(dt);
Tensor Grad(int t, ScalarType dt) => t == 0 ? Vals(0.91, 0.3, dt) : Vals(1.7, 0.2, dt);
double[] D(Tensor t) => t.to(float64).data<double>().ToArray();
Tensor T(object o) => (Tensor)o;

(double[] Trace, Tensor State) RunManual(ScalarType dt, Action<Tensor, Tensor, Dictionary<string, object>, int> update, string stateKey)
{
    var p = Vals(0.37, 0.5, dt);
    var s = new Dictionary<string, object>();
    var trace = new List<double>();
    using (no_grad())
        for (int t = 0; t < 2; t++) { update(p, Grad(t, dt), s, t + 1); trace.AddRange(D(p)); }
    return (trace.ToArray(), stateKey is null ? null : T(s[stateKey]));
}

double[] RunTorchSharp(ScalarType dt, Func<Parameter[], optim.Optimizer> make)
{
    var p = new Parameter(Vals(0.37, 0.5, dt));
    var opt = make([p]);
    var trace = new List<double>();
    for (int t = 0; t < 2; t++) { p.grad = Grad(t, dt); opt.step(); trace.AddRange(D(p.detach())); }
    return trace.ToArray();
}

Action<Tensor, Tensor, Dictionary<string, object>, int> Adam(double lr, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double wd = 0, bool amsgrad = false, bool decoupled = false)
    => (p, g, s, t) =>
    {
        if (!s.ContainsKey("exp_avg")) { s["exp_avg"] = zeros_like(p); s["exp_avg_sq"] = zeros_like(p); s["max_exp_avg_sq"] = zeros_like(p); }
        var grad = g;
        if (wd != 0)
        {
            if (decoupled) p.mul_(1 - lr * wd);
            else grad = grad.add(p, alpha: wd);
        }
        var m = T(s["exp_avg"]); var v = T(s["exp_avg_sq"]);
        m.lerp_(grad, 1 - b1);
        v.mul_(b2).addcmul_(grad, grad, value: 1 - b2);
        double bc1 = 1 - Math.Pow(b1, t), bc2 = 1 - Math.Pow(b2, t);
        double stepSize = lr / bc1, bc2Sqrt = Math.Sqrt(bc2);
        Tensor denom;
        if (amsgrad)
        {
            var vmax = maximum(T(s["max_exp_avg_sq"]), v); s["max_exp_avg_sq"] = vmax;
            denom = (vmax.sqrt() / bc2Sqrt).add_(eps);
        }
        else denom = (v.sqrt() / bc2Sqrt).add_(eps);
        p.addcdiv_(m, denom, value: -stepSize);
    };

Action<Tensor, Tensor, Dictionary<string, object>, int> Sgd(double lr, double momentum, bool nesterov = false, double wd = 0)
    => (p, g, s, t) =>
    {
        var grad = g;
        if (wd != 0) grad = grad.add(p, alpha: wd);
        if (!s.ContainsKey("momentum_buffer")) s["momentum_buffer"] = grad.clone();
        else T(s["momentum_buffer"]).mul_(momentum).add_(grad, alpha: 1);
        grad = nesterov ? grad.add(T(s["momentum_buffer"]), alpha: momentum) : T(s["momentum_buffer"]);
        p.add_(grad, alpha: -lr);
    };

var lines = new List<string>();
void Emit(string name, ScalarType dt, Action<Tensor, Tensor, Dictionary<string, object>, int> update, Func<Parameter[], optim.Optimizer> make, string stateKey = null)
{
    var (trace, state) = RunManual(dt, update, stateKey);
    var ts = RunTorchSharp(dt, make);
    double worst = 0;
    for (int i = 0; i < trace.Length; i++) worst = Math.Max(worst, Math.Abs(trace[i] - ts[i]));
    lines.Add($"    // {name}: TorchSharp's optimizer class differs from the transcription by at most {worst:G3}");
    lines.Add($"    public static readonly double[] {name} = [{string.Join(", ", trace.Select(v => v.ToString("R")))}];");
    if (state is not null) lines.Add($"    public static readonly double[] {name}_{stateKey} = [{string.Join(", ", D(state).Select(v => v.ToString("R")))}];");
}

Emit("adam_bf16", ScalarType.BFloat16, Adam(0.01), ps => optim.Adam(ps, 0.01), "exp_avg_sq");
Emit("adam_bf16_weight_decay_amsgrad", ScalarType.BFloat16, Adam(0.01, wd: 0.1, amsgrad: true), ps => optim.Adam(ps, 0.01, weight_decay: 0.1, amsgrad: true));
Emit("adamw_bf16", ScalarType.BFloat16, Adam(0.01, wd: 0.05, decoupled: true), ps => optim.AdamW(ps, 0.01, weight_decay: 0.05));
Emit("adam_fp16", ScalarType.Float16, Adam(0.01), ps => optim.Adam(ps, 0.01), "exp_avg");
Emit("sgd_momentum_bf16", ScalarType.BFloat16, Sgd(0.1, 0.9, wd: 0.01), ps => optim.SGD(ps, 0.1, momentum: 0.9, weight_decay: 0.01), "momentum_buffer");
Emit("sgd_nesterov_fp16", ScalarType.Float16, Sgd(0.1, 0.9, nesterov: true), ps => optim.SGD(ps, 0.1, momentum: 0.9, nesterov: true));

Console.WriteLine("// Generated by tests/Ember.Tests/Reference/Optim/half_optimizers.oracle.csx (libtorch 2.10 via TorchSharp 0.107). Do not edit.");
Console.WriteLine("namespace Ember.Tests.Reference.Optim;");
Console.WriteLine();
Console.WriteLine("internal static class HalfOptimizerReference");
Console.WriteLine("{");
foreach (var l in lines) Console.WriteLine(l);
Console.WriteLine("}");
