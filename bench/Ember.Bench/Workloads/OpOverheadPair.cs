using Ember.Bench.Peers;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>
/// The fixed cost of one operator call: a 1-element add, without or with autograd recording (an input that
/// requires grad, so the op builds a graph node). The arithmetic is nothing; dispatch and allocation are everything.
/// </summary>
public sealed class OpOverheadPair(bool recordGraph) : IPairedWorkload
{
    public string Name => recordGraph ? "1-element add, autograd" : "1-element add";

    public double Flops => 0;

    public Action SetUpEmber()
    {
        Tensor a = Inputs.Randn(1, 1), b = Inputs.Randn(2, 1);
        a.RequiresGrad = recordGraph;
        return () => a.Add(b);
    }

    public Action SetUpTorch()
    {
        var a = Inputs.TorchRandn(1, 1);
        var b = Inputs.TorchRandn(2, 1);
        a.requires_grad = recordGraph;
        // Disposing the result explicitly is the cheapest correct TorchSharp pattern for a single op.
        return () => { using var c = a.add(b); };
    }
}
