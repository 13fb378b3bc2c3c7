using TorchSharp;
using static TorchSharp.torch;
// Gradient penalty through a conv2d (float64): p = sum((d/dx sum(tanh(conv(x,w,b))·v))²); print p and dp/dw, dp/db, dp/dx.
// Deterministic inputs: sin/cos of the element index so Ember builds the same tensors.
Tensor Seq(long[] shape, double a, double b) { long n = shape.Aggregate(1L, (p, s) => p * s); return (arange(n, dtype: float64) * a + b).sin().reshape(shape); }
var x = Seq(new long[] { 2, 4, 6, 5 }, 0.37, 0.1).requires_grad_();
var w = (Seq(new long[] { 6, 2, 3, 3 }, 0.53, 0.7) * 0.5).detach().requires_grad_();
var b = Seq(new long[] { 6 }, 1.1, 0.3).detach().requires_grad_();
var v = Seq(new long[] { 2, 6, 3, 3 }, 0.91, -0.4);
var y = nn.functional.conv2d(x, w, b, strides: new long[] { 2, 2 }, padding: new long[] { 1, 1 }, dilation: new long[] { 1, 1 }, groups: 2);
var s = (y.tanh() * v).sum();
var gx = torch.autograd.grad(new[] { s }, new[] { x }, retain_graph: true, create_graph: true)[0];
var p = gx.pow(2).sum();
var grads = torch.autograd.grad(new[] { p }, new[] { w, b, x });
string F(Tensor t) => string.Join(", ", t.contiguous().data<double>().ToArray().Select(d => d.ToString("R")));
Console.WriteLine($"yshape {string.Join(",", y.shape)}");
Console.WriteLine($"p {p.item<double>():R}");
Console.WriteLine($"gw {F(grads[0])}");
Console.WriteLine($"gb {F(grads[1])}");
Console.WriteLine($"gx {F(grads[2])}");
