using Ember.Bench.Peers;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>
/// Softmax over the last dim of a 4096×1024 float32 matrix (memory-bound: 16 MB in, 16 MB out), forward only or
/// forward and backward (the input requires grad; the backward is seeded with a fixed random gradient).
/// </summary>
public sealed class SoftmaxPair(bool backward = false) : IPairedWorkload
{
    const int Rows = 4096, Cols = 1024;

    public string Name => backward ? "softmax 4096×1024 fwd+bwd" : "softmax 4096×1024";

    public double Flops => 0;

    public double MinSampleSeconds => 0.02; // see IPairedWorkload.MinSampleSeconds

    public Action SetUpEmber()
    {
        Tensor x = Inputs.Randn(1, Rows, Cols);
        if (!backward) return OutputDisposal.Call(() => x.Softmax(1));
        Tensor g = Inputs.Randn(2, Rows, Cols);
        x.RequiresGrad = true;
        return () =>
        {
            x.Grad = null;
            x.Softmax(1).Backward(g);
        };
    }

    public Action SetUpTorch()
    {
        var x = Inputs.TorchRandn(1, Rows, Cols);
        if (!backward) return () => { using var y = x.softmax(1); };
        var g = Inputs.TorchRandn(2, Rows, Cols);
        x.requires_grad = true;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            x.grad = null;
            x.softmax(1).backward([g]);
        };
    }

    public void CheckSameWork()
    {
        if (!backward) return;
        Tensor x = Inputs.Randn(1, Rows, Cols), g = Inputs.Randn(2, Rows, Cols);
        x.RequiresGrad = true;
        x.Softmax(1).Backward(g);
        using var xt = Inputs.TorchRandn(1, Rows, Cols);
        using var gt = Inputs.TorchRandn(2, Rows, Cols);
        xt.requires_grad = true;
        using (var y = xt.softmax(1)) y.backward([gt]);
        SameWork.CheckClose(Name + " (input gradient)", x.Grad!, xt.grad!);
    }
}
