using Ember.Data;
using Ember.Data.Transforms;

namespace Ember.Tests.Data;

public class DataLoaderTests
{
    static TensorDataset Numbers(int n) => new(Torch.Arange(0, n, 1).To(DType.Float32).Reshape(n, 1), Torch.Arange(0, n, 1));

    /// <summary>Images [1, 8, 8] whose pixels all equal the index, labelled index % 3, with random augmentation.</summary>
    sealed class AugmentedImages(int count, ITransform transform) : IDataset<(Tensor, long)>
    {
        public int Count => count;
        public (Tensor, long) this[int index] => Get(index, Generator.Default);
        public (Tensor, long) Get(int index, Generator generator)
            => (transform.Apply(Torch.Full([1, 8, 8], index), generator), index % 3);
    }

    static ITransform Augment() => new Compose(new RandomCrop(8, padding: 2), new RandomHorizontalFlip(), new RandomErasing(p: 0.5));

    static List<double[]> Flatten(IEnumerable<Batch> batches) => batches.SelectMany(b => b.Fields.Select(f => f.ToDoubleArray())).ToList();

    [Fact]
    public void SequentialBatchesAndCount()
    {
        var loader = new DataLoader<Tensor[]>(Numbers(10), batchSize: 4);
        Assert.Equal(3, loader.Count);
        var batches = loader.ToList();
        Assert.Equal(3, batches.Count);
        var (x, y) = batches[0];
        Assert.Equal(new Shape(4, 1), x.Shape);
        Assert.Equal(DType.Int64, y.DType);
        Assert.Equal(new long[] { 0, 1, 2, 3 }, y.ToArray<long>());
        Assert.Equal(new long[] { 8, 9 }, batches[2][1].ToArray<long>());
        Assert.Equal(2, new DataLoader<Tensor[]>(Numbers(10), batchSize: 4, dropLast: true).Count);
    }

    [Fact]
    public void MutuallyExclusiveOptionsRaisePyTorchsErrors()
    {
        var ds = Numbers(10);
        var e1 = Assert.Throws<ArgumentException>(() => new DataLoader<Tensor[]>(ds, shuffle: true, sampler: new SequentialSampler(10)));
        Assert.Contains("sampler option is mutually exclusive with shuffle", e1.Message);
        var bs = new BatchSampler(new SequentialSampler(10), 3, false);
        foreach (var make in new Func<DataLoader<Tensor[]>>[]
        {
            () => new DataLoader<Tensor[]>(ds, batchSampler: bs, batchSize: 4),
            () => new DataLoader<Tensor[]>(ds, batchSampler: bs, shuffle: true),
            () => new DataLoader<Tensor[]>(ds, batchSampler: bs, sampler: new SequentialSampler(10)),
            () => new DataLoader<Tensor[]>(ds, batchSampler: bs, dropLast: true),
        })
        {
            var e = Assert.Throws<ArgumentException>(make);
            Assert.Contains("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last", e.Message);
        }
        Assert.Contains("num_workers option should be non-negative", Assert.Throws<ArgumentException>(() => new DataLoader<Tensor[]>(ds, numWorkers: -1)).Message);
        Assert.Contains("prefetch_factor", Assert.Throws<ArgumentException>(() => new DataLoader<Tensor[]>(ds, prefetchFactor: 2)).Message);
        Assert.Contains("batch_size=0", Assert.Throws<ArgumentException>(() => new DataLoader<Tensor[]>(ds, batchSize: 0)).Message);
        Assert.Contains("mutually exclusive", Assert.Throws<ArgumentException>(() => new DataLoader<Tensor[]>(ds, seed: 1, generator: new Generator(1))).Message);
        var stream = new CountingStream(5);
        Assert.Contains("expected unspecified shuffle option", Assert.Throws<ArgumentException>(() => new DataLoader<long, Batch>(stream, Collate.Default, shuffle: true)).Message);
        Assert.Contains("expected unspecified sampler option", Assert.Throws<ArgumentException>(() => new DataLoader<long, Batch>(stream, Collate.Default, sampler: new SequentialSampler(5))).Message);
        // A batch sampler with defaults for the rest is fine and drives the batches.
        var ok = new DataLoader<Tensor[]>(ds, batchSampler: bs).Select(b => b[1].ToArray<long>()).ToList();
        Assert.Equal(new long[] { 9 }, ok[^1]);
    }

