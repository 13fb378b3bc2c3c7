using TorchSharp;
using static TorchSharp.torch;
// TorchSharp 0.107 has no line_search_fn, so only the plain (fixed-step) L-BFGS is compared.
// L-BFGS on Rosenbrock (float64) through libtorch's C++ torch::optim::LBFGS: parameters and loss after each Step.
foreach (var strongWolfe in new[] { false })
{
  var x = nn.Parameter(tensor(new double[] { -1.5, 2.0 }, dtype: float64));
  var opt = optim.LBFGS(new[] { x }, lr: 1, max_iter: 20, max_eval: 25, 1e-7, 1e-9, 100);
  for (int step = 0; step < 6; step++)
  {
    var loss = opt.step(() => { opt.zero_grad(); var f = (1 - x[0]).pow(2) + 100 * (x[1] - x[0].pow(2)).pow(2); f.backward(); return f; });
    var v = x.data<double>().ToArray();
    Console.WriteLine($"{(strongWolfe ? "wolfe" : "plain")} {step} {loss.item<double>():R} {v[0]:R} {v[1]:R}");
  }
}
