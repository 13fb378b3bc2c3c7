namespace Ember.Autograd;

/// <summary>
/// Runs backward over the recorded graph: a deterministic topological order (inputs visited in argument order),
/// then each node's backward in reverse, accumulating gradients per tensor.
/// </summary>
internal static class Engine
{
    public static void Backward(Tensor root, Tensor? gradient, bool retainGraph, bool createGraph)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException("backward: element 0 of tensors does not require grad and does not have a grad_fn");
        if (gradient is null)
        {
            if (root.NumEl != 1)
                throw new InvalidOperationException($"backward: grad can be implicitly created only for scalar outputs (output has shape {root.Shape}); pass a gradient");
            gradient = Torch.OnesLike(root);
        }
        else if (gradient.Shape != root.Shape)
            throw new ArgumentException($"backward: gradient has shape {gradient.Shape} but the output has shape {root.Shape}");
        Run([root], [gradient], retainGraph, createGraph, inputs: null, capture: null);
    }

    /// <summary>
    /// A backward from <paramref name="root"/> that accumulates into leaves as <see cref="Backward"/> does, except the
    /// <paramref name="capture"/> tensors, whose gradients are returned instead (activation checkpointing's recomputed segment).
    /// </summary>
    internal static Tensor?[] BackwardCapturing(Tensor root, Tensor gradient, Tensor[] capture, bool createGraph)
        => Run([root], [gradient], createGraph, createGraph, inputs: null, capture);

    [ThreadStatic] static int gradCalls;

    /// <summary>True while a <see cref="Torch.Grad(Tensor[], Tensor[], Tensor?[], bool, bool, bool)"/> pass runs on this thread.</summary>
    internal static bool InsideGrad => gradCalls > 0;

    public static Tensor?[] Grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? gradOutputs, bool retainGraph, bool createGraph, bool allowUnused)
    {
        var seeds = new Tensor[outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            if (!outputs[i].RequiresGrad)
                throw new InvalidOperationException($"grad: output {i} does not require grad and does not have a grad_fn");
            seeds[i] = gradOutputs?[i] ?? (outputs[i].NumEl == 1 ? Torch.OnesLike(outputs[i])
                : throw new InvalidOperationException($"grad: grad can be implicitly created only for scalar outputs (output {i} has shape {outputs[i].Shape})"));
        }
        Tensor?[] result;
        gradCalls++;
        try { result = Run(outputs, seeds, retainGraph, createGraph, inputs, capture: null); }
        finally { gradCalls--; }
        for (int i = 0; i < inputs.Length; i++)
            if (result[i] is null && !allowUnused)
                throw new InvalidOperationException($"grad: input {i} (shape {inputs[i].Shape}) was not used in the graph; pass allowUnused: true");
        return result;
    }

    [ThreadStatic] static int depth;

    /// <summary>Whether a backward pass runs on this thread (it may read tensors disposed after its graph saved them).</summary>
    internal static bool Running => depth > 0;

    /// <summary>When set on the thread that runs backward, every node's backward is timed into it (bench profiles; null otherwise).</summary>
    [ThreadStatic] internal static NodeTimings? Timings;
    [ThreadStatic] static List<Action>? finalCallbacks;

    /// <summary>
    /// Queues <paramref name="callback"/> to run once the outermost backward pass now running on this thread has
    /// finished all its nodes (PyTorch's Variable._execution_engine.queue_callback): DistributedDataParallel waits for
    /// its gradient all-reduces there. Only valid while a backward runs.
    /// </summary>
    internal static void QueueCallback(Action callback)
    {
        if (depth == 0) throw new InvalidOperationException("queue_callback: no backward pass is running on this thread");
        (finalCallbacks ??= new()).Add(callback);
    }

    // The tensors whose gradients the running pass returns (Grad's inputs, a capturing backward's captures). They count
    // as observed (Tensor.GradIsObserved) as a hooked tensor does, so that a fused node (BN+SiLU) whose intermediate is
    // one of them hands it PyTorch's gradient for that tensor, not the fused op's internal one.
    [ThreadStatic] static HashSet<Tensor>? returned;

    /// <summary>Whether the pass running on this thread returns <paramref name="tensor"/>'s gradient to its caller.</summary>
    internal static bool Returns(Tensor tensor) => returned?.Contains(tensor) == true;

    // The gradient the node now running was given, when its backward may write into it (see MayOverwrite); else null.
    [ThreadStatic] static Tensor? overwritable;

    /// <summary>
    /// Whether the backward now running may write its results into <paramref name="gradient"/>, the gradient it was given:
    /// only in a plain backward, when the engine's table holds the only reference to that buffer and it is whole (the
    /// buffer <see cref="Accumulate"/> would add into in place). The engine holds what a backward returns before it drops
    /// the gradient, so an input gradient may be returned in that buffer (a norm's dx written over its dy: no new buffer,
    /// no first touch of one).
    /// </summary>
    internal static bool MayOverwrite(Tensor gradient) => overwritable is not null && ReferenceEquals(overwritable, gradient);

    static Tensor?[] Run(Tensor[] roots, Tensor[] seeds, bool retainGraph, bool createGraph, Tensor[]? inputs, Tensor[]? capture)
    {
        depth++;
        bool completed = false;
        var outerReturned = returned;
        returned = null; // a nested pass returns its own, or none
        var outerOverwritable = overwritable;
        overwritable = null; // nor may a nested pass's nodes write into the caller's gradient
        // A pass nested in a node's backward keeps what it makes (.Grad, its result): none of it is that node's temporary.
        var outerLog = Backends.Cpu.StoragePool.AllocationLog;
        Backends.Cpu.StoragePool.AllocationLog = null;
        try
        {
            var result = RunNodes(roots, seeds, retainGraph, createGraph, inputs, capture);
            completed = true;
            return result;
        }
        finally
        {
            returned = outerReturned;
            overwritable = outerOverwritable;
            Backends.Cpu.StoragePool.AllocationLog = outerLog;
            depth--;
            if (depth == 0 && finalCallbacks is { Count: > 0 } callbacks)
            {
                finalCallbacks = null;
                // A failed pass drops its callbacks: they would finish work the pass never started.
                if (completed) foreach (var callback in callbacks) callback();
            }
        }
    }

    static Tensor?[] RunNodes(Tensor[] roots, Tensor[] seeds, bool retainGraph, bool createGraph, Tensor[]? inputs, Tensor[]? capture)
    {
        var order = TopologicalOrder(roots);
        // Storages allocated from here on were made by this pass's backward functions (see AccumulateIntoGrad).
        long firstSerial = Storage.LastSerial + 1;
        HashSet<Storage>? adopted = null;
        // Early return of gradient temporaries to the pool: only in a plain, outermost backward (see GradientRelease).
        var release = GradientRelease.Enabled && depth == 1 && !createGraph && inputs is null && capture is null ? new GradientRelease(firstSerial) : null;
        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < roots.Length; i++)
        {
            release?.Hold(seeds[i]);
            Accumulate(grads, roots[i], seeds[i], release);
        }
        var kept = inputs ?? capture;
        HashSet<Tensor>? wanted = kept is null ? null : new HashSet<Tensor>(kept, ReferenceEqualityComparer.Instance);
        returned = wanted;

        using (new GradMode.Scope(createGraph))
        {
            // order lists inputs before their consumers; walk it backwards
            for (int i = order.Count - 1; i >= 0; i--)
            {
                var t = order[i];
                if (!grads.TryGetValue(t, out var g)) continue;
                bool hooked = t.gradHooks is { Count: > 0 };
                if (hooked)
                {
                    // the hooks see g and may keep it or what they return
                    release?.Pin(g);
                    var replaced = RunGradHooks(t, g);
                    if (!ReferenceEquals(replaced, g))
                    {
                        release?.Pin(replaced);
                        release?.Hold(replaced);
                        release?.Drop(g);
                        grads[t] = g = replaced;
                    }
                }
                if (inputs is null && (t.IsLeaf || t.retainsGrad) && (capture is null || !wanted!.Contains(t)))
                {
                    // a hook saw g (or made it) and may keep it: .Grad must not alias what the user holds
                    AccumulateIntoGrad(t, g, createGraph, hooked ? long.MaxValue : firstSerial, ref adopted);
                    if (ReferenceEquals(t.Grad?.storage, g.storage)) release?.Pin(g);
                    // Reverse topological order: every consumer of t is done, so t.Grad is final for this pass.
                    if (t.IsLeaf && t.postAccumulateGradHooks is { Count: > 0 } hooks)
                        foreach (var hook in hooks.ToArray()) hook(t);
                }
                var node = t.Node;
                if (node is null) continue;
                if (node.RunsUserCode) release?.Pin(g);
                var timings = Timings;
                var started = timings?.Start() ?? default;
                Tensor?[] inputGrads;
                if (release is not null && !node.RunsUserCode)
                {
                    overwritable = release.SoleHolder(g) && IsWholeBuffer(g) ? g : null;
                    try { inputGrads = release.Apply(node, g); }
                    finally { overwritable = null; }
                }
                else inputGrads = node.Apply(g);
                timings?.Stop(node.Name, started);
                if (AnomalyMode.ChecksGradients) AnomalyMode.Check(node, inputGrads);
                for (int k = 0; k < node.Inputs.Length; k++)
                {
                    var input = node.Inputs[k];
                    var ig = inputGrads[k];
                    if (ig is null || !input.RequiresGrad) continue;
                    if (ig.Shape != input.Shape)
                        throw new InvalidOperationException($"backward: {node.Name} returned a gradient of shape {ig.Shape} for input {k} of shape {input.Shape}");
                    // Held before any is accumulated: one gradient may go to several inputs, or be a view of g.
                    if (release is not null)
                    {
                        if (node.RunsUserCode) release.Pin(ig);
                        release.Hold(ig);
                    }
                }
                for (int k = 0; k < node.Inputs.Length; k++)
                {
                    var ig = inputGrads[k];
                    if (ig is not null && node.Inputs[k].RequiresGrad) Accumulate(grads, node.Inputs[k], ig, release);
                }
                if (wanted is null || !wanted.Contains(t))
                {
                    grads.Remove(t);
                    release?.Drop(g);
                }
                if (!retainGraph) node.Release();
                // Between nodes no kernel holds a span; a nested backward (inside a node) must not release its caller's accesses.
                if (depth == 1) Backends.Cpu.StoragePool.ReleaseRing();
            }
        }
        if (kept is null) return [];
        var result = new Tensor?[kept.Length];
        for (int i = 0; i < kept.Length; i++)
            result[i] = grads.TryGetValue(kept[i], out var g) ? (createGraph ? g : g.Detach()) : null;
        return result;
    }

    static Tensor RunGradHooks(Tensor t, Tensor g)
    {
        foreach (var hook in t.gradHooks!.ToArray())
        {
            if (hook(g) is not { } replaced) continue;
            if (replaced.Shape != g.Shape)
                throw new InvalidOperationException($"register_hook: a hook changed the shape of the gradient from {g.Shape} to {replaced.Shape}" +
                    (t.GradFn is { } fn ? $" (tensor produced by {fn})" : " (leaf tensor)"));
            g = replaced;
        }
        return g;
    }

    /// <summary>Adds <paramref name="g"/> into t's pending gradient; with <paramref name="release"/>, g arrives held once.</summary>
    static void Accumulate(Dictionary<Tensor, Tensor> grads, Tensor t, Tensor g, GradientRelease? release)
    {
        if (!grads.TryGetValue(t, out var existing)) { grads[t] = g; return; }
        // A pending gradient that only this table holds, in a buffer of its own that this pass made, takes the next one
        // in place (PyTorch's accumulation steals the buffer the same way): no new buffer, one write pass less; the same
        // rounded sums as existing + g.
        if (release is not null && release.SoleHolder(existing) && IsWholeBuffer(existing) && existing.DType == g.DType && existing.Shape == g.Shape)
        {
            existing.AddInPlace(g);
            release.Drop(g);
            return;
        }
        var sum = existing.Add(g);
        grads[t] = sum;
        if (release is null) return;
        release.Hold(sum);
        release.Drop(existing);
        release.Drop(g);
    }

    static void AccumulateIntoGrad(Tensor t, Tensor g, bool createGraph, long firstSerial, ref HashSet<Storage>? adopted)
    {
        if (t.Grad is null)
            t.Grad = createGraph ? g : Adoptable(g, firstSerial, ref adopted) ? g.Detach() : g.Detach().Clone();
        else if (createGraph || t.Grad.RequiresGrad)
            t.Grad = t.Grad.Add(g);
        else
            using (Torch.NoGrad()) t.Grad.AddInPlace(g);
    }

    /// <summary>
    /// Whether a leaf may keep <paramref name="g"/> itself as its .Grad instead of a copy (PyTorch's AccumulateGrad steals
    /// a gradient nothing else references): only a whole, contiguous buffer that this pass allocated (so not the seed,
    /// not a forward tensor a backward function returned, not a view into a larger buffer) and that no other leaf has
    /// adopted in this pass (the same gradient may reach several leaves, and one .Grad is later updated in place).
    /// </summary>
    static bool Adoptable(Tensor g, long firstSerial, ref HashSet<Storage>? adopted)
    {
        var storage = g.storage;
        if (storage.Serial < firstSerial || !IsWholeBuffer(g)) return false;
        adopted ??= new HashSet<Storage>(ReferenceEqualityComparer.Instance);
        return adopted.Add(storage);
    }

    // Whether t is its storage's whole buffer in order (no view into a larger or strided one).
    static bool IsWholeBuffer(Tensor t) => t.offset == 0 && t.NumEl == t.storage.Length && t.IsContiguous;

    /// <summary>
    /// Bytes of the distinct storages that the nodes reachable from <paramref name="root"/> saved for backward: a measure
    /// of the activation memory a graph holds (what activation checkpointing saves).
    /// </summary>
    internal static long SavedTensorBytes(Tensor root)
    {
        var storages = new HashSet<Storage>(ReferenceEqualityComparer.Instance);
        long bytes = 0;
        foreach (var t in TopologicalOrder([root]))
            if (t.Node is { } node)
                foreach (var saved in node.SavedTensors)
                    if (saved.StorageEvenIfDisposed is var s && storages.Add(s)) bytes += (long)s.Length * s.DType.ElementSize();
        return bytes;
    }

    static List<Tensor> TopologicalOrder(Tensor[] roots)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Tensor, int NextInput)>();
        foreach (var root in roots)
        {
            if (!visited.Add(root)) continue;
            stack.Push((root, 0));
            while (stack.Count > 0)
            {
                var (t, next) = stack.Pop();
                var inputs = t.Node?.Inputs ?? [];
                if (next < inputs.Length)
                {
                    stack.Push((t, next + 1));
                    var child = inputs[next];
                    if (child.RequiresGrad && visited.Add(child)) stack.Push((child, 0));
                }
                else order.Add(t);
            }
        }
        return order;
    }
}
