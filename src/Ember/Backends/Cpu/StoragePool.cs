using Ember.Kernels.Numerics;

namespace Ember.Backends.Cpu;

/// <summary>
/// Recycles tensor buffers of <see cref="MinBytes"/> and more (PyTorch's caching allocator, for a garbage-collected
/// heap). A buffer comes back two ways. Deterministically, where Ember knows it is dead: the backward pass returns its
/// gradient temporaries through <see cref="Return"/> as soon as they are accumulated, and the temporaries a node's
/// backward function made as soon as it returns (Autograd.GradientRelease says which ones it may); and where the user
/// disposes a tensor that is the one reader of its buffer (Tensor.Dispose). Otherwise by collection: every pooled
/// buffer is registered with a weak reference to its <see cref="PooledStorage"/>; the first <see cref="Rent"/> after
/// a garbage collection (on whichever thread allocates next) reclaims the buffers whose storages that collection found
/// dead, without finalizers or a wait for the finalizer thread. A miss induces a collection once 8 MB were handed out
/// since the last one (twice the L3 for a buffer of half the L3 or more; see Rent).
/// A buffer leaves the pool for the next allocation of the same dtype and size class (<see cref="Capacity"/>: the exact
/// length from 256 KiB up). Buffers are dirty: a zeroed allocation clears them.
/// <para>
/// The pool sizes itself (see <see cref="LimitBytes"/>): its limit starts at min(1 GiB, an eighth of the available
/// memory) and grows when a size whose buffers it had to drop for lack of room is asked for again (the working set is
/// larger than the limit: YOLOv5n at batch 16 keeps 1.6 GB in circulation), up to a quarter of the available memory;
/// sizes not asked for during a quiet period are dropped and the limit comes back down by what they held.
/// </para>
/// <para>
/// Safety: a kernel may still be reading a buffer through a span after the last reference to its storage is gone
/// (the JIT ends object lifetimes early), so a collection could find the storage dead while the buffer is in use. Every
/// access to a pooled buffer goes through <see cref="Storage.As{T}"/>, which records the storage in a small per-thread
/// ring of recently used storages; the ring keeps them reachable, so a storage cannot be found dead until its thread has
/// moved on to <see cref="RingSize"/>/2 other pooled buffers — well past the end of any op that was using it. Inside a
/// backend op (<see cref="EnterOp"/>) accesses are kept in the op's own list instead, released when the op returns: a
/// loop over one op then reuses the previous call's output buffer (warm) and holds two buffers, not seventeen.
/// </para>
/// </summary>
internal static class StoragePool
{
    /// <summary>
    /// Buffers of at least this many bytes are pooled; below it a plain allocation is cheaper than the pool's
    /// bookkeeping and collections. Down from 128 KiB (session 22): a loop of fresh 32-64 KiB outputs otherwise walks the GC's whole gen0
    /// budget (80 MiB on this Intel Xeon (SPR class), sized from the host's L3; 16 MiB in Ember's programs) through
    /// cold memory: with the 16 MiB budget a 64 KiB add 4.6 -> 3.9 µs median (CPU 8.2 -> 5.0, p90 17.3 -> 4.9), a 32 KiB
    /// add 2.5 -> 2.2, while pooling 16 KiB outputs made their add slower (1.4 -> 1.8), so the threshold stops at 32 KiB
    /// (loaded machine, one process, alternating rounds: docs/bench-logs/2026-12-06-session22-s22-mem-ab.txt).
    /// Set only by the bench's small-ops rows (SmallOpsWorkload), to compare thresholds in one process.
    /// </summary>
    internal static int MinBytes { get; set; } = 32 * 1024;
    internal const int RingSize = 16;

