// Reference values for the losses issue 22 lists, float64, from libtorch 2.10 through TorchSharp:
//   ../shared/tools/torch-oracle/run.sh tests/Ember.Tests/Reference/Nn/parity_losses.oracle.csx > tests/Ember.Tests/Reference/Nn/ParityLossesReference.cs
// Each case prints its outputs (values and shape) and, for float outputs, the gradient of
// L = Σ_k Σ_i out_k[i]·W(i) with W(i) = cos(0.7·i + 0.1) with respect to every float input.
// Inputs: In(shape, a, scale, shift)[i] = sin(a·i + 0.3)·scale + shift, or explicit literals; ParityLossesTests builds the same.
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

Tensor In(long[] shape, double a, double scale = 1, double shift = 0)
{
    long n = shape.Aggregate(1L, (p, s) => p * s);
    var v = Enumerable.Range(0, (int)n).Select(i => Math.Sin(a * i + 0.3) * scale + shift).ToArray();
    return tensor(v, dtype: float64).reshape(shape).requires_grad_();
}
Tensor Lit(double[] v, params long[] shape) => tensor(v, dtype: float64).reshape(shape).requires_grad_();
Tensor Long(long[] v, params long[] shape) => tensor(v, dtype: int64).reshape(shape);
string R(double d) => double.IsNaN(d) ? "double.NaN" : double.IsPositiveInfinity(d) ? "double.PositiveInfinity" : double.IsNegativeInfinity(d) ? "double.NegativeInfinity" : d.ToString("R");
string Arr(Tensor t) => "[" + string.Join(", ", (t.dtype == float64 ? t.data<double>().ToArray() : t.to(float64).data<double>().ToArray()).Select(R)) + "]";

// TorchSharp's gaussian_nll_loss is its own C# port of PyTorch 1.8's version (per-row sums, a scaled constant), not
// libtorch's: so this is torch.nn.functional.gaussian_nll_loss of PyTorch 2.10 (torch/nn/functional.py) line by line
// over libtorch ops: var unsqueezed when one dim short, clamped to eps in place under no_grad, 0.5·(log var + d²/var).
Tensor GaussNll(Tensor input, Tensor target, Tensor v, bool full = false, double eps = 1e-6, nn.Reduction reduction = nn.Reduction.Mean)
{
    if (!v.shape.SequenceEqual(input.shape) && v.shape.SequenceEqual(input.shape[..^1])) v = v.unsqueeze(-1);
    v = v.clone();
    using (torch.no_grad()) v.clamp_(min: eps);
    var loss = 0.5 * (v.log() + (input - target).pow(2) / v);
    if (full) loss = loss + 0.5 * Math.Log(2 * Math.PI);
    return reduction == nn.Reduction.Mean ? loss.mean() : reduction == nn.Reduction.Sum ? loss.sum() : loss;
}

// TorchSharp's poisson_nll_loss declares eps as a float where its native side reads a double, so libtorch receives
// about 0 (measured: eps = 0.5 changes nothing). For the rate form (log_input = false), where eps matters, this is
// ATen's poisson_nll_loss (aten/src/ATen/native/Loss.cpp) over libtorch ops: input − target·log(input + eps), plus
// Stirling's term where target > 1.
Tensor PoissonRate(Tensor input, Tensor target, bool full = false, double eps = 1e-8, nn.Reduction reduction = nn.Reduction.Mean)
{
    var loss = input - target * (input + eps).log();
    if (full)
    {
        var stirling = target * target.log() - target + 0.5 * (2 * Math.PI * target).log();
        loss = loss + stirling.masked_fill(target <= 1, 0);
    }
    return reduction == nn.Reduction.Mean ? loss.mean() : reduction == nn.Reduction.Sum ? loss.sum() : loss;
}

