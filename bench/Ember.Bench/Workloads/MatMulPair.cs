using Ember.Bench.Peers;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>Square float32 matmul through the tensor API (Tensor.MatMul vs torch.matmul): kernel plus dispatch and allocation.</summary>
public sealed class MatMulPair(int n) : IPairedWorkload
{
    public string Name => $"matmul {n}²";

    public double Flops => 2.0 * n * n * n;

    public Action SetUpEmber()
    {
        Tensor a = Inputs.Randn(1, n, n), b = Inputs.Randn(2, n, n);
        return () => a.MatMul(b);
    }

    public Action SetUpTorch()
    {
        var a = Inputs.TorchRandn(1, n, n);
        var b = Inputs.TorchRandn(2, n, n);
        return () => { using var c = a.matmul(b); };
    }
}
