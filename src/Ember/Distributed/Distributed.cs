namespace Ember.Distributed;

/// <summary>
/// The default process group and its tensor collectives (torch.distributed). Start every rank with an MPI launcher
/// (<c>mpirun -n 2 dotnet app.dll</c>), call <see cref="InitProcessGroup"/> once, then use <see cref="Rank"/>,
/// <see cref="WorldSize"/> and the collectives; every rank must call the same collectives in the same order.
/// Collectives work in place on contiguous float32, float64 or int64 tensors. The <c>...Async</c> forms return a
/// <see cref="Work"/> (PyTorch's <c>async_op=True</c>); the others wait, at most the group's timeout.
/// </summary>
public static class Distributed
{
    static IProcessGroup? group;
    static readonly object initGate = new();

    /// <summary>PyTorch's default collective timeout (30 minutes).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(30);

    /// <summary>True after <see cref="InitProcessGroup"/> and before <see cref="DestroyProcessGroup"/> (is_initialized).</summary>
    public static bool IsInitialized => group is not null;

    /// <summary>This process's rank in the default group (get_rank).</summary>
    public static int Rank => Group("Rank").Rank;

    /// <summary>The number of processes in the default group (get_world_size).</summary>
    public static int WorldSize => Group("WorldSize").WorldSize;

    /// <summary>The engine in use, e.g. Open MPI's version line.</summary>
    public static string BackendDescription => Group("BackendDescription").Description;

