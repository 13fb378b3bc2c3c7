// Reference values for torch.linalg (issue 22), float64, from libtorch 2.10 through TorchSharp:
//   ../shared/tools/torch-oracle/run.sh tests/Ember.Tests/Reference/Linalg/linalg.oracle.csx > tests/Ember.Tests/Reference/Linalg/LinalgReference.cs
// Each case prints its outputs (values and shape) and the gradient of L = Σ_k Σ_i out_k[i]·W(i) with
// W(i) = cos(0.7·i + 0.1) with respect to every float input. Inputs: In(shape, a)[i] = sin(a·i + 0.3) + cos(0.31·i²)
// (the quadratic phase keeps the matrices full rank: sin(a·i + 0.3) alone gives rank 2), or literals;
// LinalgTests builds the same. SVD cases output only sign-invariant functions of U and Vh (U·diag(c)·Vh), since the
// singular vectors are unique only up to a sign per pair.
using TorchSharp;
using static TorchSharp.torch;

Tensor In(long[] shape, double a, double scale = 1, double shift = 0)
{
    long n = shape.Aggregate(1L, (p, s) => p * s);
    var v = Enumerable.Range(0, (int)n).Select(i => (Math.Sin(a * i + 0.3) + Math.Cos(0.31 * i * i)) * scale + shift).ToArray();
    return tensor(v, dtype: float64).reshape(shape).requires_grad_();
}
Tensor Lit(double[] v, params long[] shape) => tensor(v, dtype: float64).reshape(shape).requires_grad_();
Tensor I(long n) => eye(n, dtype: float64);
Tensor Spd(Tensor x) => x.matmul(x.mT) + I(x.shape[^1]);
Tensor Weighted(Tensor u, Tensor s, Tensor vh) // U·diag(c)·Vh with c = 1, 2, 3, ...: sign-invariant, sees each vector pair
{
    var c = arange(1, s.shape[^1] + 1, dtype: float64);
    return (u * c).matmul(vh);
}
string R(double d) => double.IsNaN(d) ? "double.NaN" : double.IsPositiveInfinity(d) ? "double.PositiveInfinity" : double.IsNegativeInfinity(d) ? "double.NegativeInfinity" : d.ToString("R");
string Arr(Tensor t) => "[" + string.Join(", ", t.to(float64).data<double>().ToArray().Select(R)) + "]";

