using Ember.Bench.Peers;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>
/// GELU (exact, erf form) of 4M float32 elements. Ember has no fused GELU on this branch yet, so its side is the
/// composite 0.5·x·(1 + erf(x/√2)) from core ops (five passes and four temporaries); TorchSharp runs its fused kernel.
/// </summary>
public sealed class GeluPair : IPairedWorkload
{
    const int N = 4 << 20;

    public string Name => "GELU 4M (Ember: composite)";

    public double Flops => 0;

    public Action SetUpEmber()
    {
        Tensor x = Inputs.Randn(1, N);
        double invSqrt2 = 1 / Math.Sqrt(2);
        return () => _ = x * 0.5 * ((x * invSqrt2).Erf() + 1);
    }

    public Action SetUpTorch()
    {
        var x = Inputs.TorchRandn(1, N);
        return () => { using var y = torch.nn.functional.gelu(x); };
    }
}
