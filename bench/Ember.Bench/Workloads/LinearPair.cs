using Ember.Bench.Peers;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>
/// A Linear(784→256) layer at batch 128, forward and backward: y = x·Wᵀ + b, then gradients of W and b
/// (the input does not require grad, as for a first layer). Written from core ops; F.Linear lives on another branch.
/// </summary>
public sealed class LinearPair : IPairedWorkload
{
    const int Batch = 128, In = 784, Out = 256;

    public string Name => "linear 128×784→256 fwd+bwd";

    // Forward x·Wᵀ, weight gradient dYᵀ·x: two products of 2·128·784·256 (the bias terms are negligible).
    public double Flops => 2 * 2.0 * Batch * In * Out;

    public Action SetUpEmber()
    {
        Tensor x = Inputs.Randn(1, Batch, In), w = Inputs.Randn(2, Out, In) * 0.03, b = Inputs.Randn(3, Out);
        Tensor g = Inputs.Randn(4, Batch, Out);
        w.RequiresGrad = b.RequiresGrad = true;
        return () =>
        {
            w.Grad = b.Grad = null;
            (x.MatMul(w.T) + b).Backward(g);
        };
    }

    public Action SetUpTorch()
    {
        var x = Inputs.TorchRandn(1, Batch, In);
        var w = Inputs.ToTorch(Inputs.Randn(2, Out, In) * 0.03);
        var b = Inputs.TorchRandn(3, Out);
        var g = Inputs.TorchRandn(4, Batch, Out);
        w.requires_grad = b.requires_grad = true;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            w.grad = b.grad = null;
            (x.matmul(w.t()) + b).backward([g]);
        };
    }
}
