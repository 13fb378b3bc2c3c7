using Ember.Bench.Peers;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>Softmax over the last dim of a 4096×1024 float32 matrix (memory-bound: 16 MB in, 16 MB out).</summary>
public sealed class SoftmaxPair : IPairedWorkload
{
    const int Rows = 4096, Cols = 1024;

    public string Name => "softmax 4096×1024";

    public double Flops => 0;

    public Action SetUpEmber()
    {
        Tensor x = Inputs.Randn(1, Rows, Cols);
        return () => x.Softmax(1);
    }

    public Action SetUpTorch()
    {
        var x = Inputs.TorchRandn(1, Rows, Cols);
        return () => { using var y = x.softmax(1); };
    }
}
