using System.Collections;

namespace Ember.Data;

/// <summary>
/// Groups the indices of any sampler into batches of <c>batchSize</c> (torch.utils.data.BatchSampler); the last, shorter
/// batch is kept unless <c>dropLast</c>. <c>new BatchSampler(new SequentialSampler(10), 3, false)</c> yields
/// [0,1,2], [3,4,5], [6,7,8], [9].
/// </summary>
public sealed class BatchSampler : IBatchSampler, IEnumerable<int[]>
{
    /// <summary>A batch sampler over <paramref name="sampler"/>.</summary>
    public BatchSampler(Sampler sampler, int batchSize, bool dropLast)
    {
        Sampler.CheckCount(batchSize, "BatchSampler", "batch_size");
        InnerSampler = sampler;
        BatchSize = batchSize;
        DropLast = dropLast;
    }

    /// <summary>The sampler whose indices are grouped.</summary>
    public Sampler InnerSampler { get; }
    /// <summary>Indices per batch.</summary>
    public int BatchSize { get; }
    /// <summary>Whether a last, incomplete batch is dropped.</summary>
    public bool DropLast { get; }

    /// <inheritdoc/>
    public int Count => DropLast ? InnerSampler.Count / BatchSize : (int)(((long)InnerSampler.Count + BatchSize - 1) / BatchSize); // long: a batch size near int.MaxValue

    /// <inheritdoc/>
    public IEnumerable<int[]> Batches(Generator generator)
    {
        var batch = new List<int>(Math.Min(BatchSize, InnerSampler.Count)); // a batch larger than the data set holds it all
        foreach (var i in InnerSampler.Indices(generator))
        {
            batch.Add(i);
            if (batch.Count == BatchSize) { yield return [.. batch]; batch.Clear(); }
        }
        if (batch.Count > 0 && !DropLast) yield return [.. batch];
    }

    /// <summary>One pass outside a loader (random inner samplers seed themselves from the global generator).</summary>
    public IEnumerator<int[]> GetEnumerator() => Batches(new Generator((long)Generator.Default.NextUInt64())).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
