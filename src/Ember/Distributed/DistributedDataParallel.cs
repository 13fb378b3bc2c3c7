using System.Text;
using Ember.Autograd;
using Ember.Nn;

namespace Ember.Distributed;

/// <summary>
/// Data-parallel training across the ranks of the default process group (torch.nn.parallel.DistributedDataParallel).
/// Each rank holds a replica of <see cref="Module"/> and feeds it its own share of the batch; after backward every
/// replica holds the gradients averaged over all ranks, so identical optimizer steps keep the replicas identical.
/// </summary>
/// <remarks>
/// <para>At construction the ranks check that their models agree (every parameter's and buffer's name, shape and dtype,
/// compared through an all-gather; a mismatch throws on every rank, naming the rank and the parameter) and copy rank
/// 0's parameters and buffers to all.</para>
/// <para>Gradients are averaged by bucketed all-reduce started from autograd hooks while backward runs (see
/// <c>Reducer</c>): parameters in reverse registration order, buckets of <c>bucketCapMB</c> MiB (PyTorch's 25 by
/// default; the first bucket 1 MiB). Inside <see cref="NoSync"/> gradients only accumulate locally; the first
/// backward after it averages the accumulated sums. With <c>broadcastBuffers</c> (the default) every forward first
/// copies rank 0's buffers (BatchNorm running statistics) to all ranks.</para>
/// </remarks>
public sealed class DistributedDataParallel : Module
{
    readonly Module module;
    readonly IProcessGroup group;
    readonly Reducer reducer;
    readonly bool broadcastBuffers;
    bool requireSync = true;

    /// <summary>Wraps <paramref name="module"/>; every rank must construct it at the same point with the same arguments.</summary>
    public DistributedDataParallel(Module module, double bucketCapMB = 25, bool broadcastBuffers = true, bool findUnusedParameters = false)
        : this(module, null, bucketCapMB, broadcastBuffers, findUnusedParameters)
    {
    }

    /// <summary>Over <paramref name="processGroup"/> instead of the default group (tests give a stand-in engine).</summary>
    internal DistributedDataParallel(Module module, IProcessGroup? processGroup, double bucketCapMB = 25, bool broadcastBuffers = true, bool findUnusedParameters = false)
    {
        if (!(bucketCapMB > 0)) throw new ArgumentOutOfRangeException(nameof(bucketCapMB), $"DistributedDataParallel: bucketCapMB must be positive, got {bucketCapMB}");
        this.module = RegisterModule("module", module);
        group = processGroup ?? Distributed.Group("DistributedDataParallel");
        this.broadcastBuffers = broadcastBuffers;
        CheckReplicasMatch(module, group);
        var state = new List<Tensor>();
        foreach (var (_, p) in module.NamedParameters()) state.Add(p);
        foreach (var (_, b) in module.NamedBuffers()) state.Add(b);
        BroadcastCoalesced(group, state, "DistributedDataParallel: broadcasting rank 0's parameters and buffers");

        var trainable = new List<(string, Parameter)>();
        foreach (var (name, p) in module.NamedParameters())
            if (p.RequiresGrad) trainable.Add((name, p));
        trainable.Reverse(); // backward produces the last layers' gradients first
        long cap = (long)(bucketCapMB * 1024 * 1024);
        reducer = new Reducer(group, trainable, cap, Math.Min(cap, GradBuckets.DefaultFirstCapBytes), findUnusedParameters);
    }

    /// <summary>The wrapped model (DDP's <c>.module</c>); its state dict keys lack the "module." prefix.</summary>
    public Module Module => module;

    /// <summary>The gradient buckets: each bucket's parameter names, in the order their all-reduces start.</summary>
    public IReadOnlyList<string[]> Buckets => reducer.BucketNames;

    /// <summary>
    /// Timings of the last synchronised forward + backward on this rank (PyTorch's DDP logging data): forward and
    /// backward computation, the gradient all-reduces from the first start to the last completion, how much of that ran
    /// while backward was still computing, and how long the end of backward waited for it. Null before the first one.
    /// </summary>
    public DdpStepStats? LastStepStats => reducer.LastStepStats;

    /// <summary>How many buckets the last synchronised backward started while it was still running (for tests and benchmarks).</summary>
    internal int BucketsStartedDuringBackward => reducer.StartedDuringBackward;

    /// <summary>
    /// Runs the wrapped model; with grad enabled and outside <see cref="NoSync"/>, the next backward averages the
    /// gradients across ranks. Every rank must call forward (and backward) the same number of times.
    /// </summary>
    public override Tensor Forward(Tensor input)
    {
        if (broadcastBuffers && GradMode.IsEnabled) BroadcastBuffers();
        if (!(requireSync && GradMode.IsEnabled))
        {
            reducer.SkipSync();
            return module.Call(input);
        }
        reducer.Prepare();
        var output = module.Call(input);
        reducer.ForwardEnded();
        return output;
    }

    /// <summary>
    /// Copies rank 0's buffers (BatchNorm running statistics) to every rank now, as each training forward does first.
    /// Every rank's forward updates its own statistics from its own batch, so after the last step they differ; call this
    /// on every rank before each rank evaluates its shard of a data set, so that all of them score rank 0's model (the
    /// one rank 0 saves). Forwards without grad (evaluation) never broadcast: the ranks may run different numbers of them.
    /// </summary>
    public void BroadcastBuffers()
    {
        if (group.WorldSize == 1) return;
        var buffers = new List<Tensor>();
        foreach (var (_, b) in module.NamedBuffers()) buffers.Add(b);
        if (buffers.Count > 0) BroadcastCoalesced(group, buffers, "DistributedDataParallel: broadcasting rank 0's buffers");
    }

