using Ember.Metrics;

namespace Ember.Distributed;

/// <summary>
/// Metrics of a data set split across ranks made those of the whole set: each rank scores its shard, then the counts
/// are summed over all ranks (torchmetrics' sync with dist_reduce_fx="sum"). Every rank must call these in the same order.
/// </summary>
public static class DistributedMetrics
{
    /// <summary>Sums the confusion matrices of all ranks into <paramref name="confusion"/> on every rank.</summary>
    public static void AllReduce(ConfusionMatrix confusion)
    {
        ArgumentNullException.ThrowIfNull(confusion);
        var group = Distributed.Group("DistributedMetrics.AllReduce(ConfusionMatrix)");
        if (group.WorldSize == 1) return;
        var state = confusion.State();
        group.AllReduce(CommBuffer.Of(state), ReduceOp.Sum, "DistributedMetrics confusion-matrix all-reduce").Wait();
        confusion.LoadState(state);
    }

    /// <summary>
    /// The mean over all ranks of per-rank means weighted by their sample counts (a rank with no samples, whose mean
    /// may be NaN, contributes nothing); NaN when no rank has samples.
    /// </summary>
    public static double WeightedMean(double mean, long samples)
    {
        var group = Distributed.Group("DistributedMetrics.WeightedMean");
        if (group.WorldSize == 1) return samples > 0 ? mean : double.NaN;
        var sums = Torch.FromArray(new[] { samples > 0 ? mean * samples : 0, samples }, [2]);
        Distributed.AllReduce(sums);
        var total = sums.ToDoubleArray();
        return total[1] > 0 ? total[0] / total[1] : double.NaN;
    }
}
