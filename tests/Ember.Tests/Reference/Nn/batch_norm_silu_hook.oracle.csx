using TorchSharp;
using static TorchSharp.torch;
// silu(batch_norm(x)) in training (float64): the gradient of the BN output (the tensor between the two ops) as retain_grad
// keeps it and as autograd.grad returns it (what a register_hook is given; TorchSharp 0.107 has no register_hook), and the
// gradients of x, weight and bias, for s = sum(silu(bn(x))·v).
// Deterministic inputs: sin of an affine function of the element index so Ember builds the same tensors.
Tensor Seq(long[] shape, double a, double b) { long n = shape.Aggregate(1L, (p, s) => p * s); return (arange(n, dtype: float64) * a + b).sin().reshape(shape); }
var x = (Seq(new long[] { 2, 3, 4, 5 }, 0.37, 0.1) * 2 + 0.5).detach().requires_grad_();
var w = (Seq(new long[] { 3 }, 0.53, 0.7) + 1).detach().requires_grad_();
var b = Seq(new long[] { 3 }, 1.1, 0.3).detach().requires_grad_();
var v = Seq(new long[] { 2, 3, 4, 5 }, 0.91, -0.4);
(Tensor Bn, Tensor S) Forward()
{
    var bn = nn.functional.batch_norm(x, null, null, w, b, training: true, momentum: 0.1, eps: 1e-3);
    return (bn, (nn.functional.silu(bn) * v).sum());
}
// two graphs: in libtorch 2.10 a retained gradient also accumulates during autograd.grad over the same graph
var (bnGraded, sGraded) = Forward();
var hooked = torch.autograd.grad(new[] { sGraded }, new[] { bnGraded })[0];
var (bn, s) = Forward();
bn.retain_grad();
s.backward();
string F(Tensor t) => string.Join(", ", t.contiguous().data<double>().ToArray().Select(d => d.ToString("R")));
Console.WriteLine($"grad equals retain_grad: {hooked.equal(bn.grad).all().item<bool>()}");
Console.WriteLine($"gbn {F(bn.grad)}");
Console.WriteLine($"gx {F(x.grad)}");
Console.WriteLine($"gw {F(w.grad)}");
Console.WriteLine($"gb {F(b.grad)}");