    static readonly object Gate = new();
    static readonly Dictionary<(DType, int), Stack<Array>> Free = [];
    // Buffers handed out and not yet reclaimed or returned, each with a weak reference to the storage that owns it.
    static readonly List<Lease> Outstanding = [];
    // GC.CollectionCount(0) at the last reclaim: no collection since means no storage can have been found dead.
    static int reclaimedAtCollection;
    static long pooledBytes;
    // When each size was last asked for, on a clock that ticks once per lookup: a full pool makes room for a buffer by
    // dropping the free buffers of sizes asked for longer ago (see MakeRoom).
    static readonly Dictionary<(DType, int), long> LastWanted = [];
    static long wantClock;
    // Diagnostics (racy counters, for tests and profiling only). LimitGrowths counts the times the limit grew;
    // PeakPooledBytes is the most bytes the free lists held at once.
    internal static long Hits, Misses, InducedCollections, EarlyReturns, Evictions, LimitGrowths, PeakPooledBytes;
    // Stopwatch ticks spent in induced collections and the reclaim after them (diagnostics, like the counters above).
    internal static long InducedCollectionTicks;
    // When set (profiling only), counts misses per (dtype, length), so a report can say which buffers miss.
    internal static Dictionary<(DType, int), int>? MissesBySize;
    static long rentedSinceCollection;
    static int skipYoungCollections;
    // A collection is induced on a miss only after this many bytes were handed out since the last one. Small on
    // purpose: a fresh page costs ~10 µs to fault in on this VM, a collection of Ember's heap well under 1 ms (a loop of
    // 256² matmuls ran 0.98 ms per call at 64 MB, 0.33 ms at 8 MB; the CNN step is the same at 2–64 MB).
    const long CollectAfterRentedBytes = 8L << 20;
    // Buffers of at least half the L3 are not worth keeping warm: with its inputs such a buffer does not stay in cache
    // from one call to the next, and the large-output kernels write it with non-temporal stores (NonTemporal), which read
    // nothing of it first. A miss of one induces a collection only after this many bytes were rented since the last one,
    // so a loop over one such op cycles through a few buffers with one collection per few calls instead of one warm
    // buffer and one collection per call (add 4M as the bench calls it: one gen-1 collection per call, 0.03-1.1 ms each
    // on the loaded 2-core machine of 2026-12-05, against the add's 0.43 ms on the quiet one).
    // The L3 counted is the share the process can rely on (CacheSizes.L3Share): a VM that reports its host's 300 MiB L3
    // otherwise kept 16 MB outputs "warm" at one induced gen-1 collection per call (0.06-0.2 ms each, this Intel Xeon
    // (SPR class), loaded).
    internal static readonly long LargeBufferBytes = Ember.Kernels.Gemm.CacheSizes.L3Share / 2;
    // The bytes rented between collections induced by misses of such buffers (CollectAfterRentedBytes, 8 MB, for all sizes before 2026-12-05).
    internal static readonly long LargeCollectAfterRentedBytes = Math.Max(CollectAfterRentedBytes, 2 * Ember.Kernels.Gemm.CacheSizes.L3Share);
    // The limit and its automatic range: it starts at floorBytes and moves within [floorBytes, ceilingBytes] unless a
    // user fixed it (LimitBytes's setter). Guarded by Gate.
    static long limitBytes, floorBytes, ceilingBytes;
    static bool limitFixed;
    // Bytes of free buffers dropped for lack of room, per size, since that size was last asked for: a miss of such a size
    // says the limit was too small for the working set, and the limit grows by what was dropped of it (see Grow).
    static readonly Dictionary<(DType, int), long> Dropped = [];
    // The quiet-period clock: bytes rented in all; where the current period began (in rented bytes and on the want
    // clock), the most bytes the free lists held in it, and whether it dropped buffers for lack of room (EndQuietPeriod).
    static long rentedBytes, quietCheckRented, quietCheckWant, periodPeakPooled;
    static bool periodPressure;
    internal const int QuietPeriodLimits = 64;

    static StoragePool() => SizeLimitAutomatically();

    [ThreadStatic] static Ring? ring;

    sealed class Ring
    {
        public readonly Storage?[] Slots = new Storage?[RingSize];
        public int Ticket;
    }

    /// <summary>Whether pooling is on (default). Turning it off also empties the pool.</summary>
    public static bool Enabled { get; set { field = value; if (!value) Clear(); } } = true;

