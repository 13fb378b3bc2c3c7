using System.Collections;
using System.Collections.Concurrent;

namespace Ember.Data;

/// <summary>
/// Iterates a data set in batches (torch.utils.data.DataLoader) with a custom collate that produces
/// <typeparamref name="TBatch"/>; <see cref="DataLoader{T}"/> is the common case that collates into a <see cref="Batch"/>.
/// </summary>
/// <remarks>
/// <para>Options follow PyTorch's rules: a batch sampler excludes batchSize, shuffle, sampler and dropLast; a sampler
/// excludes shuffle; an iterable data set excludes shuffle, sampler and batchSampler.</para>
/// <para>Reproducibility: the loader owns a seed (from <c>seed</c>, else one draw from <c>generator</c> at construction,
/// else the seed last given to <see cref="Torch.ManualSeed"/>, read without drawing). Epoch e's order comes from a
/// generator seeded by (seed, e); the sample at position p of epoch e gets a generator seeded by (seed, e, p) for its
/// augmentation; a batch transform for batch b gets one seeded by (seed, e, b). Nothing is drawn from the global
/// generator while iterating, so the batches are the same whatever numWorkers is, and iterating another loader (an
/// evaluation pass between epochs) never changes this one's batches. A data set or transform that draws from the global
/// generator anyway (<see cref="Generator.Default"/>, e.g. <c>Torch.Rand</c> without a generator) is handed the sample's
/// own generator as the global one while it runs, on whichever thread loads it: the pattern PyTorch's worker_init_fn
/// seeding aims at, made independent of which worker loads which sample. Each <c>foreach</c> runs the next epoch
/// (<see cref="Epoch"/> counts them; <see cref="SetEpoch"/> sets it, for resuming).</para>
/// <para>numWorkers &gt; 0 loads batches on that many threads with at most numWorkers × prefetchFactor batches loaded
/// ahead, and yields them in order.</para>
/// </remarks>
public class DataLoader<T, TBatch> : IEnumerable<TBatch>
{
    readonly IDataset<T>? mapDataset;
    readonly IIterableDataset<T>? iterableDataset;
    readonly IBatchSampler? batchSampler;
    readonly Func<IReadOnlyList<T>, TBatch> collate;
    readonly Func<TBatch, Generator, TBatch>? batchTransform;
    readonly int batchSize;
    readonly bool dropLast;

    /// <summary>A loader over a map-style data set.</summary>
    /// <param name="dataset">The data set.</param>
    /// <param name="collate">Turns a list of items into a batch.</param>
    /// <param name="batchSize">Items per batch (batch_size).</param>
    /// <param name="shuffle">Reshuffle every epoch (a <see cref="RandomSampler"/> driven by the loader's seed).</param>
    /// <param name="sampler">Chooses the order of indices; excludes shuffle.</param>
    /// <param name="batchSampler">Chooses whole batches; excludes batchSize, shuffle, sampler and dropLast.</param>
    /// <param name="dropLast">Drop the last incomplete batch (drop_last).</param>
    /// <param name="numWorkers">Threads loading batches in parallel (0: load on the iterating thread).</param>
    /// <param name="prefetchFactor">Batches loaded ahead per worker (default 2); only with numWorkers &gt; 0.</param>
    /// <param name="generator">Source of the loader's seed (one draw at construction); excludes seed.</param>
    /// <param name="seed">The loader's seed.</param>
    /// <param name="batchTransform">Applied to each collated batch with a per-batch generator (MixUp, CutMix).</param>
    public DataLoader(IDataset<T> dataset, Func<IReadOnlyList<T>, TBatch> collate, int batchSize = 1, bool shuffle = false,
        Sampler? sampler = null, IBatchSampler? batchSampler = null, bool dropLast = false, int numWorkers = 0,
        int? prefetchFactor = null, Generator? generator = null, long? seed = null, Func<TBatch, Generator, TBatch>? batchTransform = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        mapDataset = dataset;
        CheckCommon(numWorkers, prefetchFactor, generator, seed);
        if (sampler != null && shuffle)
            throw new ArgumentException("DataLoader: sampler option is mutually exclusive with shuffle");
        if (batchSampler != null && (batchSize != 1 || shuffle || sampler != null || dropLast))
            throw new ArgumentException("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last " +
                $"(got batchSize={batchSize}, shuffle={shuffle}, sampler={(sampler == null ? "null" : sampler.GetType().Name)}, dropLast={dropLast})");
        if (batchSampler == null)
        {
            Sampler.CheckCount(batchSize, "DataLoader", "batch_size");
            sampler ??= shuffle ? new RandomSampler(dataset.Count) : new SequentialSampler(dataset.Count);
            batchSampler = new BatchSampler(sampler, batchSize, dropLast);
        }
        this.batchSampler = batchSampler;
        Sampler = sampler;
        this.collate = collate ?? throw new ArgumentNullException(nameof(collate));
        this.batchSize = batchSize;
        this.dropLast = dropLast;
        this.batchTransform = batchTransform;
        NumWorkers = numWorkers;
        PrefetchFactor = prefetchFactor ?? 2;
        Seed = ResolveSeed(generator, seed);
    }

