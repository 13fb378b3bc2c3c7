using System.Diagnostics;
using Ember.Autograd;
using Ember.Nn;

namespace Ember.Distributed;

/// <summary>
/// DistributedDataParallel's gradient averaging. Each parameter has a post-accumulate-grad hook; when backward has
/// produced a parameter's gradient the hook copies it into the parameter's slot of its bucket, and once every
/// gradient of a bucket is in, the bucket's all-reduce (sum) starts while the rest of backward runs. Buckets start in
/// bucket order on every rank (MPI needs all ranks to issue collectives in the same order). A callback queued in the
/// autograd engine runs when backward ends: it starts any bucket still waiting (a parameter that took no part in
/// this pass contributes zeros), waits for all of them, divides by the world size and writes the averages back into
/// each parameter's <see cref="Tensor.Grad"/>.
/// In a world of one rank the average is the gradient itself, so the hooks only note which parameters took part and
/// nothing is copied or communicated: DDP then costs a plain step (PyTorch's reducer still copies and all-reduces).
/// </summary>
internal sealed class Reducer : IDisposable
{
    sealed class Bucket(int[] members, int[] offsets, Tensor flat)
    {
        public readonly int[] Members = members;
        public readonly int[] Offsets = offsets;
        public readonly Tensor Flat = flat;
        public int Pending;
        public Work? Work;
        public long Started, Done; // Stopwatch timestamps of this step's all-reduce (0: not yet)
    }

    readonly IProcessGroup group;
    readonly Parameter[] parameters;     // launch order: reverse of registration
    readonly string[] names;
    readonly Bucket[] buckets;
    readonly int[] bucketOf;
    readonly int[] slotOf;
    readonly bool[] ready;
    readonly bool findUnusedParameters;
    readonly bool local; // world size 1: gradients stay where autograd put them
    readonly List<IDisposable> hooks = new();
    bool armed, callbackQueued;
    // Set by a synchronised forward and cleared by the next unsynchronised one; with `reduced` it tells a second
    // backward through one forward (whose gradients nobody would average) from a NoSync backward.
    bool lastForwardSynced, reduced;
    int nextLaunch;
    // Stopwatch timestamps of the current synchronised step: forward start and end (set by DistributedDataParallel).
    long forwardStarted, forwardEnded;

    public Reducer(IProcessGroup group, IReadOnlyList<(string Name, Parameter Parameter)> parametersInLaunchOrder, long capBytes, long firstCapBytes, bool findUnusedParameters)
    {
        this.group = group;
        this.findUnusedParameters = findUnusedParameters;
        local = group.WorldSize == 1;
        int n = parametersInLaunchOrder.Count;
        parameters = new Parameter[n];
        names = new string[n];
        var sizes = new (long Bytes, DType DType)[n];
        for (int i = 0; i < n; i++)
        {
            (names[i], parameters[i]) = parametersInLaunchOrder[i];
            var p = parameters[i];
            if (p.DType is not (DType.Float32 or DType.Float64))
                throw new ArgumentException($"DistributedDataParallel: parameter '{names[i]}' has dtype {p.DType.TorchName()}; gradients are averaged for float32 and float64 only");
            sizes[i] = ((long)p.NumEl * p.DType.ElementSize(), p.DType);
        }
        var plan = GradBuckets.Assign(sizes, capBytes, firstCapBytes);
        buckets = new Bucket[plan.Count];
        bucketOf = new int[n];
        slotOf = new int[n];
        ready = new bool[n];
        for (int b = 0; b < plan.Count; b++)
        {
            var members = plan[b];
            var offsets = new int[members.Length];
            int total = 0;
            for (int k = 0; k < members.Length; k++)
            {
                offsets[k] = total;
                bucketOf[members[k]] = b;
                slotOf[members[k]] = k;
                total += parameters[members[k]].NumEl;
            }
            // No bucket memory in a world of one: nothing is ever copied into it.
            buckets[b] = new Bucket(members, offsets, local ? Torch.Empty([0], parameters[members[0]].DType) : Torch.Zeros([total], parameters[members[0]].DType));
        }
        for (int i = 0; i < n; i++)
        {
            int index = i;
            hooks.Add(parameters[i].RegisterPostAccumulateGradHook(_ => OnGradReady(index)));
        }
    }

