using Ember.Bench.Peers;
using Ember.Nn;
using Ember.Nn.Functional;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>
/// GELU of 4M float32 elements, exact (erf) or tanh form: Ember's F.Gelu against torch.nn.functional.gelu, both one
/// fused pass each.
/// </summary>
public sealed class GeluPair(bool tanh = false) : IPairedWorkload
{
    const int N = 4 << 20;

    readonly GeluApproximate approximate = tanh ? GeluApproximate.Tanh : GeluApproximate.None;
    TorchSharp.Modules.GELU.Approximate TorchApproximate => tanh ? TorchSharp.Modules.GELU.Approximate.tanh : TorchSharp.Modules.GELU.Approximate.none;

    public string Name => tanh ? "GELU 4M (F.Gelu, tanh)" : "GELU 4M (F.Gelu, erf)";

    public double Flops => 0;

    public double MinSampleSeconds => 0.02; // see IPairedWorkload.MinSampleSeconds

    public Action SetUpEmber()
    {
        Tensor x = Inputs.Randn(1, N);
        return OutputDisposal.Call(() => F.Gelu(x, approximate));
    }

    public Action SetUpTorch()
    {
        var x = Inputs.TorchRandn(1, N);
        return () => { using var y = torch.nn.functional.gelu(x, TorchApproximate, false); };
    }

    public void CheckSameWork()
    {
        // Values beyond ±3 as well, where erf saturates.
        Tensor x = Inputs.Randn(1, N) * 2.0;
        using var xt = Inputs.ToTorch(x);
        using var y = torch.nn.functional.gelu(xt, TorchApproximate, false);
        SameWork.CheckClose(Name, F.Gelu(x, approximate), y);
    }
}
