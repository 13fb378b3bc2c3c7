using TorchSharp;
using static TorchSharp.torch;
// Legendre P3 as composed by torch ops; a custom Function in Ember must give the same values and gradients.
var x = tensor(new double[] { -1.5, -0.7, -0.1, 0.0, 0.3, 0.9, 1.2, 2.0 }).requires_grad_();
var v = tensor(new double[] { 0.5, -1.0, 2.0, 1.5, -0.25, 1.0, 0.75, -2.0 });
var y = 0.5 * (5 * x.pow(3) - 3 * x);
(y * v).sum().backward();
string F(Tensor t) => string.Join(", ", t.data<double>().ToArray().Select(d => d.ToString("R")));
Console.WriteLine($"y {F(y.detach())}");
Console.WriteLine($"g {F(x.grad)}");