var cases = new List<(string, Func<Tensor[]>, Func<Tensor[], Tensor[]>)>
{
    ("inv", () => [In([3, 3], 0.9)], a => [linalg.inv(a[0] + 2 * I(3))]),
    ("inv_batched", () => [In([2, 3, 3], 1.3)], a => [linalg.inv(a[0] + 2 * I(3))]),
    ("det", () => [In([3, 3], 0.9)], a => [linalg.det(a[0] + I(3))]),
    ("det_batched", () => [In([2, 2, 3, 3], 0.7)], a => [linalg.det(a[0])]),
    ("det_singular", () => [Lit([1, 2, 3, 2, 4, 6, 1, 0, 1], 3, 3)], a => [linalg.det(a[0])]),
    ("slogdet", () => [In([2, 3, 3], 1.1)], a => { var (s, l) = linalg.slogdet(a[0] - I(3)); return [s, l]; }),
    ("solve_matrix", () => [In([3, 3], 0.9), In([3, 2], 1.7)], a => [linalg.solve(a[0] + 2 * I(3), a[1])]),
    ("solve_vector", () => [In([3, 3], 0.9), In([3], 1.7)], a => [linalg.solve(a[0] + 2 * I(3), a[1])]),
    ("solve_batched_vectors", () => [In([2, 3, 3], 0.9), In([2, 3], 1.7)], a => [linalg.solve(a[0] + 2 * I(3), a[1])]),
    ("solve_broadcast", () => [In([2, 3, 3], 0.9), In([3, 2], 1.7)], a => [linalg.solve(a[0] + 2 * I(3), a[1])]),
    ("solve_right", () => [In([3, 3], 0.9), In([2, 3], 1.7)], a => [linalg.solve(a[0] + 2 * I(3), a[1], left: false)]),
    ("cholesky", () => [In([3, 3], 0.9)], a => [linalg.cholesky(Spd(a[0]))]),
    ("cholesky_upper_batched", () => [In([2, 3, 3], 1.3)], a => [linalg.cholesky(Spd(a[0])).mT]),
    ("qr_tall", () => [In([4, 3], 0.9)], a => { var (q, r) = linalg.qr(a[0]); return [q, r]; }),
    ("qr_square", () => [In([3, 3], 1.3)], a => { var (q, r) = linalg.qr(a[0]); return [q, r]; }),
    ("qr_wide", () => [In([3, 5], 0.8)], a => { var (q, r) = linalg.qr(a[0]); return [q, r]; }),
    ("qr_batched", () => [In([2, 4, 2], 1.1)], a => { var (q, r) = linalg.qr(a[0]); return [q, r]; }),
    ("qr_r_only", () => [In([4, 3], 0.9)], a => [linalg.qr(a[0]).Item2]),
    ("svd_square", () => [In([3, 3], 0.9)], a => { var (u, s, vh) = linalg.svd(a[0], fullMatrices: false); return [s, Weighted(u, s, vh)]; }),
    ("svd_tall", () => [In([4, 3], 1.3)], a => { var (u, s, vh) = linalg.svd(a[0], fullMatrices: false); return [s, Weighted(u, s, vh), u.matmul(u.mT)]; }),
    ("svd_wide", () => [In([3, 5], 0.7)], a => { var (u, s, vh) = linalg.svd(a[0], fullMatrices: false); return [s, Weighted(u, s, vh), vh.mT.matmul(vh)]; }),
    ("svd_batched", () => [In([2, 3, 2], 1.1)], a => { var (u, s, vh) = linalg.svd(a[0], fullMatrices: false); return [s, Weighted(u, s, vh)]; }),
    ("svd_full_values", () => [In([4, 2], 0.9)], a => [linalg.svd(a[0], fullMatrices: true).Item2]),
    ("svdvals", () => [In([3, 4], 0.6)], a => [linalg.svdvals(a[0])]),
    ("vector_norm_2", () => [In([3, 4], 0.9)], a => [linalg.vector_norm(a[0])]),
    ("vector_norm_1_dim", () => [In([3, 4], 0.9)], a => [linalg.vector_norm(a[0], 1, new long[] { 1 })]),
    ("vector_norm_inf_keepdim", () => [In([3, 4], 0.9)], a => [linalg.vector_norm(a[0], double.PositiveInfinity, new long[] { 0 }, keepdim: true)]),
    ("vector_norm_neg_inf", () => [In([3, 4], 0.9)], a => [linalg.vector_norm(a[0], double.NegativeInfinity, new long[] { 1 })]),
    ("vector_norm_3", () => [In([2, 3, 4], 0.9)], a => [linalg.vector_norm(a[0], 3, new long[] { 0, 2 })]),
    ("vector_norm_0", () => [Lit([1, 0, 2, 0, 0, 3], 2, 3)], a => [linalg.vector_norm(a[0], 0, new long[] { 1 })]),
    ("matrix_norm_fro", () => [In([2, 3, 4], 0.9)], a => [linalg.matrix_norm(a[0])]),
    ("matrix_norm_nuc", () => [In([2, 3, 4], 0.9)], a => [linalg.matrix_norm(a[0], "nuc")]),
    ("matrix_norm_1", () => [In([2, 3, 4], 0.9)], a => [linalg.matrix_norm(a[0], 1)]),
    ("matrix_norm_neg_1", () => [In([2, 3, 4], 0.9)], a => [linalg.matrix_norm(a[0], -1)]),
    ("matrix_norm_inf", () => [In([2, 3, 4], 0.9)], a => [linalg.matrix_norm(a[0], double.PositiveInfinity)]),
    ("matrix_norm_neg_inf", () => [In([2, 3, 4], 0.9)], a => [linalg.matrix_norm(a[0], double.NegativeInfinity)]),
    ("matrix_norm_2", () => [In([2, 3, 4], 0.9)], a => [linalg.matrix_norm(a[0], 2)]),
    ("matrix_norm_neg_2", () => [In([2, 3, 4], 0.9)], a => [linalg.matrix_norm(a[0], -2)]),
    ("matrix_norm_dims_keepdim", () => [In([3, 2, 4], 0.9)], a => [linalg.matrix_norm(a[0], 1, new long[] { 2, 0 }, keepdim: true)]),
    ("norm_default", () => [In([2, 3, 4], 0.9)], a => [linalg.norm(a[0])]),
    ("norm_matrix_ord", () => [In([3, 4], 0.9)], a => [linalg.norm(a[0], double.PositiveInfinity)]),
    ("norm_vector_ord_dim", () => [In([3, 4], 0.9)], a => [linalg.norm(a[0], 3, new long[] { 1 })]),
    ("norm_fro_dims", () => [In([2, 3, 4], 0.9)], a => [linalg.norm(a[0], "fro", new long[] { 0, 2 })]),
};

Console.WriteLine("// Generated by tests/Ember.Tests/Reference/Linalg/linalg.oracle.csx (libtorch 2.10 via TorchSharp 0.107, float64). Do not edit.");
Console.WriteLine("using Ember.Tests.Reference.Ops;");
Console.WriteLine();
Console.WriteLine("namespace Ember.Tests.Reference.Linalg;");
Console.WriteLine();
Console.WriteLine("internal static class LinalgReference");
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
