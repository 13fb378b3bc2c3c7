using Ember.Bench.Peers;
using TorchSharp;

namespace Ember.Bench.Workloads;

/// <summary>
/// sum or mean of a 4096×1024 float32 matrix along dim 0 (down the columns: the reduced axis is the outer one) or dim 1
/// (along each row: the reduced axis is contiguous). 16 MB read, a vector written.
/// </summary>
public sealed class ReducePair(bool mean, int dim) : IPairedWorkload
{
    const int Rows = 4096, Cols = 1024;

    public string Name => $"{(mean ? "mean" : "sum")} 4096×1024 along dim {dim}";

    public double Flops => 0;

    public double MinSampleSeconds => 0.02; // see IPairedWorkload.MinSampleSeconds

    public Action SetUpEmber()
    {
        Tensor a = Inputs.Randn(1, Rows, Cols);
        return OutputDisposal.Call(mean ? () => a.Mean([dim]) : () => a.Sum([dim]));
    }

    public Action SetUpTorch()
    {
        var a = Inputs.TorchRandn(1, Rows, Cols);
        long[] dims = [dim];
        return mean ? () => { using var r = a.mean(dims); } : () => { using var r = a.sum(dims); };
    }

    public void CheckSameWork()
    {
        Tensor a = Inputs.Randn(1, Rows, Cols);
        using var at = Inputs.ToTorch(a);
        long[] dims = [dim];
        using var r = mean ? at.mean(dims) : at.sum(dims);
        SameWork.CheckClose(Name, mean ? a.Mean([dim]) : a.Sum([dim]), r, scaleByMagnitude: true);
    }
}
