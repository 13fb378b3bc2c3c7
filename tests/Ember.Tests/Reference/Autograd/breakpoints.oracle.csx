using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
// Gradients of sum(op(x)) at the breakpoints of piecewise ops, float64. One line per case: name, then each input's gradient.
Tensor T(params double[] v) => tensor(v, dtype: float64).requires_grad_();
var cases = new (string, Func<Tensor[]>, Func<Tensor[], Tensor>)[] {
  ("clamp", () => new[] { T(-0.5, 0.5, -0.6, 0.6, 0) }, a => a[0].clamp(-0.5, 0.5)),
  ("clamp_min_only", () => new[] { T(0.1, 0, 0.2) }, a => a[0].clamp_min(0.1)),
  ("hardtanh", () => new[] { T(-1, 1, 0, -2, 2) }, a => F.hardtanh(a[0])),
  ("hardtanh_custom", () => new[] { T(-2, 3, 0, -2.5, 3.5) }, a => F.hardtanh(a[0], -2, 3)),
  ("relu6", () => new[] { T(0, 6, -1, 3, 7) }, a => F.relu6(a[0])),
  ("hardswish", () => new[] { T(-3, 3, 0, -4, 4, 1) }, a => F.hardswish(a[0])),
  ("hardsigmoid", () => new[] { T(-3, 3, 0, -4, 4) }, a => F.hardsigmoid(a[0])),
  ("threshold", () => new[] { T(0.5, 0.4, 0.6) }, a => F.threshold(a[0], 0.5, 2)),
  ("relu", () => new[] { T(0, -1, 1) }, a => a[0].relu()),
  ("leaky_relu", () => new[] { T(0, -1, 1) }, a => F.leaky_relu(a[0], 0.1)),
  ("elu", () => new[] { T(0, -1, 1) }, a => F.elu(a[0], 1.5)),
  ("celu", () => new[] { T(0, -1, 1) }, a => F.celu(a[0], 2.0)),
  ("selu", () => new[] { T(0, -1, 1) }, a => F.selu(a[0])),
  ("softplus_threshold", () => new[] { T(20, 19.5, 20.5) }, a => F.softplus(a[0])),
  ("abs", () => new[] { T(0, -1, 1) }, a => a[0].abs()),
  ("sign", () => new[] { T(0, -1, 1) }, a => a[0].sign()),
  ("max_all_ties", () => new[] { T(1, 3, 3, 2) }, a => a[0].max()),
  ("min_all_ties", () => new[] { T(1, 1, 2) }, a => a[0].min()),
  ("max_dim_ties", () => new[] { T(1, 3, 3, 2, 2, 0) }, a => a[0].reshape(2, 3).max(1).values),
  ("min_dim_ties", () => new[] { T(1, 3, 1, 0, 2, 0) }, a => a[0].reshape(2, 3).min(1).values),
  ("amax_ties", () => new[] { T(1, 3, 3, 2, 2, 0) }, a => a[0].reshape(2, 3).amax(new long[] { 1 })),
  ("amin_ties", () => new[] { T(1, 3, 1, 0, 2, 0) }, a => a[0].reshape(2, 3).amin(new long[] { 1 })),
  ("maximum_ties", () => new[] { T(1, 2, 3), T(1, 0, 3) }, a => a[0].maximum(a[1])),
  ("minimum_ties", () => new[] { T(1, 2, 3), T(1, 0, 3) }, a => a[0].minimum(a[1])),
  ("clamp_tensor_ties", () => new[] { T(0, 1, 2, -1, 3), T(0, 0, 0, 0, 0), T(2, 2, 2, 2, 2) }, a => a[0].clamp(a[1], a[2])),
  ("max_pool_ties", () => new[] { T(1, 1, 1, 1, 2, 0, 2, 2, 1) }, a => F.max_pool2d(a[0].reshape(1, 1, 3, 3), 2, 1)),
};
string Fmt(Tensor t) => t is null ? "none" : string.Join(",", t.data<double>().ToArray().Select(d => d.ToString("R")));
foreach (var (name, make, f) in cases)
{
  var xs = make();
  f(xs).sum().backward();
  Console.WriteLine($"{name} {string.Join(" ", xs.Select(x => Fmt(x.grad)))}");
}
