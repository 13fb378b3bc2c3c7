// Reference for ElementwiseOpsTests.Relu_backward_at_NaN_and_infinities_follows_PyTorch_in_the_kernel_and_the_graph (issue 22,
// session 12): ../shared/tools/torch-oracle/run.sh tests/Ember.Tests/Reference/Ops/relu_nan.oracle.csx printed, for every dtype,
// relu NaN, 0, 0, -0, 2, Infinity, 0 and grad 3, 0, 0, 0, 13, 17, 0 (libtorch 2.10: a NaN input passes the gradient).
// relu's backward at NaN, ±inf, ±0 and ordinary inputs (float32 and float64), via libtorch 2.10.
using TorchSharp;
using static TorchSharp.torch;

foreach (var dt in new[] { ScalarType.Float32, ScalarType.Float64, ScalarType.BFloat16 })
{
    var x = tensor(new double[] { double.NaN, -1.0, 0.0, -0.0, 2.0, double.PositiveInfinity, double.NegativeInfinity }, dtype: dt);
    x.requires_grad = true;
    var y = nn.functional.relu(x);
    var g = tensor(new double[] { 3, 5, 7, 11, 13, 17, 19 }, dtype: dt);
    (y * g).sum().backward();
    Console.WriteLine($"{dt} relu {string.Join(", ", y.to_type(ScalarType.Float64).data<double>().ToArray())}");
    Console.WriteLine($"{dt} grad {string.Join(", ", x.grad.to_type(ScalarType.Float64).data<double>().ToArray())}");
}
