using Ember.Bench.Peers;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>Elementwise add of two 4M-element float32 vectors into a new tensor (memory-bound: 48 MB moved).</summary>
public sealed class AddPair : IPairedWorkload
{
    const int N = 4 << 20;

    public string Name => "add 4M";

    public double Flops => 0;

    public double MinSampleSeconds => 0.02; // see IPairedWorkload.MinSampleSeconds

    public Action SetUpEmber()
    {
        Tensor a = Inputs.Randn(1, N), b = Inputs.Randn(2, N);
        return OutputDisposal.Call(() => a.Add(b));
    }

    public Action SetUpTorch()
    {
        var a = Inputs.TorchRandn(1, N);
        var b = Inputs.TorchRandn(2, N);
        return () => { using var c = a.add(b); };
    }
}
