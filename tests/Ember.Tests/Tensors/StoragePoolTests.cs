using System.Runtime.CompilerServices;
using Ember.Backends.Cpu;

namespace Ember.Tests.Tensors;

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
}
