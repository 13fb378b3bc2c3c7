using Ember.Training;

namespace Ember.Distributed;

/// <summary>
/// Makes an epoch's training loss and accuracy those of the whole global batch stream rather than of this rank's
/// share: at epoch end the ranks' sample-weighted sums are all-reduced and the epoch's history row is rewritten.
/// Likewise the validation loss, top-1 and top-5 at validation end, so each rank can validate on its own shard of the
/// validation set (the result is the whole set's, up to rounding, and the same on every rank). When the ranks stop
/// mid-epoch together (<see cref="DistributedStopConsensus"/>), it gathers every rank's running sums of the open epoch
/// for the checkpoint then written, so that a resumed epoch's row covers the batches before the cut. Register it
/// before the callbacks that read the row (loggers, progress), on every rank.
/// </summary>
public sealed class DistributedEpochMetrics : Callback
{
    /// <inheritdoc/>
    public override void OnValidationEnd(TrainerState state)
    {
        var group = Distributed.Group("DistributedEpochMetrics");
        if (group.WorldSize == 1) return;
        var m = state.ValidationMetrics;
        double n = state.ValidationSamples;
        // A rank with an empty shard has NaN means and weight 0; top-k is NaN on every rank for non-classification.
        double Weighted(string key) => n > 0 && m.TryGetValue(key, out var v) && !double.IsNaN(v) ? v * n : 0;
        bool hasTop = n > 0 && m.TryGetValue("top1", out var t) && !double.IsNaN(t);
        var sums = Torch.FromArray(new[] { Weighted("val_loss"), n, Weighted("top1"), Weighted("top5"), hasTop ? n : 0 }, [5]);
        Distributed.AllReduce(sums);
        var total = sums.ToDoubleArray();
        m["val_loss"] = total[1] > 0 ? total[0] / total[1] : double.NaN;
        m["top1"] = total[4] > 0 ? total[2] / total[4] : double.NaN;
        m["top5"] = total[4] > 0 ? total[3] / total[4] : double.NaN;
        state.ValidationSamples = (long)total[1];
    }

    /// <inheritdoc/>
    public override void OnFitEnd(TrainerState state)
    {
        // Only after a stop the ranks agreed on (they all left the epoch at the same batch); a fit that ended by an
        // exception may have left the peers elsewhere, and a collective here would wait for them forever.
        if (!state.StoppedMidEpoch) return;
        var group = Distributed.Group("DistributedEpochMetrics");
        if (group.WorldSize == 1) return;
        var own = state.EpochSums;
        var losses = Distributed.AllGather(Torch.FromArray(new[] { own.LossSum }, [1]));
        var counts = Distributed.AllGather(Torch.FromArray(new[] { own.Samples, own.Correct, own.Counted }, [3]));
        var ranks = new PartialEpochSums[group.WorldSize];
        for (int r = 0; r < ranks.Length; r++)
        {
            var c = counts[r].ToArray<long>();
            ranks[r] = new PartialEpochSums(losses[r].ToDoubleArray()[0], c[0], c[1], c[2]);
        }
        state.RankEpochSums = ranks;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(TrainerState state)
    {
        var group = Distributed.Group("DistributedEpochMetrics");
        if (group.WorldSize == 1 || state.History.Count == 0) return;
        double n = state.EpochSamples;
        bool hasAccuracy = !double.IsNaN(state.EpochAccuracy);
        var sums = Torch.FromArray(new[] { state.EpochLoss * n, hasAccuracy ? state.EpochAccuracy * n : 0, n }, [3]);
        Distributed.AllReduce(sums);
        var total = sums.ToDoubleArray();
        if (total[2] <= 0) return;
        state.EpochLoss = total[0] / total[2];
        if (hasAccuracy) state.EpochAccuracy = total[1] / total[2];
        state.History[^1] = state.History[^1] with { TrainLoss = state.EpochLoss, TrainAccuracy = state.EpochAccuracy };
    }
}