    /// <summary>
    /// Joins the default process group (init_process_group). Loads libmpi (an error naming the install command when it
    /// is missing), initialises MPI and checks the rank and world size against the launcher's environment
    /// (OMPI_COMM_WORLD_RANK/SIZE or PMI_RANK/SIZE); a process started without a launcher is a world of one.
    /// Failing or unfinished ranks are handled so that peers do not hang: an unhandled exception aborts the whole job,
    /// and every wait is bounded by <paramref name="timeout"/> (default 30 minutes).
    /// </summary>
    public static void InitProcessGroup(DistributedBackend backend = DistributedBackend.Mpi, TimeSpan? timeout = null)
    {
        if (backend != DistributedBackend.Mpi) throw new ArgumentException($"InitProcessGroup: unknown backend {backend}");
        var limit = timeout ?? DefaultTimeout;
        if (limit <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), $"InitProcessGroup: timeout must be positive, got {limit}");
        lock (initGate)
        {
            if (group is not null) throw new InvalidOperationException("InitProcessGroup: the default process group is already initialized");
            var launch = LaunchEnvironment.Read();
            var mpi = MpiLibrary.Load(launch: launch);
            var created = new MpiProcessGroup(mpi, limit, launch);
            group = created;
            AppDomain.CurrentDomain.UnhandledException += AbortOnUnhandledException;
            AppDomain.CurrentDomain.ProcessExit += FinalizeOnExit;
        }
    }

    /// <summary>Leaves the default group and finalises MPI (destroy_process_group). Collectives after it throw.</summary>
    public static void DestroyProcessGroup()
    {
        lock (initGate)
        {
            var g = group ?? throw new InvalidOperationException("DestroyProcessGroup: the default process group is not initialized");
            group = null;
            AppDomain.CurrentDomain.UnhandledException -= AbortOnUnhandledException;
            AppDomain.CurrentDomain.ProcessExit -= FinalizeOnExit;
            g.Dispose();
        }
    }

    /// <summary>
    /// Ends every rank of the job now (MPI_Abort), after writing <paramref name="reason"/> to standard error. A rank that
    /// cannot go on calls this so that its peers, blocked in a collective, stop too instead of waiting for it.
    /// </summary>
    public static void Abort(string reason, int errorCode = 1)
    {
        var g = Group("Abort");
        Console.Error.WriteLine($"[rank {g.Rank}/{g.WorldSize}] aborting the job: {reason}");
        Console.Error.Flush();
        g.Abort(errorCode);
    }

    /// <summary>Waits until every rank has reached the barrier (barrier).</summary>
    public static void Barrier() => BarrierAsync().Wait();

    /// <summary>Starts a barrier.</summary>
    public static Work BarrierAsync() => Group("Barrier").Barrier("Barrier");

    /// <summary>Combines <paramref name="tensor"/> across ranks in place, leaving the result on every rank (all_reduce).</summary>
    public static void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) => AllReduceAsync(tensor, op).Wait();

    /// <summary>Starts an all-reduce; the result is in <paramref name="tensor"/> once the work completes.</summary>
    public static Work AllReduceAsync(Tensor tensor, ReduceOp op = ReduceOp.Sum)
    {
        var g = Group("AllReduce");
        string name = $"AllReduce({op.ToString().ToLowerInvariant()})";
        var buffer = CommBuffer.Of(tensor, name);
        if (op == ReduceOp.Avg && buffer.Type is not (CommType.Float32 or CommType.Float64))
            throw new ArgumentException($"{name}: averaging needs a floating-point tensor, got {tensor.DType.TorchName()}");
        var work = g.AllReduce(buffer, op == ReduceOp.Avg ? ReduceOp.Sum : op, name);
        return op == ReduceOp.Avg ? Then(work, () => DivideInPlace(tensor, g.WorldSize)) : work;
    }

    /// <summary>Copies rank <paramref name="src"/>'s <paramref name="tensor"/> into every rank's (broadcast).</summary>
    public static void Broadcast(Tensor tensor, int src = 0) => BroadcastAsync(tensor, src).Wait();

    /// <summary>Starts a broadcast from rank <paramref name="src"/>.</summary>
    public static Work BroadcastAsync(Tensor tensor, int src = 0)
        => Group("Broadcast").Broadcast(CommBuffer.Of(tensor, "Broadcast"), src, "Broadcast");

    /// <summary>
    /// Gathers every rank's <paramref name="input"/> into <paramref name="output"/>, rank 0's first, on every rank
    /// (all_gather_into_tensor): <paramref name="output"/> holds WorldSize × input.NumEl elements (for example shape
    /// [WorldSize * n, ...] for an input of shape [n, ...]).
    /// </summary>
    public static void AllGather(Tensor output, Tensor input) => AllGatherAsync(output, input).Wait();

    /// <summary>Starts an all-gather into <paramref name="output"/>.</summary>
    public static Work AllGatherAsync(Tensor output, Tensor input)
    {
        var g = Group("AllGather");
        var inBuffer = CommBuffer.Of(input, "AllGather", "input");
        var outBuffer = CommBuffer.Of(output, "AllGather", "output");
        CheckSameDType(output, input, "AllGather");
        if ((long)outBuffer.Count != (long)inBuffer.Count * g.WorldSize)
            throw new ArgumentException($"AllGather: output must hold world size ({g.WorldSize}) × input elements ({inBuffer.Count}) = {(long)inBuffer.Count * g.WorldSize}, but has shape {output.Shape}");
        return g.AllGather(inBuffer, outBuffer, "AllGather");
    }

    /// <summary>Every rank's <paramref name="input"/>, indexed by rank (all_gather into a list).</summary>
    public static Tensor[] AllGather(Tensor input)
    {
        var g = Group("AllGather");
        var contiguous = input.Contiguous();
        var output = Torch.Empty([g.WorldSize, .. contiguous.Shape.ToArray()], contiguous.DType);
        AllGather(output, contiguous);
        var parts = new Tensor[g.WorldSize];
        for (int r = 0; r < parts.Length; r++) parts[r] = output.Select(0, r);
        return parts;
    }

    /// <summary>
    /// Reduces <paramref name="input"/> (WorldSize equal blocks, rank order) across ranks and leaves block <c>Rank</c> of
    /// the result in <paramref name="output"/> (reduce_scatter_tensor).
    /// </summary>
    public static void ReduceScatter(Tensor output, Tensor input, ReduceOp op = ReduceOp.Sum) => ReduceScatterAsync(output, input, op).Wait();

    /// <summary>Starts a reduce-scatter.</summary>
    public static Work ReduceScatterAsync(Tensor output, Tensor input, ReduceOp op = ReduceOp.Sum)
    {
        var g = Group("ReduceScatter");
        string name = $"ReduceScatter({op.ToString().ToLowerInvariant()})";
        var inBuffer = CommBuffer.Of(input, name, "input");
        var outBuffer = CommBuffer.Of(output, name, "output");
        CheckSameDType(output, input, name);
        if ((long)inBuffer.Count != (long)outBuffer.Count * g.WorldSize)
            throw new ArgumentException($"{name}: input must hold world size ({g.WorldSize}) × output elements ({outBuffer.Count}) = {(long)outBuffer.Count * g.WorldSize}, but has shape {input.Shape}");
        if (op == ReduceOp.Avg && inBuffer.Type is not (CommType.Float32 or CommType.Float64))
            throw new ArgumentException($"{name}: averaging needs a floating-point tensor, got {input.DType.TorchName()}");
        var work = g.ReduceScatter(inBuffer, outBuffer, op == ReduceOp.Avg ? ReduceOp.Sum : op, name);
        return op == ReduceOp.Avg ? Then(work, () => DivideInPlace(output, g.WorldSize)) : work;
    }

    /// <summary>The default group, for DistributedDataParallel and the sampler.</summary>
    internal static IProcessGroup Group(string op)
        => group ?? throw new InvalidOperationException($"{op}: the default process group is not initialized; call Distributed.InitProcessGroup() first (and start the program with mpirun)");

    /// <summary>The default group when initialized, else null.</summary>
    internal static IProcessGroup? GroupOrNull => group;

    static Work Then(Work inner, Action after)
        => new(new Chained(inner), inner.Description, Group("Work").Timeout, after);

    sealed class Chained(Work inner) : Work.IRequest
    {
        public bool Test() => inner.IsCompleted;
        public void Release() { }
    }

    static void DivideInPlace(Tensor tensor, int worldSize)
    {
        using (Torch.NoGrad()) tensor.DivInPlace(worldSize);
    }

    static void CheckSameDType(Tensor output, Tensor input, string op)
    {
        if (output.DType != input.DType)
            throw new ArgumentException($"{op}: output dtype {output.DType.TorchName()} differs from input dtype {input.DType.TorchName()}");
    }

    static void AbortOnUnhandledException(object? sender, UnhandledExceptionEventArgs e)
    {
        if (group is not { } g) return;
        // Without this the peers would sit in their next collective until the timeout; MPI_Abort makes mpirun end them now.
        Console.Error.WriteLine($"[rank {g.Rank}/{g.WorldSize}] unhandled exception, aborting the job: {e.ExceptionObject}");
        Console.Error.Flush();
        g.Abort(1);
    }

    static void FinalizeOnExit(object? sender, EventArgs e)
    {
        var g = group;
        group = null;
        g?.Dispose();
    }
}