    /// <summary>The bucket plan: each bucket's parameter names, in launch order.</summary>
    public IReadOnlyList<string[]> BucketNames
    {
        get
        {
            var result = new List<string[]>(buckets.Length);
            foreach (var bucket in buckets)
            {
                var list = new string[bucket.Members.Length];
                for (int k = 0; k < list.Length; k++) list[k] = names[bucket.Members[k]];
                result.Add(list);
            }
            return result;
        }
    }

    /// <summary>Timings of the last synchronised step, or null before the first one ended.</summary>
    public DdpStepStats? LastStepStats { get; private set; }

    /// <summary>Called by a forward that will be followed by a synchronised backward: the next backward averages gradients.</summary>
    public void Prepare()
    {
        forwardStarted = Stopwatch.GetTimestamp();
        forwardEnded = 0;
        lastForwardSynced = true;
        reduced = false;
        if (armed && nextLaunch > 0)
            throw new InvalidOperationException("DistributedDataParallel: the previous backward did not finish its gradient reduction");
        armed = true;
        callbackQueued = false;
        nextLaunch = 0;
        Array.Clear(ready);
        foreach (var bucket in buckets) { bucket.Pending = bucket.Members.Length; bucket.Work = null; bucket.Started = bucket.Done = 0; }
    }

    /// <summary>Called when the synchronised forward returns: backward's computation time is counted from here (as PyTorch does).</summary>
    public void ForwardEnded() => forwardEnded = Stopwatch.GetTimestamp();

    /// <summary>Called by a forward whose backward must not communicate (NoSync, or grad disabled).</summary>
    public void SkipSync() => lastForwardSynced = false;

    void OnGradReady(int index)
    {
        if (!armed && lastForwardSynced && reduced)
            throw new InvalidOperationException(
                $"DistributedDataParallel: backward reached parameter '{names[index]}' after this forward's gradients were already averaged " +
                "across ranks; its new gradient would not be. Call the DistributedDataParallel's forward before each backward " +
                "(or accumulate inside NoSync())");
        if (!armed || ready[index]) return;
        if (!callbackQueued) { Engine.QueueCallback(Finish); callbackQueued = true; }
        if (local) { ready[index] = true; return; }
        Poll(); // first, so a completion is timed when this hook starts rather than after its copy
        ready[index] = true;
        var bucket = buckets[bucketOf[index]];
        using (Torch.NoGrad()) Slot(bucket, slotOf[index]).CopyFrom(parameters[index].Grad!);
        bucket.Pending--;
        while (nextLaunch < buckets.Length && buckets[nextLaunch].Pending == 0) Launch(buckets[nextLaunch++]);
        Poll();
    }

    // MPI moves non-blocking collectives forward only inside MPI calls: a test per hook keeps them going during backward
    // (so between hooks an all-reduce does not progress, and its completion is seen at the next poll).
    void Poll()
    {
        for (int b = 0; b < nextLaunch; b++)
        {
            var started = buckets[b];
            if (started.Done == 0 && started.Work!.IsCompleted) started.Done = Stopwatch.GetTimestamp();
        }
    }

    void Launch(Bucket bucket)
    {
        bucket.Started = Stopwatch.GetTimestamp();
        bucket.Work = group.AllReduce(CommBuffer.Of(bucket.Flat, "DistributedDataParallel gradient all-reduce"), ReduceOp.Sum, "DistributedDataParallel gradient all-reduce");
    }

    /// <summary>How many buckets the last backward started from hooks, before it ended (the rest started at its end).</summary>
    public int StartedDuringBackward { get; private set; }

