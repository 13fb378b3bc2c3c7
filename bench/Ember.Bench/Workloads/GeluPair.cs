using Ember.Bench.Peers;
using Ember.Nn.Functional;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>
/// GELU, exact (erf) form, of 4M float32 elements: Ember's F.Gelu against torch.nn.functional.gelu, both one fused
/// pass (Ember's erf is vectorized and evaluated in double precision).
/// </summary>
public sealed class GeluPair : IPairedWorkload
{
    const int N = 4 << 20;

    public string Name => "GELU 4M (F.Gelu, erf)";

    public double Flops => 0;

    public Action SetUpEmber()
    {
        Tensor x = Inputs.Randn(1, N);
        return () => F.Gelu(x);
    }

    public Action SetUpTorch()
    {
        var x = Inputs.TorchRandn(1, N);
        return () => { using var y = torch.nn.functional.gelu(x); };
    }

    public void CheckSameWork()
    {
        // Values beyond ±3 as well, where erf saturates.
        Tensor x = Inputs.Randn(1, N) * 2.0;
        using var xt = Inputs.ToTorch(x);
        using var y = torch.nn.functional.gelu(xt);
        SameWork.CheckClose(Name, F.Gelu(x), y);
    }
}