    /// <summary>A loader over an iterable data set: items are batched in stream order.</summary>
    public DataLoader(IIterableDataset<T> dataset, Func<IReadOnlyList<T>, TBatch> collate, int batchSize = 1, bool shuffle = false,
        Sampler? sampler = null, IBatchSampler? batchSampler = null, bool dropLast = false, int numWorkers = 0,
        int? prefetchFactor = null, Generator? generator = null, long? seed = null, Func<TBatch, Generator, TBatch>? batchTransform = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        iterableDataset = dataset;
        CheckCommon(numWorkers, prefetchFactor, generator, seed);
        if (shuffle) throw new ArgumentException($"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}");
        if (sampler != null) throw new ArgumentException($"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler.GetType().Name}");
        if (batchSampler != null) throw new ArgumentException($"DataLoader with IterableDataset: expected unspecified batch_sampler option, but got batch_sampler={batchSampler.GetType().Name}");
        Sampler.CheckCount(batchSize, "DataLoader", "batch_size");
        this.collate = collate ?? throw new ArgumentNullException(nameof(collate));
        this.batchSize = batchSize;
        this.dropLast = dropLast;
        this.batchTransform = batchTransform;
        NumWorkers = numWorkers;
        PrefetchFactor = prefetchFactor ?? 2;
        Seed = ResolveSeed(generator, seed);
    }

    static void CheckCommon(int numWorkers, int? prefetchFactor, Generator? generator, long? seed)
    {
        if (numWorkers < 0)
            throw new ArgumentException($"DataLoader: num_workers option should be non-negative; use num_workers=0 to disable multiprocessing (got {numWorkers})");
        if (numWorkers == 0 && prefetchFactor != null)
            throw new ArgumentException("DataLoader: prefetch_factor option could only be specified in multiprocessing; let num_workers > 0 to enable it, otherwise leave prefetch_factor unset");
        if (prefetchFactor is int p && p <= 0)
            throw new ArgumentException($"DataLoader: prefetch_factor should be a positive integer, got {p}");
        if (generator != null && seed != null)
            throw new ArgumentException("DataLoader: seed and generator are mutually exclusive (the loader's seed comes from one of them)");
    }

    // One draw from the user's generator, or the global seed read without drawing: iterating never touches either.
    static long ResolveSeed(Generator? generator, long? seed) => seed ?? (generator != null ? (long)generator.NextUInt64() : Generator.Default.InitialSeed);

    /// <summary>The map-style data set, or null for an iterable one.</summary>
    public IDataset<T>? Dataset => mapDataset;
    /// <summary>The sampler used to build batches (null with a custom batch sampler or an iterable data set).</summary>
    public Sampler? Sampler { get; }
    /// <summary>The batch sampler (null for an iterable data set).</summary>
    public IBatchSampler? BatchSampler => batchSampler;
    /// <summary>Worker threads.</summary>
    public int NumWorkers { get; }
    /// <summary>Batches loaded ahead per worker.</summary>
    public int PrefetchFactor { get; }

    // Batches loaded ahead: workers × prefetch factor, in long so that a huge --workers does not overflow it.
    int InFlight => (int)Math.Min((long)NumWorkers * PrefetchFactor, int.MaxValue);
    /// <summary>The loader's seed, from which every epoch's order and every sample's augmentation derive.</summary>
    public long Seed { get; }
    /// <summary>The epoch the next <c>foreach</c> runs (starts at 0).</summary>
    public int Epoch { get; private set; }

