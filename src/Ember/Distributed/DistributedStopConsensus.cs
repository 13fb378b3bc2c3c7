using Ember.Training;

namespace Ember.Distributed;

/// <summary>
/// Makes the ranks stop training at the same batch. A stop asked on one rank only (a signal, a time budget, a
/// simulated interruption) would otherwise leave its peers waiting in their next all-reduce. At every batch end and
/// epoch end the ranks all-reduce whether any of them wants to stop, and all stop together. Register it after the
/// callbacks that may ask for a stop; signal handlers call <see cref="Request"/> instead of setting
/// <see cref="TrainerState.StopRequested"/>, which another thread would otherwise change between the vote and the
/// trainer's check.
/// </summary>
public sealed class DistributedStopConsensus : Callback
{
    volatile string? requested;

    /// <summary>Asks for a stop at the next batch end of every rank (thread-safe; for signal handlers).</summary>
    public void Request(string reason) => requested = reason;

    /// <inheritdoc/>
    public override void OnBatchEnd(TrainerState state) => Agree(state);

    /// <inheritdoc/>
    public override void OnEpochEnd(TrainerState state) => Agree(state);

    void Agree(TrainerState state)
    {
        var group = Distributed.Group("DistributedStopConsensus");
        string? pending = requested;
        if (pending is not null && !state.StopRequested) { state.StopRequested = true; state.StopReason = pending; }
        if (group.WorldSize == 1) return;
        // the lowest rank that wants to stop, or WorldSize when none does
        var vote = Torch.FromArray(new long[] { state.StopRequested ? group.Rank : group.WorldSize }, [1]);
        Distributed.AllReduce(vote, ReduceOp.Min);
        long first = (long)vote.Item();
        if (first == group.WorldSize) return;
        // Every rank learns why: a signal reaches the ranks one after another, and the lead, which prints the reason, may
        // see its peer's vote before its own handler has run; it must still say "interrupted (SIGTERM); resume with ...".
        string reason = BroadcastReason(first == group.Rank ? state.StopReason : null, (int)first);
        if (!state.StopRequested)
        {
            state.StopRequested = true;
            state.StopReason = $"{reason} (asked on rank {first})";
        }
    }

    /// <summary>Rank <paramref name="src"/>'s stop reason on every rank (its UTF-8 bytes, one per Int64 element).</summary>
    static string BroadcastReason(string? reason, int src)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(reason ?? "");
        var length = Torch.FromArray(new long[] { bytes.Length }, [1]);
        Distributed.Broadcast(length, src);
        int n = (int)(long)length.Item();
        if (n == 0) return "stopped";
        var text = Torch.FromArray(Array.ConvertAll(bytes.Length == n ? bytes : new byte[n], b => (long)b), [n]);
        Distributed.Broadcast(text, src);
        return System.Text.Encoding.UTF8.GetString(Array.ConvertAll(text.ToArray<long>(), v => (byte)v));
    }
}