    void Finish()
    {
        long backwardEnded = Stopwatch.GetTimestamp();
        armed = false;
        reduced = true;
        if (local) { FinishLocal(backwardEnded); return; }
        StartedDuringBackward = nextLaunch;
        for (; nextLaunch < buckets.Length; nextLaunch++)
        {
            var bucket = buckets[nextLaunch];
            // A parameter that took no part in this backward contributes zeros (its slot may hold an older gradient).
            if (bucket.Pending > 0)
                for (int k = 0; k < bucket.Members.Length; k++)
                    if (!ready[bucket.Members[k]]) using (Torch.NoGrad()) Slot(bucket, k).ZeroInPlace();
            Launch(bucket);
        }
        // Which parameters took part on any rank: a parameter unused everywhere keeps its Grad as it was (PyTorch's
        // find_unused_parameters); it costs one more small all-reduce per step.
        long[]? usedAnywhere = null;
        if (findUnusedParameters)
        {
            usedAnywhere = new long[parameters.Length];
            for (int i = 0; i < usedAnywhere.Length; i++) usedAnywhere[i] = ready[i] ? 1 : 0;
            group.AllReduce(CommBuffer.Of(usedAnywhere), ReduceOp.Max, "DistributedDataParallel unused-parameter all-reduce").Wait();
        }
        long waited = 0;
        foreach (var bucket in buckets)
        {
            if (bucket.Done != 0) continue;
            long before = Stopwatch.GetTimestamp();
            bucket.Work!.Wait();
            bucket.Done = Stopwatch.GetTimestamp();
            waited += bucket.Done - before;
        }
        LastStepStats = Stats(backwardEnded, waited);
        foreach (var bucket in buckets)
        {
            using (Torch.NoGrad())
            {
                bucket.Flat.DivInPlace(group.WorldSize);
                for (int k = 0; k < bucket.Members.Length; k++)
                {
                    int i = bucket.Members[k];
                    if (usedAnywhere is not null && usedAnywhere[i] == 0) continue;
                    var average = Slot(bucket, k);
                    var p = parameters[i];
                    if (p.Grad is null) p.Grad = average.Clone();
                    else p.Grad.CopyFrom(average);
                }
            }
        }
    }

    /// <summary>
    /// The end of a backward in a world of one: every gradient already is its own average. A parameter that took no
    /// part gets zeros, as the bucketed path gives it (left as it was with findUnusedParameters); no bucket was
    /// all-reduced, so the stats count none.
    /// </summary>
    void FinishLocal(long backwardEnded)
    {
        StartedDuringBackward = 0;
        if (!findUnusedParameters)
            for (int i = 0; i < parameters.Length; i++)
            {
                if (ready[i]) continue;
                var p = parameters[i];
                using (Torch.NoGrad())
                {
                    if (p.Grad is null) p.Grad = Torch.Zeros(p.Shape.ToArray(), p.DType);
                    else p.Grad.ZeroInPlace();
                }
            }
        long forwardEnd = forwardEnded != 0 ? forwardEnded : backwardEnded;
        LastStepStats = new DdpStepStats(0, 0, 0,
            ForwardSeconds: Seconds(forwardEnd - forwardStarted),
            BackwardComputeSeconds: Seconds(backwardEnded - forwardEnd),
            CommunicationSeconds: 0, OverlapSeconds: 0, WaitSeconds: 0, BucketSeconds: []);
    }

    DdpStepStats Stats(long backwardEnded, long waited)
    {
        // Communication is the union of the buckets' in-flight intervals (start to observed completion), so gaps between
        // buckets (backward computing with nothing in flight) do not count; buckets start in launch order.
        long inFlight = 0, beforeBackwardEnded = 0, bytes = 0, openStart = 0, openEnd = 0;
        var perBucket = new double[buckets.Length];
        void Close()
        {
            inFlight += openEnd - openStart;
            beforeBackwardEnded += Math.Max(0, Math.Min(openEnd, backwardEnded) - openStart);
        }
        for (int b = 0; b < buckets.Length; b++)
        {
            var bucket = buckets[b];
            bytes += (long)bucket.Flat.NumEl * bucket.Flat.DType.ElementSize();
            perBucket[b] = Seconds(bucket.Done - bucket.Started);
            if (b > 0 && bucket.Started <= openEnd) { openEnd = Math.Max(openEnd, bucket.Done); continue; }
            if (b > 0) Close();
            (openStart, openEnd) = (bucket.Started, bucket.Done);
        }
        if (buckets.Length > 0) Close();
        // A backward not started from this DDP's forward (none recorded) counts its computation from nothing.
        long forwardEnd = forwardEnded != 0 ? forwardEnded : backwardEnded;
        return new DdpStepStats(buckets.Length, StartedDuringBackward, bytes,
            ForwardSeconds: Seconds(forwardEnd - forwardStarted),
            BackwardComputeSeconds: Seconds(backwardEnded - forwardEnd),
            CommunicationSeconds: Seconds(inFlight),
            OverlapSeconds: Seconds(beforeBackwardEnded),
            WaitSeconds: Seconds(waited),
            BucketSeconds: perBucket);
    }

    static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    Tensor Slot(Bucket bucket, int k)
    {
        var p = parameters[bucket.Members[k]];
        return bucket.Flat.Narrow(0, bucket.Offsets[k], p.NumEl).View(p.Shape.ToArray());
    }

    public void Dispose()
    {
        foreach (var hook in hooks) hook.Dispose();
        hooks.Clear();
    }
}
