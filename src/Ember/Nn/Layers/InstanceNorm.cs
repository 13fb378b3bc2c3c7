using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Instance normalization (torch.nn.modules.instancenorm._InstanceNorm): each (sample, channel) is normalized over its
/// positions. Unlike batch norm, affine and track_running_stats default to false. An unbatched input (one dimension
/// fewer) is accepted.
/// </summary>
public abstract class InstanceNorm : NormBase
{
    /// <summary>Registers the parameters and buffers.</summary>
    protected InstanceNorm(int numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats)
        : base(numFeatures, eps, momentum, affine, trackRunningStats) { }

    /// <summary>Rank of an unbatched input: 2 for [C, L], 3 for [C, H, W].</summary>
    protected abstract int NoBatchRank { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != NoBatchRank && input.Rank != NoBatchRank + 1)
            throw new ArgumentException($"{GetType().Name}: expected {NoBatchRank}D (unbatched) or {NoBatchRank + 1}D (batched) input (got {input.Rank}D input, shape {input.Shape})");
        CheckChannels(input, input.Rank - NoBatchRank);
        bool unbatched = input.Rank == NoBatchRank;
        var x = unbatched ? input.Unsqueeze(0) : input;
        var y = F.InstanceNorm(x, RunningMean, RunningVar, Weight, Bias, Training || !TrackRunningStats, Momentum ?? 0.0, Eps);
        return unbatched ? y.Squeeze(0) : y;
    }
}
