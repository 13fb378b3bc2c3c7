using Ember.Bench.Peers;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>
/// A 4096×1024 float32 matrix times a broadcast row vector [1024] or column vector [4096, 1] (the bias/scale patterns
/// of layers): 16 MB in, 16 MB out.
/// </summary>
public sealed class BroadcastMulPair(bool column) : IPairedWorkload
{
    const int Rows = 4096, Cols = 1024;

    public string Name => column ? "mul 4096×1024 by column [4096, 1]" : "mul 4096×1024 by row [1024]";

    public double Flops => 0;

    public double MinSampleSeconds => 0.02; // see IPairedWorkload.MinSampleSeconds

    int[] VectorShape => column ? [Rows, 1] : [Cols];

    public Action SetUpEmber()
    {
        Tensor a = Inputs.Randn(1, Rows, Cols), v = Inputs.Randn(2, VectorShape);
        return OutputDisposal.Call(() => a.Mul(v));
    }

    public Action SetUpTorch()
    {
        var a = Inputs.TorchRandn(1, Rows, Cols);
        var v = Inputs.TorchRandn(2, VectorShape);
        return () => { using var c = a.mul(v); };
    }

    public void CheckSameWork()
    {
        Tensor a = Inputs.Randn(1, Rows, Cols), v = Inputs.Randn(2, VectorShape);
        using var at = Inputs.ToTorch(a);
        using var vt = Inputs.ToTorch(v);
        using var c = at.mul(vt);
        SameWork.CheckClose(Name, a.Mul(v), c);
    }
}
