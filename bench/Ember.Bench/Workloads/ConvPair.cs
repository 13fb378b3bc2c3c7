using Ember.Bench.Peers;
using Ember.Nn.Functional;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>
/// conv2d 3×3, stride 1, padding 1, with bias: forward, or forward plus backward to the input, weight and bias.
/// Channel counts stay multiples of 16: libtorch 2.10's oneDNN float32 backward is wrong on this machine otherwise.
/// </summary>
public sealed class ConvPair(int n, int cIn, int size, int cOut, bool backward) : IPairedWorkload
{
    public string Name => $"conv3×3 ({n}, {cIn}, {size}, {size})→{cOut} {(backward ? "fwd+bwd" : "fwd")}";

    // Forward 2·N·Cout·H·W·Cin·9; the backward does two products of the same size (input and weight gradients).
    public double Flops => 2.0 * n * cOut * size * size * cIn * 9 * (backward ? 3 : 1);

    public Action SetUpEmber()
    {
        Tensor x = Inputs.Randn(1, n, cIn, size, size), w = Inputs.Randn(2, cOut, cIn, 3, 3) * 0.05, b = Inputs.Randn(3, cOut);
        if (!backward) return () => F.Conv2d(x, w, b, padding: 1);
        Tensor g = Inputs.Randn(4, n, cOut, size, size);
        x.RequiresGrad = w.RequiresGrad = b.RequiresGrad = true;
        return () =>
        {
            x.Grad = w.Grad = b.Grad = null; // as optimizer.zero_grad(set_to_none=True)
            F.Conv2d(x, w, b, padding: 1).Backward(g);
        };
    }

    public Action SetUpTorch()
    {
        var x = Inputs.TorchRandn(1, n, cIn, size, size);
        var w = Inputs.ToTorch(Inputs.Randn(2, cOut, cIn, 3, 3) * 0.05);
        var b = Inputs.TorchRandn(3, cOut);
        long[] pad = [1, 1];
        if (!backward) return () => { using var y = torch.nn.functional.conv2d(x, w, b, padding: pad); };
        var g = Inputs.TorchRandn(4, n, cOut, size, size);
        x.requires_grad = w.requires_grad = b.requires_grad = true;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            x.grad = w.grad = b.grad = null;
            torch.nn.functional.conv2d(x, w, b, padding: pad).backward([g]);
        };
    }
}