    [Fact]
    public void DefaultCollateNamesShapesAndHintsAtCustomCollate()
    {
        var items = new[] { Torch.Zeros(3, 4), Torch.Zeros(3, 4), Torch.Zeros(3, 5) };
        var ds = new ListDataset<Tensor>(items);
        var e = Assert.Throws<ArgumentException>(() => new DataLoader<Tensor>(ds, batchSize: 3).First());
        Assert.Contains("[3, 4]", e.Message);
        Assert.Contains("[3, 5]", e.Message);
        Assert.Contains("item 2", e.Message);
        Assert.Contains("custom collate", e.Message);
        var tuples = new ListDataset<(Tensor, long)>([(Torch.Ones(2), 1L), (Torch.Ones(3), 2L)]);
        var e2 = Assert.Throws<ArgumentException>(() => Collate.Default(tuples.Items));
        Assert.Contains("field 0", e2.Message);
        Assert.Contains("[2]", e2.Message);
        Assert.Contains("[3]", e2.Message);
    }

    [Fact]
    public void DefaultCollateStacksTuplesAndLabels()
    {
        var batch = Collate.Default(new[] { (Torch.Full([2, 2], 1.0), 3L, 0.5f), (Torch.Full([2, 2], 2.0), 4L, 1.5f) });
        Assert.Equal(3, batch.Count);
        Assert.Equal(new Shape(2, 2, 2), batch[0].Shape);
        Assert.Equal(new double[] { 1, 1, 1, 1, 2, 2, 2, 2 }, batch[0].ToDoubleArray());
        Assert.Equal(DType.Int64, batch[1].DType);
        Assert.Equal(new long[] { 3, 4 }, batch[1].ToArray<long>());
        Assert.Equal(DType.Float32, batch[2].DType);
    }

    [Fact]
    public void CustomCollateForVariableNumbersOfBoxes()
    {
        // Detection items: an image and a variable number of boxes; the collate stacks images and concatenates boxes
        // with their image's index in front, as YOLO-style loaders do.
        var items = Enumerable.Range(0, 5).Select(i => (Torch.Full([3, 4, 4], i), Torch.Full([i % 3, 4], i))).ToArray();
        var ds = new ListDataset<(Tensor, Tensor)>(items);
        var loader = new DataLoader<(Tensor Image, Tensor Boxes)>(ds, batchSize: 3, collate: list =>
        {
            var images = Collate.Stack(list.Select(t => t.Image).ToArray());
            var rows = list.SelectMany((t, k) => Enumerable.Range(0, t.Boxes.Size(0)).Select(_ => k)).ToArray();
            var boxes = Torch.Cat(list.Select(t => t.Boxes).ToArray(), 0);
            var index = Torch.FromArray(rows.Select(r => (float)r).ToArray(), [rows.Length, 1]);
            return new Batch(images, Torch.Cat([index, boxes], 1));
        });
        var first = loader.First();
        Assert.Equal(new Shape(3, 3, 4, 4), first[0].Shape);
        Assert.Equal(new Shape(3, 5), first[1].Shape);   // 0 + 1 + 2 boxes
        Assert.Equal(new double[] { 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 }, first[1].ToDoubleArray());
    }

