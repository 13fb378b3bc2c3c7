using System.Runtime.CompilerServices;
using Ember.Backends.Cpu;

namespace Ember.Tests.Tensors;

[Collection(StoragePoolCollection.Name)]
public class StoragePoolTests
{
    // 256 KiB of float32 (pooled), plus an odd few elements: the pool is process-wide, and a test's leftover work on
    // another thread that rents a common size (65,536 = 256²) between two lines here would take or give back a buffer
    // these tests count (CI at 85b268a: a 256² buffer came back from the pool after its size had been evicted).
    const int Large = (1 << 16) + 11;

    [MethodImpl(MethodImplOptions.NoInlining)]
    static Array AllocateAndDrop(int n, float value)
    {
        var t = Torch.Full([n], value);
        return t.storage.Data;   // the array outlives the tensor; the storage does not
    }

    static void CollectDeadStorages()
    {
        // Storages recently touched on this thread stay reachable through its ring: touch other pooled buffers first.
        for (int i = 0; i < StoragePool.RingSize; i++) GC.KeepAlive(Torch.Zeros([Large + 1 + i]).storage.As<float>());
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [Fact]
    public void A_dead_large_buffer_is_reused_for_the_same_size_and_cleared_when_zeros_are_asked()
    {
        Assert.True(Torch.PoolStorage);
        var array = AllocateAndDrop(Large, 7f);
        CollectDeadStorages();
        var reused = Torch.Zeros([Large]);
        Assert.Same(array, reused.storage.Data);
        Assert.All(reused.ToArray<float>(), v => Assert.Equal(0f, v));   // the recycled buffer held 7s
    }

    [Theory]
    [InlineData(DType.Float32, 8192, 8192)]            // 32 KiB: a class of its own
    [InlineData(DType.Float32, 8193, 10240)]           // just over 32 KiB: the 40 KiB class
    [InlineData(DType.Float32, 10240, 10240)]
    [InlineData(DType.Float32, 10241, 12288)]          // 48 KiB
    [InlineData(DType.Float32, 16385, 20480)]          // just over 64 KiB: 80 KiB
    [InlineData(DType.Float32, 57345, 65536)]          // 224 KiB + 4 bytes: the last class, 256 KiB
    [InlineData(DType.Float32, 65536, 65536)]          // 256 KiB and up: exact lengths
    [InlineData(DType.Float32, 65537, 65537)]
    [InlineData(DType.Float32, 393_221, 393_221)]      // 1.5 MiB + 20 bytes
    [InlineData(DType.Float64, 4097, 5120)]            // classes are in bytes, whatever the element size
    [InlineData(DType.Int64, 4095, 4096)]
    [InlineData(DType.Bool, 33_000, 40960)]
    [InlineData(DType.Float16, 16_400, 20480)]
    public void Sizes_under_256_KiB_round_up_to_four_classes_per_octave(DType dtype, int count, int capacity)
    {
        Assert.Equal(capacity, StoragePool.Capacity(dtype, count));
        var t = Torch.Empty([count], dtype);
        Assert.Equal(count, t.storage.Length);
        Assert.Equal(count, t.NumEl);
        if (StoragePool.Covers(dtype, count)) Assert.Equal(capacity, t.storage.Data.Length);
    }

    [Fact]
    public void A_dead_buffer_serves_another_length_of_its_size_class_and_the_tensor_sees_only_its_own_elements()
    {
        // 9,000 and 9,700 floats (35.2 and 37.9 KiB): both in the 40 KiB class
        var array = AllocateAndDrop(9_000, 7f);
        Assert.Equal(10240, array.Length);
        CollectDeadStorages();
        var reused = Torch.Zeros([9_700]);
        Assert.Same(array, reused.storage.Data);
        Assert.Equal(9_700, reused.ToArray<float>().Length);
        Assert.All((float[])array, v => Assert.Equal(0f, v));   // a zeroed rent clears the whole buffer
        ((float[])array).AsSpan().Fill(-1e30f);   // what an earlier tensor may leave past this one's end
        reused.FillInPlace(2f);
        // reductions, a broadcast op, a copy and a serialized form read 9,700 elements, not the buffer
        Assert.Equal(19_400f, reused.Sum().Item<float>());
        Assert.Equal(2f, reused.Max().Item<float>());
        Assert.Equal(-1e30f, ((float[])array)[9_700]);
        var scaled = (reused.Reshape([97, 100]) * Torch.Full([100], 0.5f)).Contiguous();
        Assert.Equal(9_700f, scaled.Sum().Item<float>());
        Assert.Equal(9_700, scaled.storage.Length);
        string path = Path.Combine(Path.GetTempPath(), $"ember-pool-class-{Environment.ProcessId}.safetensors");
        try
        {
            Ember.Interop.SafeTensors.Save(path, new Dictionary<string, Tensor> { ["t"] = reused });
            Assert.Equal(8 + 9_700 * sizeof(float), new FileInfo(path).Length - HeaderBytes(path));
            var loaded = Ember.Interop.SafeTensors.Load(path)["t"];
            Assert.Equal([9_700], loaded.Shape.ToArray());
            Assert.All(loaded.ToArray<float>(), v => Assert.Equal(2f, v));
        }
        finally { File.Delete(path); }
    }

    // safetensors: an 8-byte little-endian header length, the header, then the data
    static long HeaderBytes(string path) => BitConverter.ToInt64(File.ReadAllBytes(path).AsSpan(0, 8));

    [Fact]
    public void Small_buffers_other_sizes_and_a_disabled_pool_get_fresh_arrays()
    {
        var small = AllocateAndDrop(1000, 1f);
        var other = AllocateAndDrop(Large + 100, 1f);
        CollectDeadStorages();
        Assert.NotSame(small, Torch.Zeros([1000]).storage.Data);
        Assert.NotSame(other, Torch.Zeros([Large + 99]).storage.Data);
        try
        {
            Torch.PoolStorage = false;
            Assert.Equal(0, StoragePool.PooledBytes);   // turning it off empties the pool
            var array = AllocateAndDrop(Large, 1f);
            CollectDeadStorages();
            Assert.NotSame(array, Torch.Zeros([Large]).storage.Data);
        }
        finally { Torch.PoolStorage = true; }
    }

    [Fact]
    public void A_dead_buffer_comes_back_at_the_first_rent_after_a_collection_without_a_finalizer()
    {
        var array = AllocateAndDrop(Large + 3, 5f);
        for (int i = 0; i < StoragePool.RingSize; i++) GC.KeepAlive(Torch.Zeros([Large + 11 + i]).storage.As<float>());
        // No WaitForPendingFinalizers: the pool reclaims on the allocating thread, from the collection's own verdict.
        GC.Collect();
        Assert.Same(array, Torch.Empty([Large + 3]).storage.Data);
    }

    [Fact]
    public void A_storage_in_the_recent_ring_is_not_recycled()
    {
        var t = Torch.Full([Large + 7], 3f);
        var data = t.storage.As<float>();   // touched last: in this thread's ring
        t = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.NotSame(data, Torch.Empty([Large + 7]).storage.Data);
        Assert.All(data, v => Assert.Equal(3f, v));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static Array ExpAndDrop(Tensor x) => x.Exp().storage.Data;

    [Fact]
    public void An_op_output_dropped_by_the_caller_is_reused_at_the_next_rent_after_a_collection()
    {
        var x = Torch.Full([Large + 13], 0.5f);
        var array = ExpAndDrop(x);
        // The op's own accesses were released when it returned: no other buffers need touching first.
        GC.Collect();
        var y = x.Exp();
        Assert.Same(array, y.storage.Data);
        Assert.All(y.ToArray<float>(), v => Assert.Equal(MathF.Exp(0.5f), v, 1e-6f));   // the values of this call, not the last
    }

    [Fact]
    public void A_loop_over_one_large_op_cycles_through_two_buffers()
    {
        // Outputs just over the 8 MB collection threshold and under the large-buffer size (half the L3): every rent that
        // misses the pool induces a collection, which finds the previous output dead.
        int n = (8 << 20) / sizeof(float) + 1024;
        if ((long)n * sizeof(float) >= StoragePool.LargeBufferBytes) return;   // an L3 of 16 MB or less: no such size
        var x = Torch.Full([n], 1f);
        StoragePool.Clear();
        var seen = new List<Array>();
        for (int i = 0; i < 24; i++)
        {
            var data = ExpAndDrop(x);
            if (!seen.Any(a => ReferenceEquals(a, data))) seen.Add(data);
        }
        Assert.InRange(seen.Count, 1, 2);
    }

    [Fact]
    public void A_loop_over_one_op_with_outputs_of_half_the_L3_cycles_through_a_few_buffers_with_a_collection_every_few_calls()
    {
        // Buffers of at least half the L3 do not stay warm between calls, so a miss of one collects only after
        // LargeCollectAfterRentedBytes were rented: about that many bytes of buffers cycle, and the collections are fewer.
        if (StoragePool.LargeBufferBytes > 64L << 20) return;   // a machine with a huge L3: too large a loop for a unit test
        int n = (int)(StoragePool.LargeBufferBytes / sizeof(float));
        var x = Torch.Full([n], 1f);
        StoragePool.Clear();
        for (int i = 0; i < 8; i++) ExpAndDrop(x);   // reach the steady state
        var seen = new List<Array>();
        long induced = StoragePool.InducedCollections;
        const int Calls = 24;
        for (int i = 0; i < Calls; i++)
        {
            var data = ExpAndDrop(x);
            if (!seen.Any(a => ReferenceEquals(a, data))) seen.Add(data);
        }
        int perCollection = (int)(StoragePool.LargeCollectAfterRentedBytes / StoragePool.LargeBufferBytes);
        Assert.InRange(seen.Count, 1, perCollection + 2);
        Assert.InRange(StoragePool.InducedCollections - induced, 1, Calls / perCollection + 1);
    }

    [Fact]
    public void A_storage_touched_inside_an_op_scope_is_not_recycled_until_the_outermost_scope_closes()
    {
        float[] data;
        using (StoragePool.EnterOp())
        {
            using (StoragePool.EnterOp()) data = TouchAndDrop(Large + 21, 4f);
            // The inner scope closed, the outer one has not: the op that took the span may still be reading it.
            GC.Collect();
            var other = Torch.Empty([Large + 21]);
            Assert.NotSame(data, other.storage.Data);
            Assert.All(data, v => Assert.Equal(4f, v));
            GC.KeepAlive(other);   // only data may come back below
        }
        GC.Collect();
        Assert.Same(data, Torch.Empty([Large + 21]).storage.Data);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static Array AddAndDrop(Tensor x, Tensor y) => (x + y).storage.Data;

    [Fact]
    public void A_loop_of_small_adds_cycles_through_the_buffers_of_one_collection_period()
    {
        // 64 KiB outputs (pooled since session 22; a plain GC allocation before): the loop reuses the buffers one
        // collection period rents (8 MB = 128 of them) instead of 2,000 fresh arrays, and induces one collection a period.
        const int N = 16384 + 5, Calls = 2000;
        Assert.True(StoragePool.Covers(DType.Float32, N));
        var x = Torch.Full([N], 1f);
        var y = Torch.Full([N], 2f);
        for (int i = 0; i < 300; i++) AddAndDrop(x, y);   // the steady state
        long induced = StoragePool.InducedCollections;
        var seen = new HashSet<Array>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < Calls; i++) seen.Add(AddAndDrop(x, y));
        int perPeriod = (8 << 20) / (N * sizeof(float));
        Assert.InRange(seen.Count, 1, 2 * perPeriod);
        Assert.InRange(StoragePool.InducedCollections - induced, 1, 2 * Calls / perPeriod + 2);
        Assert.All((x + y).ToArray<float>(), v => Assert.Equal(3f, v));
    }

    [Fact]
    public void Buffers_below_the_threshold_are_not_pooled()
    {
        Assert.False(StoragePool.Covers(DType.Float32, StoragePool.MinBytes / sizeof(float) - 1));
        Assert.True(StoragePool.Covers(DType.Float32, StoragePool.MinBytes / sizeof(float)));
        Assert.IsNotType<PooledStorage>(Torch.Empty([StoragePool.MinBytes / sizeof(float) - 1]).storage);
        Assert.IsType<PooledStorage>(Torch.Empty([StoragePool.MinBytes / sizeof(float)]).storage);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float[] TouchAndDrop(int n, float value)
    {
        var t = Torch.Full([n], value);
        return t.storage.As<float>();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static Array LayerNormAndDrop(Tensor x) => Ember.Nn.Functional.F.LayerNorm(x, [512]).storage.Data;

    [Fact]
    public void A_layer_norm_output_dropped_outside_a_module_is_reused_after_a_collection()
    {
        // LayerNorm runs its kernel from the op itself, not through the backend: its scope releases the accesses too.
        var x = Torch.Full([130, 512], 2f);
        var array = LayerNormAndDrop(x);
        GC.Collect();
        Assert.Same(array, LayerNormAndDrop(x));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static Array[] AllocateManyAndDrop(int count, int n)
    {
        var tensors = new Tensor[count];
        for (int i = 0; i < count; i++) tensors[i] = Torch.Full([n], 1f);   // all alive at once: distinct arrays
        return tensors.Select(t => t.storage.Data).ToArray();
    }

    // Only the ring kept the dropped storages reachable: forget it, then collect.
    static void ReleaseRingAndCollect()
    {
        StoragePool.ReleaseRing();
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    [Fact]
    public void A_full_pool_drops_the_sizes_asked_for_longest_ago_to_keep_a_size_in_use()
    {
        // An earlier workload's buffers filled the pool; the workload running now must still get its own buffers back
        // (before, they were left to the GC: every one missed, faulted fresh pages and induced collections).
        StoragePool.Clear();
        try
        {
            StoragePool.LimitBytes = 4L * Large * sizeof(float);
            var stale = AllocateManyAndDrop(4, Large);
            ReleaseRingAndCollect();
            long evictions = StoragePool.Evictions;
            var current = AllocateAndDrop(Large + 100, 2f);   // this rent reclaims the stale four: the pool is full
            Assert.Equal(StoragePool.LimitBytes, StoragePool.PooledBytes);
            ReleaseRingAndCollect();
            var again = Torch.Empty([Large + 100]);
            Assert.Same(current, again.storage.Data);
            Assert.Equal(evictions + 4, StoragePool.Evictions);   // the whole stale size went, least recently asked for
            // By reference: xunit compares arrays by their elements, and a fresh uninitialized array (Torch.Empty) can
            // land in a dropped stale buffer's freed memory and still hold its ones.
            var fresh = Torch.Empty([Large]).storage.Data;
            Assert.DoesNotContain(stale, buffer => ReferenceEquals(buffer, fresh));

            // A buffer of a size asked for longer ago than every pooled one does not push them out.
            StoragePool.Clear();
            var old = AllocateAndDrop(Large + 200, 3f);
            var recent = AllocateManyAndDrop(4, Large);
            ReleaseRingAndCollect();
            StoragePool.Reclaim();   // oldest first: the recent four push the older size out
            var reused = Torch.Empty([Large]).storage.Data;
            Assert.Contains(recent, buffer => ReferenceEquals(buffer, reused));
            Assert.NotSame(old, Torch.Empty([Large + 200]).storage.Data);
        }
        finally
        {
            StoragePool.SizeLimitAutomatically();
            StoragePool.Clear();
        }
    }

    const long Buffer = Large * sizeof(float);

    // Room for k of the six buffers below (their sizes differ by a few elements), not for k + 1.
    static long Room(int k) => k * Buffer + 1024;

    // One step of a workload with six buffers alive at once, one of each of six sizes; returns its misses.
    static long SixBufferStep(int firstSize)
    {
        long misses = StoragePool.Misses;
        AllocateSixAndDrop(firstSize);
        ReleaseRingAndCollect();
        return StoragePool.Misses - misses;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void AllocateSixAndDrop(int firstSize)
    {
        var tensors = new Tensor[6];
        for (int i = 0; i < tensors.Length; i++) tensors[i] = Torch.Full([firstSize + i], 1f);
        GC.KeepAlive(tensors);
    }

    [Fact]
    public void A_workload_larger_than_the_limit_stops_missing_once_the_limit_has_grown()
    {
        StoragePool.Clear();
        try
        {
            // Room for four of the six buffers: the first reclaim drops the two sizes asked for longest ago.
            StoragePool.SizeLimitAutomatically(Room(4), Room(16));
            long growths = StoragePool.LimitGrowths;
            Assert.Equal(6, SixBufferStep(Large));
            Assert.Equal(2, SixBufferStep(Large));   // the two dropped sizes miss once, and the limit grows by them
            Assert.Equal(growths + 2, StoragePool.LimitGrowths);
            Assert.InRange(StoragePool.LimitBytes, 6 * Buffer, Room(6) + 64);
            for (int step = 0; step < 3; step++) Assert.Equal(0, SixBufferStep(Large));
            Assert.Equal(growths + 2, StoragePool.LimitGrowths);
            Assert.InRange(StoragePool.PooledBytes, 0, StoragePool.LimitBytes);
        }
        finally
        {
            StoragePool.SizeLimitAutomatically();
            StoragePool.Clear();
        }
    }

    [Fact]
    public void The_limit_grows_no_further_than_its_ceiling_and_a_limit_set_by_hand_does_not_grow()
    {
        StoragePool.Clear();
        try
        {
            StoragePool.SizeLimitAutomatically(Room(2), Room(3));
            for (int step = 0; step < 6; step++)
            {
                SixBufferStep(Large);
                Assert.InRange(StoragePool.LimitBytes, Room(2), Room(3));
                Assert.InRange(StoragePool.PooledBytes, 0, StoragePool.LimitBytes);
            }
            Assert.InRange(SixBufferStep(Large), 3, 4);   // still too small for the workload: it keeps missing

            StoragePool.LimitBytes = Room(4);
            Assert.True(StoragePool.LimitFixed);
            long growths = StoragePool.LimitGrowths;
            Assert.Equal(6, SixBufferStep(Large + 10));
            for (int step = 0; step < 4; step++) Assert.Equal(2, SixBufferStep(Large + 10));
            Assert.Equal(growths, StoragePool.LimitGrowths);
            Assert.Equal(Room(4), StoragePool.LimitBytes);
            StoragePool.Clear();   // emptying the pool keeps a limit set by hand
            Assert.Equal(Room(4), StoragePool.LimitBytes);
        }
        finally
        {
            StoragePool.SizeLimitAutomatically();
            StoragePool.Clear();
        }
    }

    [Fact]
    public void After_a_quiet_period_the_sizes_no_longer_asked_for_are_dropped_and_the_limit_comes_back_down()
    {
        StoragePool.Clear();
        try
        {
            StoragePool.SizeLimitAutomatically(Room(4), Room(16));
            for (int step = 0; step < 3; step++) SixBufferStep(Large);
            long grown = StoragePool.LimitBytes;
            Assert.True(grown >= 6 * Buffer, $"limit {grown} did not grow");
            // Another workload, of one size and at most four buffers in circulation, rents three quiet periods' worth
            // of bytes without asking for the six sizes.
            long rents = StoragePool.QuietPeriodLimits * 4 * 3;
            for (int i = 0; i < rents; i++)
            {
                SingleAndDrop(Large + 50);
                if (i % 4 == 3) ReleaseRingAndCollect();
            }
            Assert.Equal(Room(4), StoragePool.LimitBytes);
            Assert.InRange(StoragePool.PooledBytes, 0, Room(4));
            Assert.Equal(6, SixBufferStep(Large));   // none of the six sizes' buffers is left
        }
        finally
        {
            StoragePool.SizeLimitAutomatically();
            StoragePool.Clear();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void SingleAndDrop(int n) => GC.KeepAlive(Torch.Full([n], 2f));

    [Fact]
    public void A_collection_that_found_little_lets_the_next_miss_of_its_size_allocate_instead_of_collecting_again()
    {
        const int Mb = 1 << 18;   // floats per MB
        if (StoragePool.LargeBufferBytes <= 9L << 20) return;   // 9 MB buffers would follow the large-buffer rule
        ReleaseRingAndCollect();
        StoragePool.Clear();
        var keep = new List<Tensor>();
        try
        {
            // Everything rented stays alive: each collection finds nothing dead.
            StoragePool.ForgetRentedSinceCollection();
            long induced = StoragePool.InducedCollections;
            keep.Add(Torch.Empty([9 * Mb]));   // over 8 MB rented and a miss: a collection, which finds nothing
            Assert.Equal(induced + 1, StoragePool.InducedCollections);
            keep.Add(Torch.Empty([9 * Mb]));   // the same size misses again: allocated without collecting
            Assert.Equal(induced + 1, StoragePool.InducedCollections);
            keep.Add(Torch.Empty([9 * Mb]));   // only the next miss was spared
            Assert.Equal(induced + 2, StoragePool.InducedCollections);

            // A collection that finds most of what was rented since the last one marks nothing.
            keep.Clear();
            ReleaseRingAndCollect();
            StoragePool.Clear();
            StoragePool.ForgetRentedSinceCollection();
            SingleAndDrop(7 * Mb);
            StoragePool.ReleaseRing();
            induced = StoragePool.InducedCollections;
            keep.Add(Torch.Empty([2 * Mb + 1]));   // 9 MB rented: a collection, which finds the 7 MB buffer dead
            Assert.Equal(induced + 1, StoragePool.InducedCollections);
            StoragePool.ForgetRentedSinceCollection();
            SingleAndDrop(7 * Mb + 1);
            StoragePool.ReleaseRing();
            keep.Add(Torch.Empty([2 * Mb + 1]));   // the size was not marked: its miss collects again
            Assert.Equal(induced + 2, StoragePool.InducedCollections);
        }
        finally
        {
            GC.KeepAlive(keep);
            StoragePool.Clear();
        }
    }
}
