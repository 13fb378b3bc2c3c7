namespace Ember.Autograd;

/// <summary>Computes the gradients of an op's inputs from the gradient of its output. Entries may be null for inputs that need none.</summary>
public delegate Tensor?[] BackwardFunction(Tensor gradOutput, Node node);

/// <summary>
/// One recorded operation of the graph (a grad_fn): its name, its inputs and the backward closure written beside the
/// forward. Tensors saved for backward are checked against their version counter when backward runs.
/// </summary>
public sealed class Node
{
    /// <summary>PyTorch-style name, e.g. "AddBackward0".</summary>
    public string Name { get; internal set; }
    internal Tensor[] Inputs;
    BackwardFunction? backward;
    (Tensor Tensor, int Version)[] saved = [];

    internal Node(string name, Tensor[] inputs, BackwardFunction backward)
    {
        Name = name;
        Inputs = inputs;
        this.backward = backward;
        CreationTrace = AnomalyMode.CaptureIfEnabled();
        Interlocked.Increment(ref recorded);
    }

    static long recorded;

    /// <summary>Nodes recorded so far, on all threads (Tensor.Dispose: a buffer allocated since the last one is in no graph).</summary>
    internal static long Recorded => Interlocked.Read(ref recorded);

    /// <summary>The stack of the forward call that recorded this node, kept only in anomaly mode.</summary>
    internal System.Diagnostics.StackTrace? CreationTrace { get; }

    /// <summary>Whether input <paramref name="index"/> needs a gradient (lets a backward skip expensive work).</summary>
    public bool NeedsInputGrad(int index) => Inputs[index].RequiresGrad;

    /// <summary>Records tensors the backward will read, so an in-place change to them is detected.</summary>
    public Node Save(params Tensor[] tensors)
    {
        saved = new (Tensor, int)[tensors.Length];
        for (int i = 0; i < tensors.Length; i++) saved[i] = (tensors[i], tensors[i].Version);
        return this;
    }

    internal bool Released => backward == null;

    /// <summary>
    /// Whether the backward runs code from outside Ember's ops (a custom Function, module backward hooks, a checkpointed
    /// segment), which may keep the gradients it gets or returns: the engine then never returns those to the pool early.
    /// </summary>
    internal bool RunsUserCode { get; init; }

    internal IEnumerable<Tensor> SavedTensors { get { foreach (var (t, _) in saved) yield return t; } }

    /// <summary>Whether a tensor saved for backward lives in <paramref name="storage"/> (an in-place write there would corrupt it).</summary>
    internal bool SavesStorage(Storage storage)
    {
        foreach (var (t, _) in saved) if (ReferenceEquals(t.StorageEvenIfDisposed, storage)) return true;
        return false;
    }

    internal Tensor?[] Apply(Tensor gradOutput)
    {
        if (backward == null)
            throw new InvalidOperationException($"backward: trying to backward through the graph a second time (through {Name}), " +
                "but the saved intermediate values have already been freed. Pass retainGraph: true to the first Backward call.");
        foreach (var (t, version) in saved)
            if (t.Version != version)
                throw new InvalidOperationException($"backward: one of the variables needed for gradient computation has been modified by an inplace operation: " +
                    $"a tensor of shape {t.Shape} saved by {Name} is at version {t.Version}; expected version {version} instead.");
        return backward(gradOutput, this);
    }

    internal void Release()
    {
        backward = null;
        saved = [];
    }
}
