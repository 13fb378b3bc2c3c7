namespace Ember.Tests.Reference.Autograd;

/// <summary>
/// Gradients of sum(op(x)) at the breakpoints of piecewise ops in float64, per input, from libtorch 2.10 via
/// ../shared/tools/torch-oracle running Reference/Autograd/breakpoints.oracle.csx. TorchSharp's F.hardtanh rows are left
/// out: its gradient was 1 even outside [min, max] (it does not reach ATen's hardtanh_backward); relu6, the same ATen op
/// hardtanh(x, 0, 6), stands for it.
/// </summary>
internal static class BreakpointReference
{
    public static readonly Dictionary<string, double[][]> Gradients = new()
    {
        ["clamp"] = [[1.0, 1.0, 0.0, 0.0, 1.0]],
        ["clamp_min_only"] = [[1.0, 0.0, 1.0]],
        ["relu6"] = [[0.0, 0.0, 0.0, 1.0, 0.0]],
        ["hardswish"] = [[0.0, 1.0, 0.5, 0.0, 1.0, 0.8333333333333333]],
        ["hardsigmoid"] = [[0.0, 0.0, 0.1666666716337204, 0.0, 0.0]],
        ["threshold"] = [[0.0, 0.0, 1.0]],
        ["relu"] = [[0.0, 0.0, 1.0]],
        ["leaky_relu"] = [[0.1, 0.1, 1.0]],
        ["elu"] = [[1.5, 0.5518191617571635, 1.0]],
        ["celu"] = [[1.0, 0.6065306597126334, 1.0]],
        ["selu"] = [[1.7580993408473766, 0.646768603034814, 1.0507009873554805]],
        ["softplus_threshold"] = [[0.9999999979388464, 0.9999999966017322, 1.0]],
        ["abs"] = [[0.0, -1.0, 1.0]],
        ["sign"] = [[0.0, 0.0, 0.0]],
        ["max_all_ties"] = [[0.0, 0.5, 0.5, 0.0]],
        ["min_all_ties"] = [[0.5, 0.5, 0.0]],
        ["max_dim_ties"] = [[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]],
        ["min_dim_ties"] = [[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]],
        ["amax_ties"] = [[0.0, 0.5, 0.5, 0.5, 0.5, 0.0]],
        ["amin_ties"] = [[0.5, 0.0, 0.5, 0.5, 0.0, 0.5]],
        ["maximum_ties"] = [[0.5, 1.0, 0.5], [0.5, 0.0, 0.5]],
        ["minimum_ties"] = [[0.5, 0.0, 0.5], [0.5, 1.0, 0.5]],
        ["clamp_tensor_ties"] = [[1.0, 1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0]],
        ["max_pool_ties"] = [[0.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0]],
    };
}
