using Ember.Data;

namespace Ember.Distributed;

/// <summary>
/// Weighted sampling shared out among ranks: each epoch one global draw of <c>numSamples</c> indices with probability
/// proportional to <c>weights</c> (as <see cref="WeightedRandomSampler"/>, with replacement by default), seeded by
/// seed + epoch, padded by repeating its head to a multiple of the number of replicas (or cut with <c>dropLast</c>);
/// rank r takes positions r, r + R, r + 2R, … of it, as <see cref="DistributedSampler"/> does. So for a seed the global
/// draw is the same whatever the world size, and the ranks together see each drawn index as often as it was drawn.
/// PyTorch has no such class (its DistributedSampler is uniform); this combines its two samplers' semantics.
/// Call <see cref="SetEpoch"/> before each epoch.
/// </summary>
public sealed class DistributedWeightedSampler : Sampler
{
    readonly WeightedRandomSampler draw;
    readonly int drawn, numReplicas, rank, numSamples;
    readonly long seed;
    int epoch;

    /// <summary>
    /// A sampler drawing <paramref name="numSamples"/> indices per epoch over all ranks, for rank <paramref name="rank"/>
    /// of <paramref name="numReplicas"/> (both default to the initialized process group's).
    /// </summary>
    public DistributedWeightedSampler(IReadOnlyList<double> weights, int numSamples, int? numReplicas = null, int? rank = null,
        bool replacement = true, long seed = 0, bool dropLast = false)
    {
        draw = new WeightedRandomSampler(weights, numSamples, replacement);
        this.numReplicas = numReplicas ?? Distributed.Group("DistributedWeightedSampler (numReplicas not given)").WorldSize;
        this.rank = rank ?? Distributed.Group("DistributedWeightedSampler (rank not given)").Rank;
        if (this.numReplicas < 1) throw new ArgumentException($"DistributedWeightedSampler: numReplicas must be positive, got {this.numReplicas}");
        if (this.rank < 0 || this.rank >= this.numReplicas)
            throw new ArgumentException($"DistributedWeightedSampler: invalid rank {this.rank}, rank should be in the interval [0, {this.numReplicas - 1}]");
        drawn = numSamples;
        this.seed = seed;
        this.numSamples = dropLast ? numSamples / this.numReplicas : (numSamples + this.numReplicas - 1) / this.numReplicas;
    }

    /// <summary>Indices this rank yields per epoch.</summary>
    public override int Count => numSamples;

    /// <summary>The epoch whose draw the next pass yields.</summary>
    public int Epoch => epoch;

    /// <summary>Selects the epoch, so that each epoch draws differently yet identically on every rank.</summary>
    public void SetEpoch(int value) => epoch = value;

    /// <inheritdoc/>
    public override IEnumerable<int> Indices(Generator generator)
    {
        var order = GlobalOrder();
        for (int i = rank; i < order.Length; i += numReplicas) yield return order[i];
    }

    /// <summary>This epoch's padded (or cut) global draw that the ranks share out.</summary>
    internal int[] GlobalOrder()
    {
        // the sampler's own (seed, epoch), never the loader's generator: every rank must draw the same indices
        var drawnIndices = new int[drawn];
        int k = 0;
        foreach (var i in draw.Indices(new Generator(seed + epoch))) drawnIndices[k++] = i;
        var order = new int[numSamples * numReplicas];
        for (int i = 0; i < order.Length && drawn > 0; i++) order[i] = drawnIndices[i % drawn];
        return order;
    }
}