    [Fact]
    public void ParallelWorkersYieldBatchesInOrder()
    {
        // Some items take longer than others, so workers finish out of order; the loader must still yield in order.
        var ds = new SlowDataset(40);
        var loader = new DataLoader<long>(ds, batchSize: 2, numWorkers: 3, prefetchFactor: 2);
        var labels = loader.SelectMany(b => b[0].ToArray<long>()).ToArray();
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i), labels);
        Assert.True(ds.MaxConcurrent > 1, "expected batches to load concurrently");
    }

    [Fact]
    public void A_huge_worker_count_loads_in_order_without_overflowing_the_prefetch_bound()
    {
        // workers × prefetch factor once overflowed int: SemaphoreSlim refused the negative count with its own words
        var ds = new SlowDataset(6);
        var loader = new DataLoader<long>(ds, batchSize: 2, numWorkers: int.MaxValue, prefetchFactor: 2);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), loader.SelectMany(b => b[0].ToArray<long>()).ToArray());
    }

    [Fact]
    public void PrefetchQueueIsBounded()
    {
        var ds = new SlowDataset(200);
        using var it = new DataLoader<long>(ds, batchSize: 2, numWorkers: 2, prefetchFactor: 2).GetEnumerator();
        Assert.True(it.MoveNext());
        Thread.Sleep(300);   // a slow consumer: the workers may run ahead only 2 × 2 batches (plus the one released)
        int started = ds.Started;
        Assert.InRange(started, 3 * 2, (2 * 2 + 1) * 2);
    }

    [Fact]
    public void MoreWorkersThanBatchesStartOnlyAThreadPerBatch()
    {
        // 3 batches and 5000 workers asked for (`ember train --workers 5000` on a small set): only workers 0-2 are started
        // (the others would never get a batch; starting 100,000 of them took minutes per epoch), and the batches are the
        // serial loader's. Started threads end at once when no batch is left, so the count itself is not visible here.
        var ds = new ThreadRecordingDataset(6);
        var batches = new DataLoader<long>(ds, batchSize: 2, numWorkers: 5000).SelectMany(b => b[0].ToArray<long>()).ToArray();
        Assert.Equal([0L, 1, 2, 3, 4, 5], batches);
        Assert.Subset(new HashSet<string> { "DataLoader worker 0", "DataLoader worker 1", "DataLoader worker 2" }, ds.Threads.ToHashSet());
    }

    sealed class ThreadRecordingDataset(int n) : IDataset<long>
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Threads { get; } = [];
        public int Count => n;
        public long this[int index] { get { Threads.Add(Thread.CurrentThread.Name ?? "unnamed"); return index; } }
    }

    [Fact]
    public void WorkerExceptionsReachTheConsumer()
    {
        var ds = new ListDataset<Tensor>([Torch.Zeros(2), Torch.Zeros(2), Torch.Zeros(2), Torch.Zeros(3)]);
        var loader = new DataLoader<Tensor>(ds, batchSize: 2, numWorkers: 2);
        var e = Assert.Throws<ArgumentException>(() => loader.ToList());
        Assert.Contains("default_collate", e.Message);
        // Breaking out early stops the workers without error.
        Assert.Single(new DataLoader<Tensor[]>(Numbers(100), batchSize: 2, numWorkers: 2).Take(1));
    }

    [Fact]
    public void SameSeedGivesIdenticalBatchesWhateverNumWorkers()
    {
        var ds = new AugmentedImages(37, Augment());
        var serial = Flatten(new DataLoader<(Tensor, long)>(ds, batchSize: 5, shuffle: true, seed: 11));
        var parallel = Flatten(new DataLoader<(Tensor, long)>(ds, batchSize: 5, shuffle: true, seed: 11, numWorkers: 2));
        var parallel3 = Flatten(new DataLoader<(Tensor, long)>(ds, batchSize: 5, shuffle: true, seed: 11, numWorkers: 3, prefetchFactor: 1));
        Assert.Equal(serial, parallel);
        Assert.Equal(serial, parallel3);
        var other = Flatten(new DataLoader<(Tensor, long)>(ds, batchSize: 5, shuffle: true, seed: 12));
        Assert.NotEqual(serial, other);
    }

    [Fact]
    public void EpochsDifferButAreReproducible()
    {
        var ds = new AugmentedImages(20, Augment());
        var loader = new DataLoader<(Tensor, long)>(ds, batchSize: 4, shuffle: true, seed: 5);
        var e0 = Flatten(loader);
        var e1 = Flatten(loader);
        Assert.Equal(2, loader.Epoch);
        Assert.NotEqual(e0, e1);
        var again = new DataLoader<(Tensor, long)>(ds, batchSize: 4, shuffle: true, seed: 5);
        Assert.Equal(e0, Flatten(again));
        Assert.Equal(e1, Flatten(again));
        again.SetEpoch(1);
        Assert.Equal(e1, Flatten(again));
        Assert.Equal(e0, Flatten(loader.Iterate(0)));
    }

    [Fact]
    public void EvaluationBetweenEpochsDoesNotChangeTrainingRun()
    {
        // The notes' trap: adding an evaluation pass (and any other global random draws) between training epochs must
        // not change the training batches or their augmentation. Run A trains 3 epochs; run B does the same with an
        // evaluation loader iterated, and the global generator used, between epochs.
        List<double[]> Run(bool evaluate)
        {
            Torch.ManualSeed(0);
            var train = new DataLoader<(Tensor, long)>(new AugmentedImages(30, Augment()), batchSize: 8, shuffle: true, numWorkers: evaluate ? 2 : 0);
            var eval = new DataLoader<(Tensor, long)>(new AugmentedImages(12, Augment()), batchSize: 4, shuffle: true);
            var seen = new List<double[]>();
            double weight = 0;
            for (int epoch = 0; epoch < 3; epoch++)
            {
                foreach (var (x, y) in train)
                {
                    seen.Add(x.ToDoubleArray());
                    seen.Add(y.ToDoubleArray());
                    weight += x.Mean().Item();   // a stand-in for a training step
                }
                if (evaluate)
                {
                    foreach (var (x, _) in eval) weight -= 0 * x.Sum().Item();
                    _ = Torch.Rand(17);   // e.g. dropout during evaluation, or a new model's initialization
                }
            }
            seen.Add([weight]);
            return seen;
        }
        Assert.Equal(Run(false), Run(true));
    }

    [Fact]
    public void IterationNeverDrawsFromTheGlobalGenerator()
    {
        Torch.ManualSeed(123);
        var loader = new DataLoader<(Tensor, long)>(new AugmentedImages(16, Augment()), batchSize: 4, shuffle: true, numWorkers: 2);
        foreach (var _ in loader) { }
        var after = Torch.Rand(4).ToDoubleArray();
        Torch.ManualSeed(123);
        Assert.Equal(Torch.Rand(4).ToDoubleArray(), after);
        // Without a seed the loader takes the global seed (read, not drawn).
        Assert.Equal(123, loader.Seed);
    }

    // A data set written the careless way: its augmentation draws from the global generator, not the one it is handed.
    sealed class GlobalRandomDataset(int n) : IDataset<Tensor>
    {
        public int Count => n;
        public Tensor this[int index]
        {
            get
            {
                var noise = Torch.Rand(3);
                Thread.Sleep(index % 3);   // uneven load times, so workers interleave their draws differently each run
                return noise + index;
            }
        }
    }

    // And a stream that does the same.
    sealed class GlobalRandomStream(int n) : IIterableDataset<Tensor>
    {
        public IEnumerable<Tensor> Iterate(Generator generator)
        {
            for (int i = 0; i < n; i++) yield return Torch.Rand(2) + i;
        }
    }

    [Fact]
    public void DataSetsDrawingFromTheGlobalGeneratorGiveTheSameSamplesWhateverNumWorkers()
    {
        List<double[]> Load(int workers) => new DataLoader<Tensor>(new GlobalRandomDataset(24), batchSize: 3, shuffle: true, seed: 5,
            numWorkers: workers).Select(b => b[0].ToDoubleArray()).ToList();
        Torch.ManualSeed(1);
        var serial = Load(0);
        Torch.ManualSeed(2);   // the process-wide generator's state must not matter either
        Assert.Equal(serial, Load(3));
        Assert.Equal(serial, Load(1));
        var samples = serial.SelectMany(b => b).ToArray();
        Assert.Equal(samples.Length, samples.Distinct().Count());   // each sample still gets its own draws

        Torch.ManualSeed(9);
        var before = Generator.Default.GetState().Words;
        List<double[]> Stream(int workers) => new DataLoader<Tensor>(new GlobalRandomStream(10), batchSize: 4, seed: 5, numWorkers: workers)
            .Select(b => b[0].ToDoubleArray()).ToList();
        var streamed = Stream(0);
        Assert.Equal(streamed, Stream(2));
        Assert.Equal(before, Generator.Default.GetState().Words);   // loading never advanced the process-wide generator
    }

    [Fact]
    public void BatchTransformGetsAPerBatchGenerator()
    {
        var ds = new ListDataset<(Tensor, long)>(Enumerable.Range(0, 12).Select(i => (Torch.Full([1, 4, 4], i), (long)(i % 3))).ToArray());
        var mixup = new MixUp(numClasses: 3, alpha: 0.4);
        List<double[]> Load(int workers) => Flatten(new DataLoader<(Tensor, long)>(ds, batchSize: 4, shuffle: true, seed: 2,
            numWorkers: workers, batchTransform: mixup.Apply));
        var a = Load(0);
        Assert.Equal(a, Load(2));
        Assert.Equal(12, a[1].Length);   // soft targets [4, 3]
    }

    [Fact]
    public void IterableDatasetIsBatchedInStreamOrder()
    {
        var stream = new CountingStream(11);
        var serial = new DataLoader<long>(stream, batchSize: 4).Select(b => b[0].ToArray<long>()).ToList();
        Assert.Equal(3, serial.Count);
        Assert.Equal(new long[] { 8, 9, 10 }, serial[2]);
        var prefetched = new DataLoader<long>(stream, batchSize: 4, numWorkers: 1, dropLast: true).Select(b => b[0].ToArray<long>()).ToList();
        Assert.Equal(serial.Take(2), prefetched);
        Assert.Throws<InvalidOperationException>(() => new DataLoader<long>(stream).Count);
    }

    sealed class CountingStream(int n) : IIterableDataset<long>
    {
        public IEnumerable<long> Iterate(Generator generator)
        {
            for (long i = 0; i < n; i++) yield return i;
        }
    }

    sealed class SlowDataset(int n) : IDataset<long>
    {
        int active, maxConcurrent, started;
        public int MaxConcurrent => Volatile.Read(ref maxConcurrent);
        public int Started => Volatile.Read(ref started);
        public int Count => n;
        public long this[int index]
        {
            get
            {
                Interlocked.Increment(ref started);
                int now = Interlocked.Increment(ref active);
                int cur;
                while ((cur = Volatile.Read(ref maxConcurrent)) < now && Interlocked.CompareExchange(ref maxConcurrent, now, cur) != cur) { }
                Thread.Sleep(index % 4 == 0 ? 6 : 1);
                Interlocked.Decrement(ref active);
                return index;
            }
        }
    }
}

/// <summary>A data set over a list of items (test helper).</summary>
sealed class ListDataset<T>(IReadOnlyList<T> items) : IDataset<T>
{
    public IReadOnlyList<T> Items => items;
    public int Count => items.Count;
    public T this[int index] => items[index];
}
