using Ember.Bench.Peers;
using Ember.Nn.Functional;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>max_pool2d 2×2, stride 2, on (32, 64, 56, 56) float32: forward, or forward plus backward to the input.</summary>
public sealed class MaxPoolPair(bool backward) : IPairedWorkload
{
    const int N = 32, C = 64, Size = 56;

    public string Name => $"max_pool2d 2×2 (32, 64, 56, 56) {(backward ? "fwd+bwd" : "fwd")}";

    public double Flops => 0;

    public Action SetUpEmber()
    {
        Tensor x = Inputs.Randn(1, N, C, Size, Size);
        if (!backward) return () => F.MaxPool2d(x, 2);
        Tensor g = Inputs.Randn(2, N, C, Size / 2, Size / 2);
        x.RequiresGrad = true;
        return () =>
        {
            x.Grad = null;
            F.MaxPool2d(x, 2).Backward(g);
        };
    }

    public Action SetUpTorch()
    {
        var x = Inputs.TorchRandn(1, N, C, Size, Size);
        if (!backward) return () => { using var y = torch.nn.functional.max_pool2d(x, 2); };
        var g = Inputs.TorchRandn(2, N, C, Size / 2, Size / 2);
        x.requires_grad = true;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            x.grad = null;
            torch.nn.functional.max_pool2d(x, 2).backward([g]);
        };
    }
}