var cases = new List<(string, Func<Tensor[]>, Func<Tensor[], Tensor[]>)>
{
    ("triplet_margin", () => [In([4, 5], 0.9), In([4, 5], 1.3, 1, 0.2), In([4, 5], 0.4, 1.2, -0.1)], a => [F.triplet_margin_loss(a[0], a[1], a[2])]),
    ("triplet_margin_p1_swap_sum", () => [In([4, 5], 0.9), In([4, 5], 1.3, 1, 0.2), In([4, 5], 0.4, 1.2, -0.1)], a => [F.triplet_margin_loss(a[0], a[1], a[2], 2.0, 1, 1e-6, true, nn.Reduction.Sum)]),
    ("triplet_margin_none_1d", () => [In([5], 0.9), In([5], 1.3, 1, 0.2), In([5], 0.4, 1.2, -0.1)], a => [F.triplet_margin_loss(a[0], a[1], a[2], 0.5, 2, 1e-6, false, nn.Reduction.None)]),
    ("margin_ranking", () => [In([6], 0.9), In([6], 1.3), Lit([1, -1, 1, 1, -1, -1], 6)], a => [F.margin_ranking_loss(a[0], a[1], a[2].detach())]),
    ("margin_ranking_margin_none", () => [In([6], 0.9), In([6], 1.3), Lit([1, -1, 1, 1, -1, -1], 6)], a => [F.margin_ranking_loss(a[0], a[1], a[2].detach(), 0.3, nn.Reduction.None)]),
    ("cosine_embedding", () => [In([4, 5], 0.9), In([4, 5], 1.3, 1, 0.2), Lit([1, -1, -1, 1], 4)], a => [F.cosine_embedding_loss(a[0], a[1], a[2].detach())]),
    ("cosine_embedding_margin_sum", () => [In([4, 5], 0.9), In([4, 5], 1.3, 1, 0.2), Lit([1, -1, -1, 1], 4)], a => [F.cosine_embedding_loss(a[0], a[1], a[2].detach(), -0.2, nn.Reduction.Sum)]),
    ("cosine_embedding_1d", () => [In([5], 0.9), In([5], 1.3, 1, 0.2), Lit([-1], 1).reshape()], a => [F.cosine_embedding_loss(a[0], a[1], a[2].detach(), 0.1)]),
    ("poisson_nll", () => [In([3, 4], 0.9), In([3, 4], 1.3, 2, 2.1)], a => [F.poisson_nll_loss(a[0], a[1])]),
    ("poisson_nll_rate_full", () => [In([3, 4], 0.9, 0.5, 1), In([3, 4], 1.3, 2, 2.1)], a => [PoissonRate(a[0], a[1], true)]),
    ("poisson_nll_full_none", () => [In([3, 4], 0.9), In([3, 4], 1.3, 2, 2.1)], a => [F.poisson_nll_loss(a[0], a[1], true, true, 1e-8f, nn.Reduction.None)]),
    ("gaussian_nll", () => [In([4, 3], 0.9), In([4, 3], 1.3), In([4, 3], 0.7, 0.4, 0.6)], a => [GaussNll(a[0], a[1], a[2])]),
    ("gaussian_nll_homoscedastic_full_sum", () => [In([4, 3], 0.9), In([4, 3], 1.3), In([4], 0.7, 0.4, 0.6)], a => [GaussNll(a[0], a[1], a[2], true, 1e-6, nn.Reduction.Sum)]),
    ("gaussian_nll_var_col_clamped_none", () => [In([4, 3], 0.9), In([4, 3], 1.3), Lit([0.5, 1e-9, 2, 0.3], 4, 1)], a => [GaussNll(a[0], a[1], a[2], false, 1e-6, nn.Reduction.None)]),
    ("multilabel_soft_margin", () => [In([3, 4], 0.9, 2), Lit([1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0], 3, 4)], a => [F.multilabel_soft_margin_loss(a[0], a[1].detach())]),
    ("multilabel_soft_margin_weight_none", () => [In([3, 4], 0.9, 2), Lit([1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0], 3, 4), Lit([0.5, 1, 2, 0.1], 4)], a => [F.multilabel_soft_margin_loss(a[0], a[1].detach(), a[2].detach(), nn.Reduction.None)]),
};

Console.WriteLine("// Generated by tests/Ember.Tests/Reference/Nn/parity_losses.oracle.csx (libtorch 2.10 via TorchSharp 0.107, float64). Do not edit.");
Console.WriteLine("using Ember.Tests.Reference.Ops;"); Console.WriteLine(); Console.WriteLine("namespace Ember.Tests.Reference.Nn;");
Console.WriteLine();
Console.WriteLine("internal static partial class ParityLossesReference");
Console.WriteLine("{");
Console.WriteLine("    public static readonly Dictionary<string, OracleCase> Cases = new()");
Console.WriteLine("    {");
foreach (var (name, make, f) in cases)
{
    var xs = make();
    var outs = f(xs);
    Tensor loss = null;
    foreach (var o in outs)
    {
        if (!o.is_floating_point() || !o.requires_grad) continue;
        var w = torch.arange(o.numel(), dtype: float64).mul(0.7).add(0.1).cos().reshape(o.shape);
        var term = (o * w).sum();
        loss = loss is null ? term : loss + term;
    }
    if (loss is not null) loss.backward();
    var outText = string.Join(", ", outs.Select(o => $"new({Arr(o.detach())}, [{string.Join(", ", o.shape)}])"));
    var gradText = string.Join(", ", xs.Select(x => x.grad is null ? "null" : Arr(x.grad)));
    Console.WriteLine($"        [\"{name}\"] = new([{outText}], [{gradText}]),");
}
Console.WriteLine("    };");
Console.WriteLine("}");
