using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
// grad_fn names libtorch gives to common ops (float32 inputs that require grad).
var x = randn(4, 6).requires_grad_();
var y = randn(4, 6).requires_grad_();
var p = rand(4, 6).clamp(0.05, 0.95).requires_grad_();
var t = rand(4, 6);
var w = randn(3, 6).requires_grad_();
var b = randn(3).requires_grad_();
var img = randn(2, 3, 8, 8).requires_grad_();
var cw = randn(4, 3, 3, 3).requires_grad_();
autograd.set_detect_anomaly(true);
var labels = tensor(new long[] { 0, 5, 2, 3 });
var cases = new (string, Func<Tensor>)[] {
  ("add", () => x + y), ("add_scalar", () => x + 2), ("sub", () => x - y), ("mul", () => x * y), ("mul_scalar", () => x * 2),
  ("div", () => x / y), ("div_scalar", () => x / 2), ("neg", () => -x), ("pow_scalar", () => x.pow(3)), ("pow_tensor", () => p.pow(y)),
  ("square", () => x.square()), ("exp", () => x.exp()), ("log", () => p.log()), ("sqrt", () => p.sqrt()), ("rsqrt", () => p.rsqrt()),
  ("abs", () => x.abs()), ("sin", () => x.sin()), ("tanh", () => x.tanh()), ("sigmoid", () => x.sigmoid()), ("relu", () => x.relu()),
  ("gelu", () => F.gelu(x)), ("silu", () => F.silu(x)), ("softplus", () => F.softplus(x)), ("leaky_relu", () => F.leaky_relu(x, 0.1)),
  ("elu", () => F.elu(x, 1.0)), ("hardtanh", () => F.hardtanh(x)), ("relu6", () => F.relu6(x)), ("hardswish", () => F.hardswish(x)),
  ("hardsigmoid", () => F.hardsigmoid(x)), ("clamp_scalar", () => x.clamp(-0.5, 0.5)), ("clamp_tensor", () => x.clamp(y, y + 1)),
  ("clamp_min", () => x.clamp_min(0.1)),
  ("maximum", () => x.maximum(y)), ("minimum", () => x.minimum(y)), ("max_all", () => x.max()), ("max_dim", () => x.max(1).values),
  ("min_all", () => x.min()), ("amax", () => x.amax(new long[] { 1 })),
  ("sum_all", () => x.sum()), ("sum_dim", () => x.sum(1)), ("mean_all", () => x.mean()), ("mean_dim", () => x.mean(new long[] { 1 })),
  ("prod_all", () => x.prod()), ("var", () => x.var()), ("std", () => x.std()), ("logsumexp", () => x.logsumexp(1)),
  ("matmul_2d", () => x.matmul(w.t())), ("linear", () => F.linear(x, w, b)), ("linear_nobias", () => F.linear(x, w)),
  ("bmm", () => x.reshape(2, 2, 6).bmm(y.reshape(2, 6, 2))),
  ("softmax", () => F.softmax(x, 1)), ("log_softmax", () => F.log_softmax(x, 1)),
  ("mse_loss", () => F.mse_loss(x, y)), ("l1_loss", () => F.l1_loss(x, y)), ("smooth_l1_loss", () => F.smooth_l1_loss(x, y)),
  ("huber_loss", () => F.huber_loss(x, y)), ("bce", () => F.binary_cross_entropy(p, t)),
  ("bce_with_logits", () => F.binary_cross_entropy_with_logits(x, t)), ("cross_entropy", () => F.cross_entropy(x, labels)),
  ("nll_loss", () => F.nll_loss(F.log_softmax(x, 1), labels)), ("kl_div", () => F.kl_div(F.log_softmax(x, 1), F.softmax(y, 1), reduction: nn.Reduction.Sum)),
  ("conv2d", () => F.conv2d(img, cw)), ("max_pool2d", () => F.max_pool2d(img, 2)), ("avg_pool2d", () => F.avg_pool2d(img, 2)),
  ("adaptive_avg_pool2d", () => F.adaptive_avg_pool2d(img, new long[] { 1, 1 })),
  ("layer_norm", () => F.layer_norm(x, new long[] { 6 })),
  ("batch_norm_train", () => F.batch_norm(img, null, null, training: true)), ("silu_batch_norm_train", () => F.silu(F.batch_norm(img, null, null, training: true))),
  ("reshape", () => x.reshape(6, 4)), ("view", () => x.view(24)), ("transpose", () => x.transpose(0, 1)), ("t", () => x.t()), ("T_property", () => x.T), ("hardtanh2", () => F.hardtanh(x * 3)), ("threshold", () => F.threshold(x, 0.1, 20)), ("reshape_copy", () => x.T.reshape(24)), ("cross_entropy_2d", () => F.cross_entropy(img, zeros(new long[] { 2, 8, 8 }, dtype: int64))), ("clamp_min_named", () => x.clamp(min: 0.1)),
  ("permute", () => img.permute(0, 2, 3, 1)), ("unsqueeze", () => x.unsqueeze(0)), ("squeeze_dim", () => x.unsqueeze(0).squeeze(0)),
  ("flatten", () => img.flatten(1)), ("cat", () => cat(new[] { x, y }, 0)), ("stack", () => stack(new[] { x, y }, 0)),
  ("narrow", () => x.narrow(1, 1, 3)), ("select", () => x.select(0, 1)), ("expand", () => x[..1].expand(4, 6)),
  ("where", () => where(x > 0, x, y)), ("masked_fill", () => x.masked_fill(x > 0, 0)), ("index_select", () => x.index_select(0, labels.clamp(0, 3))),
  ("gather", () => x.gather(1, labels.clamp(0, 5).unsqueeze(1))), ("clone", () => x.clone()), ("flip", () => x.flip(0)),
  ("erf", () => x.erf()), ("log1p", () => p.log1p()), ("expm1", () => x.expm1()), ("reciprocal", () => p.reciprocal()), ("atan", () => x.atan()),
  ("sign", () => x.sign()), ("floor", () => x.floor()), ("logsigmoid", () => F.logsigmoid(x)),
  ("mish", () => F.Mish(x)), ("softsign", () => F.softsign(x)), ("selu", () => F.selu(x)), ("celu", () => F.celu(x, 1.0)),
};
foreach (var (name, f) in cases)
{
  // TorchSharp has no grad_fn: anomaly mode names the node whose backward turns a NaN seed into NaN gradients.
  var r = f();
  try { r.backward(new[] { full_like(r, double.NaN) }); Console.WriteLine($"{name} ?"); }
  catch (Exception e) { var m = System.Text.RegularExpressions.Regex.Match(e.Message, "Function '([A-Za-z0-9]+)'"); Console.WriteLine($"{name} {(m.Success ? m.Groups[1].Value : "ERR " + e.Message.Split('\n')[0])}"); }
}
