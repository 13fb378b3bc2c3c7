using Ember.Bench.Peers;
using Ember.Nn.Functional;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>SiLU of 4M float32 elements: Ember's F.Silu against torch.nn.functional.silu, both one fused pass.</summary>
public sealed class SiluPair : IPairedWorkload
{
    const int N = 4 << 20;

    public string Name => "SiLU 4M (F.Silu)";

    public double Flops => 0;

    public double MinSampleSeconds => 0.02; // see IPairedWorkload.MinSampleSeconds

    public Action SetUpEmber()
    {
        Tensor x = Inputs.Randn(1, N);
        return OutputDisposal.Call(() => F.Silu(x));
    }

    public Action SetUpTorch()
    {
        var x = Inputs.TorchRandn(1, N);
        return () => { using var y = torch.nn.functional.silu(x); };
    }

    public void CheckSameWork()
    {
        Tensor x = Inputs.Randn(1, N) * 4.0;
        using var xt = Inputs.ToTorch(x);
        using var y = torch.nn.functional.silu(xt);
        SameWork.CheckClose(Name, F.Silu(x), y);
    }
}
