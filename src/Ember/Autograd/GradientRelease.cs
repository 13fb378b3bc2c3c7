using Ember.Backends.Cpu;

namespace Ember.Autograd;

/// <summary>
/// Gives the backward pass's gradient temporaries back to the <see cref="StoragePool"/> as soon as the pass is done with
/// them (PyTorch frees them by reference count), instead of waiting for a garbage collection to find them dead: the
/// gradient of an intermediate tensor dies once its node's backward has run and the input gradients are accumulated,
/// and the other tensors a node's backward makes die when it returns (<see cref="Apply"/>).
/// <para>
/// C# has no reference counts, so a buffer is returned only where the engine knows every reference to it: its storage
/// was allocated during this pass (so it is no forward tensor, no seed, nothing from before), only through Ember's own
/// backward functions, which keep nothing of what they get or make; and it is held only by the engine's table of pending
/// gradients, counted here per storage (a backward may return its gradient unchanged, for two inputs, or as a view).
/// A storage is pinned, never returned, once anything else may keep it: a leaf's or retained .Grad adopted it, a tensor
/// hook saw it, or it went into or came out of a node that runs user code (a custom <see cref="Function"/>, a module's
/// backward hooks, a checkpointed segment). The engine uses this only in a plain Backward (not Torch.Grad, not
/// create_graph, not nested inside another pass).
/// </para>
/// </summary>
internal sealed class GradientRelease(long firstSerial)
{
    /// <summary>Whether backward passes return their temporaries early (on by default; off for A/B measurements).</summary>
    internal static bool Enabled = true;

    readonly Dictionary<Storage, int> holds = new(ReferenceEqualityComparer.Instance);
    readonly HashSet<Storage> pinned = new(ReferenceEqualityComparer.Instance);

    bool Tracked(Storage storage) => storage is PooledStorage && storage.Serial >= firstSerial;

    /// <summary>Counts one more reference to <paramref name="gradient"/>'s buffer in the engine's pending gradients.</summary>
    public void Hold(Tensor gradient)
    {
        var storage = gradient.storage;
        if (Tracked(storage)) holds[storage] = holds.GetValueOrDefault(storage) + 1;
    }

    /// <summary>Never returns <paramref name="gradient"/>'s buffer in this pass: something outside the engine may keep it.</summary>
    public void Pin(Tensor gradient)
    {
        if (Tracked(gradient.storage)) pinned.Add(gradient.storage);
    }

    // The pooled storages the node now running allocated on this thread (Apply).
    readonly List<PooledStorage> made = [];

    /// <summary>
    /// Runs <paramref name="node"/>'s backward and returns the buffers of the temporaries it made to the pool: every pooled
    /// storage allocated on this thread during the call except those of the gradients it returns. Ember's backward
    /// functions keep nothing of what they make (the rule <see cref="Drop"/> relies on too), grad mode is off (no graph
    /// holds a temporary) and a nested pass records nothing (Engine.Run), so once the call returns nothing reaches those
    /// storages. Only for nodes that run no user code. Without this the temporaries (a backward formula's intermediates,
    /// the convolutions' and the loss's) came back only through a collection: with the size classes alone the YOLO step
    /// (width 0.375, 256², batch 16) still missed 1.5-12 MiB buffers in its forward and induced 2.25 collections per
    /// step, 1.31 with this (one run each, 16 steps after 8 warm-up ones, load 6-7).
    /// </summary>
    public Tensor?[] Apply(Node node, Tensor gradient)
    {
        made.Clear();
        var outer = StoragePool.AllocationLog;
        StoragePool.AllocationLog = made;
        Tensor?[] inputGrads;
        try { inputGrads = node.Apply(gradient); }
        finally { StoragePool.AllocationLog = outer; }
        foreach (var storage in made)
            if (!Returned(storage, inputGrads)) StoragePool.Return(storage);
        made.Clear();
        return inputGrads;
    }

    static bool Returned(Storage storage, Tensor?[] gradients)
    {
        foreach (var g in gradients) if (g is not null && ReferenceEquals(g.storage, storage)) return true;
        return false;
    }

    /// <summary>
    /// Whether the engine's table holds the only reference to <paramref name="gradient"/>'s buffer, so that it may be
    /// written in place: allocated in this pass, held once, not pinned.
    /// </summary>
    public bool SoleHolder(Tensor gradient)
        => holds.TryGetValue(gradient.storage, out int count) && count == 1 && !pinned.Contains(gradient.storage);

    /// <summary>
    /// Drops one reference counted by <see cref="Hold"/>; the last one returns the buffer to the pool unless it is pinned.
    /// Call only between ops (no kernel holds a span into the buffer).
    /// </summary>
    public void Drop(Tensor gradient)
    {
        var storage = gradient.storage;
        if (!holds.TryGetValue(storage, out int count)) return;
        if (count > 1) { holds[storage] = count - 1; return; }
        holds.Remove(storage);
        if (!pinned.Contains(storage)) StoragePool.Return((PooledStorage)storage);
    }
}