    /// <summary>
    /// Within the returned scope, backward passes accumulate gradients locally without communicating (no_sync); the
    /// first synchronised backward after it averages the accumulated gradients.
    /// </summary>
    public IDisposable NoSync()
    {
        var scope = new SyncScope(this, requireSync);
        requireSync = false;
        return scope;
    }

    sealed class SyncScope(DistributedDataParallel owner, bool previous) : IDisposable
    {
        bool done;
        public void Dispose()
        {
            if (done) return;
            done = true;
            owner.requireSync = previous;
        }
    }

    /// <summary>
    /// Every rank's list of (kind, name, shape, dtype) must equal rank 0's. Each rank all-gathers all the lists, so every
    /// rank reaches the same verdict and throws the same error (no rank is left waiting in a later collective).
    /// </summary>
    static void CheckReplicasMatch(Module module, IProcessGroup group)
    {
        if (group.WorldSize == 1) return; // nothing to compare
        var entries = Signature(module);
        var local = Encoding.UTF8.GetBytes(string.Join('\n', entries));
        var lengths = new long[group.WorldSize];
        group.AllGather(CommBuffer.Of(new long[] { local.Length }), CommBuffer.Of(lengths), "DistributedDataParallel model check").Wait();
        long max = 0;
        foreach (var l in lengths) max = Math.Max(max, l);
        if (max > int.MaxValue / group.WorldSize) throw new DistributedException($"DistributedDataParallel: model description of {max} bytes is too long to compare");
        var padded = new byte[max];
        local.CopyTo(padded, 0);
        var all = new byte[max * group.WorldSize];
        group.AllGather(CommBuffer.Of(padded), CommBuffer.Of(all), "DistributedDataParallel model check").Wait();
        var signatures = new string[group.WorldSize][];
        for (int r = 0; r < group.WorldSize; r++)
        {
            var text = Encoding.UTF8.GetString(all, (int)(r * max), (int)lengths[r]);
            signatures[r] = text.Length == 0 ? [] : text.Split('\n');
        }
        var problems = new List<string>();
        for (int r = 1; r < group.WorldSize; r++)
            if (Describe(signatures[0], signatures[r], r) is { } problem) problems.Add(problem);
        if (problems.Count > 0)
            throw new DistributedException($"DistributedDataParallel (on rank {group.Rank}): the ranks' models differ, so they cannot be kept in sync: " + string.Join("; ", problems));
    }

    internal static List<string> Signature(Module module)
    {
        var entries = new List<string>();
        foreach (var (name, p) in module.NamedParameters()) entries.Add($"parameter '{name}' of shape {p.Shape} ({p.DType.TorchName()})");
        foreach (var (name, b) in module.NamedBuffers()) entries.Add($"buffer '{name}' of shape {b.Shape} ({b.DType.TorchName()})");
        return entries;
    }

    /// <summary>The first difference between rank 0's and rank <paramref name="rank"/>'s signature, or null.</summary>
    internal static string? Describe(string[] reference, string[] other, int rank)
    {
        int n = Math.Min(reference.Length, other.Length);
        for (int i = 0; i < n; i++)
            if (reference[i] != other[i])
                return $"rank {rank} has {other[i]} where rank 0 has {reference[i]}";
        if (reference.Length == other.Length) return null;
        return other.Length > reference.Length
            ? $"rank {rank} has {other.Length} parameters and buffers, rank 0 has {reference.Length}; the first extra on rank {rank} is {other[n]}"
            : $"rank {rank} has {other.Length} parameters and buffers, rank 0 has {reference.Length}; rank {rank} lacks {reference[n]}";
    }

    /// <summary>Copies rank 0's values of <paramref name="tensors"/> to every rank, one broadcast per dtype.</summary>
    static void BroadcastCoalesced(IProcessGroup group, List<Tensor> tensors, string op)
    {
        foreach (var t in tensors)
            if (t.DType is not (DType.Float32 or DType.Float64 or DType.Int64))
                throw new ArgumentException($"{op}: a tensor of shape {t.Shape} has dtype {t.DType.TorchName()}; only float32, float64 and int64 state can be broadcast");
        if (group.WorldSize == 1) return;
        foreach (var dtype in new[] { DType.Float32, DType.Float64, DType.Int64 })
        {
            int total = 0;
            foreach (var t in tensors) if (t.DType == dtype) total += t.NumEl;
            if (total == 0) continue;
            var flat = Torch.Empty([total], dtype);
            using (Torch.NoGrad())
            {
                int offset = 0;
                foreach (var t in tensors)
                    if (t.DType == dtype) { flat.Narrow(0, offset, t.NumEl).View(t.Shape.ToArray()).CopyFrom(t); offset += t.NumEl; }
                group.Broadcast(CommBuffer.Of(flat, op), 0, op).Wait();
                if (group.Rank == 0) continue;
                offset = 0;
                foreach (var t in tensors)
                    if (t.DType == dtype) { t.CopyFrom(flat.Narrow(0, offset, t.NumEl).View(t.Shape.ToArray())); offset += t.NumEl; }
            }
        }
    }
}
