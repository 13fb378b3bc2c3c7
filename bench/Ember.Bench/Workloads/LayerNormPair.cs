using Ember.Bench.Peers;
using Ember.Nn.Layers;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// nn.LayerNorm(1024) with affine weight and bias over a 4096×1024 float32 input: forward under no-grad (the kernel, not
/// autograd bookkeeping; 16 MB in, 16 MB out), or forward and backward to the input, weight and bias (the backward
/// seeded with a fixed random gradient). Weight and bias are random (not 1 and 0) so the check covers the affine step.
/// </summary>
public sealed class LayerNormPair(bool backward = false) : IPairedWorkload
{
    const int Rows = 4096, Cols = 1024;

    LayerNorm? norm;
    Tensor? x;
    torch.nn.Module<TT, TT>? peer;
    TT? xt;

    public string Name => backward ? "LayerNorm 4096×1024 fwd+bwd (affine)" : "LayerNorm 4096×1024 fwd (affine, no grad)";

    public double Flops => 0;

    public double MinSampleSeconds => 0.02; // see IPairedWorkload.MinSampleSeconds

    public Action SetUpEmber()
    {
        norm = new LayerNorm(Cols);
        using (Torch.NoGrad())
        {
            norm.Weight!.CopyFrom(Inputs.Randn(2, Cols) * 0.5 + 1.0);
            norm.Bias!.CopyFrom(Inputs.Randn(3, Cols) * 0.1);
        }
        // A non-zero mean and a scale other than 1, so centring and scaling both matter.
        x = Inputs.Randn(1, Rows, Cols) * 3.0 + 0.5;
        LayerNorm n = norm;
        Tensor input = x;
        if (!backward) return OutputDisposal.Call(() => { using (Torch.NoGrad()) return n.Call(input); });
        input.RequiresGrad = true;
        Tensor g = Inputs.Randn(4, Rows, Cols);
        return () =>
        {
            input.Grad = n.Weight!.Grad = n.Bias!.Grad = null;
            n.Call(input).Backward(g);
        };
    }

    public Action SetUpTorch()
    {
        if (norm is null) SetUpEmber();
        var ln = torch.nn.LayerNorm(Cols);
        SameWork.CopyWeights(norm!, ln);
        peer = ln;
        xt = Inputs.ToTorch(x!);
        TT input = xt;
        if (!backward)
            return () =>
            {
                using var grad = torch.no_grad();
                using var y = ln.forward(input);
            };
        input.requires_grad = true;
        var g = Inputs.TorchRandn(4, Rows, Cols);
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            input.grad = null;
            foreach (var p in ln.parameters()) p.grad = null;
            ln.forward(input).backward([g]);
        };
    }

    public void CheckSameWork()
    {
        if (backward)
        {
            // The timed actions leave their gradients behind: compare the input gradient of one more call on each side.
            x!.Grad = null;
            norm!.Call(x).Backward(Inputs.Randn(4, Rows, Cols));
            xt!.grad = null;
            using (var gt = Inputs.TorchRandn(4, Rows, Cols))
            using (var y = peer!.forward(xt)) y.backward([gt]);
            SameWork.CheckClose(Name + " (input gradient)", x.Grad!, xt.grad!);
            return;
        }
        using var grad = torch.no_grad();
        using (Torch.NoGrad())
        using (var y = peer!.forward(xt!))
            SameWork.CheckClose(Name, norm!.Call(x!), y);
    }
}
