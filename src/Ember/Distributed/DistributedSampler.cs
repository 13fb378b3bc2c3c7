using Ember.Data;

namespace Ember.Distributed;

/// <summary>
/// Gives each rank its own share of a data set of <c>count</c> items (torch.utils.data.DistributedSampler). Each epoch
/// draws one global order (a permutation seeded by seed + epoch when shuffling, else 0..count−1), pads it by repeating
/// its head until it divides evenly (or, with <c>dropLast</c>, cuts the tail), and gives rank r the positions
/// r, r + R, r + 2R, … of it (R = number of replicas). So every rank yields the same number of indices, the ranks
/// together cover every index exactly once per epoch (plus the padding), and the global order for a seed does not
/// depend on the number of replicas. Call <see cref="SetEpoch"/> before each epoch, or every epoch repeats one order.
/// </summary>
/// <remarks>
/// The order comes from the sampler's own (seed, epoch), never from the loader's generator: every rank must draw the
/// same permutation.
/// </remarks>
public sealed class DistributedSampler : Sampler
{
    readonly int count, numReplicas, rank, numSamples;
    readonly bool shuffle, dropLast;
    readonly long seed;
    int epoch;

    /// <summary>
    /// A sampler over <paramref name="count"/> items for rank <paramref name="rank"/> of <paramref name="numReplicas"/>
    /// (both default to the initialized process group's).
    /// </summary>
    public DistributedSampler(int count, int? numReplicas = null, int? rank = null, bool shuffle = true, long seed = 0, bool dropLast = false)
    {
        if (count < 0) throw new ArgumentException($"DistributedSampler: count must be non-negative, got {count}");
        this.numReplicas = numReplicas ?? Distributed.Group("DistributedSampler (numReplicas not given)").WorldSize;
        this.rank = rank ?? Distributed.Group("DistributedSampler (rank not given)").Rank;
        if (this.numReplicas < 1) throw new ArgumentException($"DistributedSampler: numReplicas must be positive, got {this.numReplicas}");
        if (this.rank < 0 || this.rank >= this.numReplicas)
            throw new ArgumentException($"DistributedSampler: invalid rank {this.rank}, rank should be in the interval [0, {this.numReplicas - 1}]");
        this.count = count;
        this.shuffle = shuffle;
        this.seed = seed;
        this.dropLast = dropLast;
        // With dropLast the tail that would not divide evenly is cut; otherwise the order is padded up to a multiple.
        numSamples = dropLast && count % this.numReplicas != 0
            ? (count - this.numReplicas + this.numReplicas - 1) / this.numReplicas
            : (count + this.numReplicas - 1) / this.numReplicas;
        if (numSamples < 0) numSamples = 0;
    }

    /// <summary>Indices this rank yields per epoch (num_samples).</summary>
    public override int Count => numSamples;

    /// <summary>Indices all ranks yield together per epoch (total_size).</summary>
    public int TotalSize => numSamples * numReplicas;

    /// <summary>The epoch whose order the next pass yields.</summary>
    public int Epoch => epoch;

    /// <summary>Selects the epoch, so that each epoch shuffles differently yet identically on every rank (set_epoch).</summary>
    public void SetEpoch(int value) => epoch = value;

    /// <inheritdoc/>
    public override IEnumerable<int> Indices(Generator generator)
    {
        var order = GlobalOrder();
        for (int i = rank; i < order.Length; i += numReplicas) yield return order[i];
    }

    /// <summary>The padded (or cut) order of this epoch that the ranks share out; rank r takes positions r, r + R, ….</summary>
    internal int[] GlobalOrder()
    {
        var perm = new int[count];
        if (shuffle) RandomSampler.Permute(perm, new Generator(seed + epoch));
        else for (int i = 0; i < count; i++) perm[i] = i;
        int total = TotalSize;
        var order = new int[total];
        if (count == 0) return order;
        // Padding repeats the order from its start, as many times as needed (PyTorch's indices * ceil(padding / n)).
        for (int i = 0; i < total; i++) order[i] = perm[i % count];
        return order;
    }
}
