using Ember.Training;

namespace Ember.Distributed;

/// <summary>
/// Makes an epoch's training loss and accuracy those of the whole global batch stream rather than of this rank's
/// share: at epoch end the ranks' sample-weighted sums are all-reduced and the epoch's history row is rewritten.
/// Register it before the callbacks that read the row (loggers, progress), on every rank.
/// </summary>
public sealed class DistributedEpochMetrics : Callback
{
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
