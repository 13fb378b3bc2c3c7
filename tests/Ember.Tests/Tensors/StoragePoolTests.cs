using System.Runtime.CompilerServices;
using Ember.Backends.Cpu;

namespace Ember.Tests.Tensors;

[Collection(StoragePoolCollection.Name)]
public class StoragePoolTests
{
    const int Large = 1 << 16;   // 256 KiB of float32: pooled

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
        long limit = StoragePool.LimitBytes;
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
            Assert.DoesNotContain(Torch.Empty([Large]).storage.Data, stale);

            // A buffer of a size asked for longer ago than every pooled one does not push them out.
            StoragePool.Clear();
            var old = AllocateAndDrop(Large + 200, 3f);
            var recent = AllocateManyAndDrop(4, Large);
            ReleaseRingAndCollect();
            StoragePool.Reclaim();   // oldest first: the recent four push the older size out
            Assert.Contains(Torch.Empty([Large]).storage.Data, recent);
            Assert.NotSame(old, Torch.Empty([Large + 200]).storage.Data);
        }
        finally
        {
            StoragePool.LimitBytes = limit;
            StoragePool.Clear();
        }
    }
}