    /// <summary>Sets the epoch the next <c>foreach</c> runs (for resuming a run).</summary>
    public void SetEpoch(int epoch)
    {
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "DataLoader: epoch must be non-negative");
        Epoch = epoch;
    }

    /// <summary>The number of batches per epoch (len(dataloader)); unknown for an iterable data set.</summary>
    public int Count => batchSampler?.Count
        ?? throw new InvalidOperationException("DataLoader: the number of batches of an iterable data set is unknown");

    /// <summary>Runs the next epoch.</summary>
    public IEnumerator<TBatch> GetEnumerator() => Iterate(Epoch++).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The batches of epoch <paramref name="epoch"/>, without advancing <see cref="Epoch"/>.</summary>
    public IEnumerable<TBatch> Iterate(int epoch)
    {
        if (iterableDataset != null) return IterateStream(epoch);
        var batches = batchSampler!.Batches(new Generator(SeedSequence.Derive(Seed, SeedSequence.SamplerStream, epoch)));
        return NumWorkers == 0 ? IterateSerial(batches, epoch) : IterateParallel(batches.ToList(), epoch);
    }

    IEnumerable<TBatch> IterateSerial(IEnumerable<int[]> batches, int epoch)
    {
        var g = new Generator();
        int k = 0;
        long position = 0;
        foreach (var indices in batches)
        {
            yield return LoadBatch(indices, epoch, k++, position, g);
            position += indices.Length;
        }
    }

    IEnumerable<TBatch> IterateParallel(List<int[]> batches, int epoch)
    {
        int n = batches.Count;
        var starts = new long[n];
        for (int k = 1; k < n; k++) starts[k] = starts[k - 1] + batches[k - 1].Length;
        var slots = new TaskCompletionSource<TBatch>[n];
        for (int k = 0; k < n; k++) slots[k] = new TaskCompletionSource<TBatch>();
        // A worker takes a permit before it starts a batch and the consumer returns it when it has yielded one, so at
        // most numWorkers × prefetchFactor batches are loaded ahead of the consumer.
        using var permits = new SemaphoreSlim(InFlight);
        using var stop = new CancellationTokenSource();
        int next = -1;
        // a worker past the number of batches would never get one: `--workers 100000` on 64 images started 100,000
        // threads per epoch (minutes of thread start-up for one batch); which thread loads a batch changes nothing in it
        var workers = new Thread[Math.Min(NumWorkers, n)];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = new Thread(() =>
            {
                var g = new Generator();
                while (true)
                {
                    try { permits.Wait(stop.Token); } catch (OperationCanceledException) { return; }
                    int k = Interlocked.Increment(ref next);
                    if (k >= n || stop.IsCancellationRequested) return;
                    try { slots[k].SetResult(LoadBatch(batches[k], epoch, k, starts[k], g)); }
                    catch (Exception e) { slots[k].SetException(e); }
                }
            }) { IsBackground = true, Name = $"DataLoader worker {w}" };
            workers[w].Start();
        }
        try
        {
            for (int k = 0; k < n; k++)
            {
                var batch = slots[k].Task.GetAwaiter().GetResult();   // rethrows a worker's exception unwrapped
                permits.Release();
                yield return batch;
            }
        }
        finally
        {
            stop.Cancel();
            foreach (var t in workers) t.Join();
        }
    }

    TBatch LoadBatch(int[] indices, int epoch, int batchIndex, long position, Generator g)
    {
        var items = new T[indices.Length];
        var dataset = mapDataset!;
        for (int j = 0; j < indices.Length; j++)
        {
            int index = indices[j];
            if ((uint)index >= (uint)dataset.Count)
                throw new IndexOutOfRangeException($"DataLoader: the sampler yielded index {index}, outside the data set of {dataset.Count} items");
            g.ManualSeed(SeedSequence.Derive(Seed, SeedSequence.SampleStream, epoch, position + j));
            var previous = Generator.OverrideDefault(g);   // a data set drawing from the global generator draws from g
            try { items[j] = dataset.Get(index, g); }
            finally { Generator.OverrideDefault(previous); }
        }
        return Finish(items, epoch, batchIndex, g);
    }

    TBatch Finish(T[] items, int epoch, int batchIndex, Generator g)
    {
        var batch = collate(items);
        if (batchTransform == null) return batch;
        g.ManualSeed(SeedSequence.Derive(Seed, SeedSequence.BatchStream, epoch, batchIndex));
        var previous = Generator.OverrideDefault(g);
        try { return batchTransform(batch, g); }
        finally { Generator.OverrideDefault(previous); }
    }

    IEnumerable<TBatch> IterateStream(int epoch)
    {
        var source = StreamBatches(epoch);
        if (NumWorkers == 0) return source;
        return Prefetch(source);
    }

    IEnumerable<TBatch> StreamBatches(int epoch)
    {
        var g = new Generator(SeedSequence.Derive(Seed, SeedSequence.SamplerStream, epoch));
        var batchGen = new Generator();
        var buffer = new List<T>(batchSize);
        int k = 0;
        using var items = iterableDataset!.Iterate(g).GetEnumerator();
        while (true)
        {
            // The stream's own code runs inside MoveNext: there, and only there, the global generator is the stream's.
            var previous = Generator.OverrideDefault(g);
            bool more;
            try { more = items.MoveNext(); }
            finally { Generator.OverrideDefault(previous); }
            if (!more) break;
            var item = items.Current;
            buffer.Add(item);
            if (buffer.Count == batchSize) { yield return Finish([.. buffer], epoch, k++, batchGen); buffer.Clear(); }
        }
        if (buffer.Count > 0 && !dropLast) yield return Finish([.. buffer], epoch, k, batchGen);
    }

    // A stream cannot be split between workers without changing its order, so one thread reads ahead into a bounded queue.
    IEnumerable<TBatch> Prefetch(IEnumerable<TBatch> source)
    {
        using var queue = new BlockingCollection<(TBatch? Batch, Exception? Error)>(InFlight);
        using var stop = new CancellationTokenSource();
        var producer = new Thread(() =>
        {
            try
            {
                foreach (var b in source) queue.Add((b, null), stop.Token);
                queue.CompleteAdding();
            }
            catch (OperationCanceledException) { }
            catch (Exception e) { try { queue.Add((default, e)); queue.CompleteAdding(); } catch (InvalidOperationException) { } }
        }) { IsBackground = true, Name = "DataLoader stream reader" };
        producer.Start();
        try
        {
            foreach (var (batch, error) in queue.GetConsumingEnumerable())
            {
                if (error != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
                yield return batch!;
            }
        }
        finally
        {
            stop.Cancel();
            producer.Join();
        }
    }
}