    /// <summary>
    /// Most bytes of free buffers kept in the pool now; buffers beyond it are left to the GC. Setting it fixes the limit
    /// (the pool stops sizing itself) until <see cref="SizeLimitAutomatically()"/>.
    /// </summary>
    public static long LimitBytes
    {
        get { lock (Gate) return limitBytes; }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (Gate) { limitBytes = value; limitFixed = true; Dropped.Clear(); }
        }
    }

    /// <summary>Whether the limit was set by hand (<see cref="LimitBytes"/>) rather than sized by the pool.</summary>
    internal static bool LimitFixed { get { lock (Gate) return limitFixed; } }

    /// <summary>
    /// Lets the pool size its limit again, from <paramref name="floor"/> (where it starts and what it shrinks back to) up
    /// to <paramref name="ceiling"/>. The defaults: min(1 GiB, an eighth of the available memory) and a quarter of it.
    /// </summary>
    internal static void SizeLimitAutomatically(long floor, long ceiling)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(floor);
        ArgumentOutOfRangeException.ThrowIfLessThan(ceiling, floor);
        lock (Gate)
        {
            (floorBytes, ceilingBytes, limitBytes, limitFixed) = (floor, ceiling, floor, false);
            Dropped.Clear();
            (quietCheckRented, quietCheckWant, periodPeakPooled, periodPressure) = (Interlocked.Read(ref rentedBytes), wantClock, pooledBytes, false);
        }
    }

    internal static void SizeLimitAutomatically()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (available <= 0) available = 8L << 30;
        SizeLimitAutomatically(Math.Min(1L << 30, available / 8), Math.Max(Math.Min(1L << 30, available / 8), available / 4));
    }

    /// <summary>Bytes of pooled buffers handed out and not yet reclaimed or returned (diagnostics: a scan under the lock).</summary>
    internal static long OutstandingBytes
    {
        get
        {
            lock (Gate)
            {
                long bytes = 0;
                foreach (var lease in Outstanding) if (!lease.Returned) bytes += (long)lease.Data.Length * lease.DType.ElementSize();
                return bytes;
            }
        }
    }

    /// <summary>Bytes currently waiting in the pool.</summary>
    public static long PooledBytes { get { lock (Gate) return pooledBytes; } }

    public static bool Covers(DType dtype, int count) => Enabled && (long)count * dtype.ElementSize() >= MinBytes;

    /// <summary>
    /// Buffers under this many bytes are handed out by size class (<see cref="Capacity"/>), larger ones by exact length.
    /// </summary>
    internal const int ClassedBelowBytes = 256 * 1024;

    /// <summary>
    /// The length of the buffer the pool hands out for <paramref name="count"/> elements. Under
    /// <see cref="ClassedBelowBytes"/> the size is rounded up to one of four classes per octave (32, 40, 48, 56, 64, 80 KiB
    /// and so on: at most a quarter more), so tensors whose length changes from step to step reuse one another's buffers:
    /// the YOLO loss's tensors follow the batch's object count, and by exact length their 33-57 KiB sizes missed about 13
    /// times per step (session 23), each miss a chance of a full collection. Larger buffers keep their exact length: they
    /// are the activations and gradients of fixed shapes, where rounding would only add memory (up to a quarter more).
    /// </summary>
    internal static int Capacity(DType dtype, int count)
    {
        int size = dtype.ElementSize();
        long bytes = (long)count * size;
        if (bytes >= ClassedBelowBytes || bytes <= 4096) return count;
        // bytes in (2^octave, 2^(octave+1)]: classes every 2^(octave-2) bytes (at least 1 KiB, so whole elements of any dtype)
        int octave = System.Numerics.BitOperations.Log2((ulong)(bytes - 1));
        long step = 1L << (octave - 2);
        return (int)((bytes + step - 1) / step * step / size);
    }

    /// <summary>
    /// A buffer of at least <paramref name="count"/> elements (<see cref="Capacity"/> of them), from the pool when one of
    /// its size class is free. Zeroed asks for all of it cleared.
    /// </summary>
    public static Array Rent(DType dtype, int count, bool zeroed)
    {
        count = Capacity(dtype, count);
        long bytes = (long)count * dtype.ElementSize();
        if (GC.CollectionCount(0) != Volatile.Read(ref reclaimedAtCollection)) Reclaim();
        var array = TryTake(dtype, count, bytes);
        Interlocked.Add(ref rentedBytes, bytes);
        long rented = Interlocked.Add(ref rentedSinceCollection, bytes);
        if (array is null && rented > (bytes >= LargeBufferBytes ? LargeCollectAfterRentedBytes : CollectAfterRentedBytes) && !TakeShort((dtype, count)))
        {
            // Dead storages of earlier steps usually sit in gen 2 (they lived through the step), where only a full
            // collection finds them; the heap is mostly pointer-free arrays, so that collection is cheap. Reclaiming right
            // after it refills the pool, so in steady state a step reuses the previous step's buffers.
            // (Session 12 tried waiting until as many bytes were rented as the last collection gave back: one collection
            // per CNN step instead of two, but after a large workload a loop of 16 MB ops then missed the pool on every
            // call, 0.77 -> 4.8 ms for a broadcast mul after YOLOv5s at batch 8. Backward's temporaries come back through
            // Return without a collection either way.)
            Interlocked.Exchange(ref rentedSinceCollection, 0);
            Interlocked.Increment(ref InducedCollections);
            long collectStart = System.Diagnostics.Stopwatch.GetTimestamp();
            // A young-generation collection first where that has been enough: in small steps (an MLP) the storages die
            // young and a gen-1 collection finds them without walking the whole heap. Where it was not enough (a CNN's
            // activations outlive a collection or two), go straight to gen 2 for a while before trying again.
            long reclaimed = 0;
            if (skipYoungCollections > 0) skipYoungCollections--;
            else
            {
                GC.Collect(1, GCCollectionMode.Forced, blocking: true, compacting: false);
                reclaimed += Reclaim();
                array = TryTake(dtype, count, bytes);
                if (array is null) skipYoungCollections = 8;
            }
            if (array is null)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
                reclaimed += Reclaim();
                array = TryTake(dtype, count, bytes);
            }
            // A collection that found under a quarter of what was rented since the last one ran in the middle of a step:
            // the rest of the step's buffers were still in use. The next miss of this size allocates instead, so the pool
            // keeps one more buffer of it and later steps need no such collection (the CNN step's backward collected
            // for one 1.6 MB buffer and found 3 MB: two collections per step, now one).
            if (reclaimed * 4 < rented) MarkShort((dtype, count));
            Interlocked.Add(ref InducedCollectionTicks, System.Diagnostics.Stopwatch.GetTimestamp() - collectStart);
        }
        if (array is not null)
        {
            Hits++;
            if (zeroed) Array.Clear(array);
            return array;
        }
        Misses++;
        if (MissesBySize is { } sizes) lock (sizes) sizes[(dtype, count)] = sizes.GetValueOrDefault((dtype, count)) + 1;
        Grow((dtype, count));
        return dtype.NewArray(count, zeroed);
    }

    /// <summary>Starts the count of bytes rented since the last collection over (tests: a known state for the collection rule).</summary>
    internal static void ForgetRentedSinceCollection() => Interlocked.Exchange(ref rentedSinceCollection, 0);

    // Sizes whose last induced collection found little (see Rent): their next miss allocates instead of collecting.
    static readonly HashSet<(DType, int)> ShortSizes = [];

    static void MarkShort((DType, int) key)
    {
        lock (Gate)
        {
            if (ShortSizes.Count >= MaxWantedSizes) ShortSizes.Clear();
            ShortSizes.Add(key);
        }
    }

    static bool TakeShort((DType, int) key)
    {
        lock (Gate) return ShortSizes.Count > 0 && ShortSizes.Remove(key);
    }

    /// <summary>
    /// A miss of a size whose free buffers the pool dropped for lack of room (and has not been asked for since): the
    /// working set is larger than the limit, so the limit grows by the bytes dropped of that size, up to the ceiling.
    /// Growing by what was dropped, not by one buffer, reaches the working set within a step or two: YOLOv5n at batch 16
    /// (1.6 GB in circulation against 1 GiB) otherwise evicted and re-allocated every step.
    /// </summary>
    static void Grow((DType, int) key)
    {
        lock (Gate)
        {
            if (limitFixed || !Dropped.Remove(key, out long dropped)) return;
            long grown = Math.Min(ceilingBytes, limitBytes + dropped);
            if (grown <= limitBytes) return;
            limitBytes = grown;
            LimitGrowths++;
        }
    }

    static Array? TryTake(DType dtype, int count, long bytes)
    {
        lock (Gate)
        {
            LastWanted[(dtype, count)] = ++wantClock;
            if (LastWanted.Count > MaxWantedSizes) ForgetSizesWithoutBuffers();
            if (Dropped.Count > MaxWantedSizes) Dropped.Clear();
            if (!Free.TryGetValue((dtype, count), out var stack) || stack.Count == 0) return null;
            pooledBytes -= bytes;
            // Served after all (a buffer of the size came back since it was dropped): no reason to grow for it.
            if (Dropped.Count > 0) Dropped.Remove((dtype, count));
            return stack.Pop();
        }
    }

    /// <summary>Registers the storage that owns a rented buffer, so the buffer is reclaimed once the storage is dead.</summary>
    public static void Register(PooledStorage storage)
    {
        var lease = new Lease(new WeakReference(storage), storage.Data, storage.DType);
        storage.Lease = lease;
        lock (Gate) Outstanding.Add(lease);
        AllocationLog?.Add(storage);
    }

    /// <summary>
    /// When set, the pooled storages allocated on this thread are added to it (Autograd.GradientRelease records a backward
    /// function's temporaries this way). Storages allocated on other threads are not: the log only ever under-counts.
    /// </summary>
    [ThreadStatic] internal static List<PooledStorage>? AllocationLog;

    /// <summary>
    /// One buffer handed out: its owner (weakly), the buffer, and whether the owner gave it back early through
    /// <see cref="Return"/> (then a later collection finding the owner dead must not pool the buffer a second time).
    /// </summary>
    internal sealed class Lease(WeakReference owner, Array data, DType dtype)
    {
        public readonly WeakReference Owner = owner;
        public readonly Array Data = data;
        public readonly DType DType = dtype;
        public bool Returned;
    }

    /// <summary>The test mode's setting for this process (EMBER_POOL_QUARANTINE); tests that switch it restore this.</summary>
    internal static readonly bool QuarantineByDefault = Environment.GetEnvironmentVariable("EMBER_POOL_QUARANTINE") == "1";

    /// <summary>
    /// Test mode: a returned buffer is filled with NaN (all-ones bits for integer dtypes) and never handed out again, so
    /// any read of it after its return shows in the results instead of reading another tensor's values. On for the
    /// whole process with EMBER_POOL_QUARANTINE=1 (.ci/run runs the autograd, op and module tests so: every early return
    /// the engine makes is then checked by every gradient those tests compare).
    /// </summary>
    internal static bool QuarantineReturned = QuarantineByDefault;

    /// <summary>
    /// Gives a storage's buffer back to the pool now, before any collection, for the next allocation of its size. Only
    /// for a storage that nothing will read again: the caller must know every reference to it (the backward engine
    /// returns gradient temporaries it created and alone held, see Autograd.GradientRelease; Tensor.Dispose the buffer of
    /// a storage it is the one handle of). A later access through the storage throws (<see cref="Touch"/>) rather than
    /// read a buffer that may belong to another tensor by then.
    /// </summary>
    public static void Return(PooledStorage storage)
    {
        lock (Gate)
        {
            if (storage.Returned) return;
            storage.Returned = true;
            if (storage.Lease is { } lease) lease.Returned = true;
            EarlyReturns++;
            var data = storage.Data;
            long bytes = (long)data.Length * storage.DType.ElementSize();
            if (QuarantineReturned) { Poison(data); return; }
            if (!Enabled || !MakeRoom((storage.DType, data.Length), bytes)) return;
            if (!Free.TryGetValue((storage.DType, data.Length), out var stack)) Free[(storage.DType, data.Length)] = stack = new Stack<Array>();
            stack.Push(data);
            pooledBytes += bytes;
            NotePooled();
        }
    }

    static void Poison(Array data)
    {
        switch (data)
        {
            case float[] a: a.AsSpan().Fill(float.NaN); break;
            case double[] a: a.AsSpan().Fill(double.NaN); break;
            // all-ones bits: NaN for the half types, -1 for the signed integers, an out-of-range value for bool
            case Half[] a: AllOnes(a); break;
            case BFloat16[] a: AllOnes(a); break;
            case long[] a: AllOnes(a); break;
            case int[] a: AllOnes(a); break;
            case sbyte[] a: AllOnes(a); break;
            case byte[] a: AllOnes(a); break;
            case bool[] a: AllOnes(a); break;
        }
    }

    static void AllOnes<T>(T[] a) where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()).Fill(0xFF);

    /// <summary>
    /// Moves the buffers of storages found dead by the collections so far into the free lists (up to
    /// <see cref="LimitBytes"/>; the rest are left to the GC). Runs on the allocating thread at its first rent after a
    /// collection, and after every induced collection.
    /// </summary>
    /// <returns>The bytes moved into the free lists.</returns>
    internal static long Reclaim()
    {
        long reclaimed = 0;
        lock (Gate)
        {
            // Read before scanning: a collection during the scan is seen again by the next rent.
            reclaimedAtCollection = GC.CollectionCount(0);
            // One pass that keeps the live entries in registration order and pushes the dead ones oldest first, so the
            // most recently allocated dead buffer is on top of its stack: the next rent gets the warmest one.
            int kept = 0;
            for (int i = 0; i < Outstanding.Count; i++)
            {
                var entry = Outstanding[i];
                if (entry.Returned) continue;
                if (entry.Owner.IsAlive) { Outstanding[kept++] = entry; continue; }
                var (data, dtype) = (entry.Data, entry.DType);
                long bytes = (long)data.Length * dtype.ElementSize();
                if (!Enabled || !MakeRoom((dtype, data.Length), bytes)) continue;
                if (!Free.TryGetValue((dtype, data.Length), out var stack)) Free[(dtype, data.Length)] = stack = new Stack<Array>();
                stack.Push(data);
                pooledBytes += bytes;
                reclaimed += bytes;
            }
            Outstanding.RemoveRange(kept, Outstanding.Count - kept);
            NotePooled();
            if (Interlocked.Read(ref rentedBytes) - quietCheckRented >= QuietPeriodLimits * Math.Max(floorBytes, MinBytes)) EndQuietPeriod();
        }
        return reclaimed;
    }

    /// <summary>
    /// The end of a period of <see cref="QuietPeriodLimits"/> floors' worth of rents. The free buffers of sizes not asked
    /// for during it go to the GC (an earlier workload's, e.g. a training run's sizes once another workload runs). And if
    /// the pool dropped nothing for lack of room during it, the limit comes down to the most bytes the free lists held
    /// in it (less the sizes just dropped), not below the floor: a limit that grew for one workload does not stay grown
    /// for the next. A size that then misses after all grows it again (<see cref="Grow"/>). Caller holds <see cref="Gate"/>.
    /// </summary>
    static void EndQuietPeriod()
    {
        long since = quietCheckWant, peak = periodPeakPooled;
        bool pressure = periodPressure;
        (quietCheckRented, quietCheckWant) = (Interlocked.Read(ref rentedBytes), wantClock);
        (periodPeakPooled, periodPressure) = (pooledBytes, false);
        List<(DType, int)>? quiet = null;
        foreach (var (size, stack) in Free)
            if (stack.Count > 0 && LastWanted.GetValueOrDefault(size) <= since) (quiet ??= []).Add(size);
        long freed = 0;
        foreach (var size in quiet ?? [])
        {
            freed += Free[size].Count * (long)size.Item2 * size.Item1.ElementSize();
            Evictions += Free[size].Count;
            Free.Remove(size);
            LastWanted.Remove(size);
        }
        pooledBytes -= freed;
        periodPeakPooled = pooledBytes;
        if (!limitFixed && !pressure) limitBytes = Math.Max(floorBytes, Math.Min(limitBytes, peak - freed));
    }

    /// <summary>
    /// Whether a buffer of <paramref name="bytes"/> and size <paramref name="key"/> fits under <see cref="LimitBytes"/>, once
    /// the free buffers of sizes last asked for before this one are dropped to the GC if needed (least recently asked
    /// for first, a whole size at a time). Without this the buffers an earlier workload left (a training run's sizes,
    /// the bench's earlier rows) filled the pool for good: the buffers of the workload running now then missed, were
    /// allocated fresh (page faults) and induced full collections (YOLOv5n at batch 8 after six earlier bench rows: 38
    /// of its 66 buffers missed per forward, with 15,000 page faults and 13 induced collections; 148 ms CPU per forward
    /// against 87 with this). Caller holds <see cref="Gate"/>.
    /// </summary>
    static bool MakeRoom((DType DType, int Length) key, long bytes)
    {
        long wanted = LastWanted.GetValueOrDefault(key);
        while (pooledBytes + bytes > limitBytes)
        {
            (DType DType, int Length) oldest = default;
            long oldestWanted = wanted;
            bool found = false;
            foreach (var (size, stack) in Free)
            {
                if (stack.Count == 0 || size == key) continue;
                long stamp = LastWanted.GetValueOrDefault(size);
                if (stamp < oldestWanted) { oldest = size; oldestWanted = stamp; found = true; }
            }
            if (!found)
            {
                NoteDropped(key, bytes);
                return false;
            }
            long droppedBytes = Free[oldest].Count * (long)oldest.Length * oldest.DType.ElementSize();
            pooledBytes -= droppedBytes;
            Evictions += Free[oldest].Count;
            Free.Remove(oldest);
            LastWanted.Remove(oldest);
            NoteDropped(oldest, droppedBytes);
        }
        return true;
    }

    static void NoteDropped((DType, int) size, long bytes)
    {
        periodPressure = true;
        if (!limitFixed) Dropped[size] = Dropped.GetValueOrDefault(size) + bytes;
    }

    static void NotePooled()
    {
        if (pooledBytes > periodPeakPooled) periodPeakPooled = pooledBytes;
        if (pooledBytes > PeakPooledBytes) PeakPooledBytes = pooledBytes;
    }

    // Sizes remembered in LastWanted before those with no free buffer are forgotten (shapes that keep changing, e.g.
    // validation batches of varying size, would otherwise grow it without end).
    const int MaxWantedSizes = 4096;

    static void ForgetSizesWithoutBuffers()
    {
        var unused = new List<(DType, int)>();
        foreach (var size in LastWanted.Keys)
            if (!Free.TryGetValue(size, out var stack) || stack.Count == 0) unused.Add(size);
        foreach (var size in unused) LastWanted.Remove(size);
    }

    /// <summary>Drops every pooled buffer (torch.cuda.empty_cache's counterpart) and forgets the ones handed out.</summary>
    public static void Clear()
    {
        lock (Gate)
        {
            Free.Clear(); Outstanding.Clear(); LastWanted.Clear(); Dropped.Clear(); ShortSizes.Clear(); pooledBytes = 0;
            // An automatic limit starts over from its floor; a fixed one stays.
            if (!limitFixed) limitBytes = floorBytes;
        }
    }

    /// <summary>
    /// Forgets this thread's recent accesses. Call only where no span into a pooled buffer is live on this thread: between
    /// modules (Module.Call returns), between backward nodes, after an optimizer step. Without it the ring keeps up to
    /// 16 dead activations reachable, so a loop over one large op misses the pool for its first ~15 calls and every
    /// later step holds that much memory for nothing.
    /// </summary>
    public static void ReleaseRing()
    {
        var r = ring;
        if (r is null) return;
        Array.Clear(r.Slots);
        // Stale tickets: storages recorded before the release are recorded again on their next access.
        r.Ticket += RingSize;
    }

    /// <summary>
    /// Opens a backend-op scope on this thread (nested scopes count). Accesses inside it are kept reachable in the
    /// scope's own list until the outermost scope closes, instead of in the ring: a backend op hands back tensors, never
    /// spans, so once it returns nothing on this thread reads through the spans it took. Its dead inputs and outputs are
    /// then reclaimable at the very next rent (a loop over one op reuses the previous call's buffer, warm in cache),
    /// where the ring would keep its last 16 outputs alive.
    /// </summary>
    public static OpScope EnterOp()
    {
        var s = scope ??= new ScopeState();
        s.Depth++;
        return new OpScope(s);
    }

    /// <summary>A backend op's scope on one thread; dispose it (a <c>using</c>) where the op returns.</summary>
    internal readonly ref struct OpScope
    {
        readonly ScopeState state;
        internal OpScope(ScopeState state) => this.state = state;
        public void Dispose()
        {
            if (--state.Depth == 0) state.Touched.Clear();
        }
    }

    internal sealed class ScopeState
    {
        public int Depth;
        public readonly List<PooledStorage> Touched = [];
    }

    [ThreadStatic] static ScopeState? scope;

    /// <summary>Records an access; a storage already recorded in the newer half of this thread's ring is skipped.</summary>
    public static void Touch(PooledStorage storage)
    {
        if (storage.Returned) throw UseAfterReturn(storage);
        var s = scope;
        if (s is not null && s.Depth > 0)
        {
            var touched = s.Touched;
            if (touched.Count == 0 || !ReferenceEquals(touched[^1], storage)) touched.Add(storage);
            return;
        }
        var r = ring ??= new Ring();
        if (ReferenceEquals(storage.TouchRing, r) && r.Ticket - storage.TouchTicket < RingSize / 2) return;
        storage.TouchRing = r;
        storage.TouchTicket = r.Ticket;
        r.Slots[r.Ticket++ & (RingSize - 1)] = storage;
    }

    static InvalidOperationException UseAfterReturn(PooledStorage storage) => new(
        $"storage pool: a {storage.DType.TorchName()} buffer of {storage.Length} elements was accessed after it was returned to the pool " +
        "(an early release in backward or by Tensor.Dispose was wrong); please report this; Torch.PoolStorage = false works around it");
}
