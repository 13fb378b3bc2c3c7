using Ember.Backends.Cpu;

namespace Ember.Bench;

/// <summary>
/// The process state a row's timed samples ran in, and what they cost besides the kernels (issue 23: the YOLOv5 rows ran
/// slower after the earlier rows than alone): minor page faults, collections by generation, GC pause time, the storage
/// pool's hits, misses and induced collections, all per call; then the pool's and the GC heap's size afterwards.
/// Counters are process-wide: with the peer loaded they include its samples too (use --ember-only to read Ember alone).
/// </summary>
public sealed class RowState
{
    long faults, hits, misses, induced, inducedTicks, calls, background, evictions;
    int gen0, gen1, gen2;
    TimeSpan pause;

    /// <summary>Wraps <paramref name="action"/> so that its calls after <see cref="Start"/> are counted.</summary>
    public Action Counting(Action action) => () => { action(); calls++; };

    /// <summary>Takes the starting counters (call it when the timed samples begin).</summary>
    public void Start()
    {
        calls = 0;
        faults = Machine.MinorFaults();
        (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        pause = GC.GetTotalPauseDuration();
        background = GC.GetGCMemoryInfo(GCKind.Background).Index;
        (hits, misses, induced, inducedTicks, evictions) = (StoragePool.Hits, StoragePool.Misses, StoragePool.InducedCollections, StoragePool.InducedCollectionTicks, StoragePool.Evictions);
    }

    /// <summary>One line: per-call costs since <see cref="Start"/>, then the heap and pool sizes now.</summary>
    public string Describe()
    {
        double n = Math.Max(1, calls);
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        double inducedMs = (StoragePool.InducedCollectionTicks - inducedTicks) * 1e3 / System.Diagnostics.Stopwatch.Frequency;
        return $"  state: {calls} calls; per call: faults {(Machine.MinorFaults() - faults) / n:F0}, GCs gen0/1/2 {(GC.CollectionCount(0) - gen0) / n:F2}/{(GC.CollectionCount(1) - gen1) / n:F2}/{(GC.CollectionCount(2) - gen2) / n:F2}" +
               $"{(GC.GetGCMemoryInfo(GCKind.Background).Index != background ? " (background gen-2 GCs ran)" : "")}, " +
               $"GC pause {(GC.GetTotalPauseDuration() - pause).TotalMilliseconds / n:F2} ms, pool hits {(StoragePool.Hits - hits) / n:F1} misses {(StoragePool.Misses - misses) / n:F1} " +
               $"induced {(StoragePool.InducedCollections - induced) / n:F2} ({inducedMs / n:F2} ms), evicted {StoragePool.Evictions - evictions}; now: pooled {StoragePool.PooledBytes / 1048576.0:F0} MB of {StoragePool.LimitBytes / 1048576.0:F0}, " +
               $"outstanding {StoragePool.OutstandingBytes / 1048576.0:F0} MB, GC heap {info.HeapSizeBytes / 1048576.0:F0} MB, committed {info.TotalCommittedBytes / 1048576.0:F0} MB";
    }
}
