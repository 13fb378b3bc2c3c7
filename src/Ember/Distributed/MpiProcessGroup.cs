using System.Runtime.InteropServices;

namespace Ember.Distributed;

/// <summary>
/// The process group over MPI_COMM_WORLD (Open MPI's or MPICH's ABI, see <see cref="MpiLibrary"/>). MPI is initialised with MPI_THREAD_SERIALIZED and every call is made under
/// one lock, so any thread may start or poll a collective. Errors return codes (MPI_ERRORS_RETURN) that become
/// <see cref="DistributedException"/>s naming the call and the rank.
/// </summary>
internal sealed unsafe class MpiProcessGroup : IProcessGroup
{
    readonly MpiLibrary mpi;
    readonly object gate = new();
    readonly bool ownsInit;
    bool disposed;

    public int Rank { get; }
    public int WorldSize { get; }
    public TimeSpan Timeout { get; }
    public string Description { get; }

    /// <summary>Set when a collective timed out: MPI's state is then undefined, so shutdown aborts instead of finalising.</summary>
    internal bool Broken { get; private set; }

    public MpiProcessGroup(MpiLibrary mpi, TimeSpan timeout, LaunchEnvironment? launch)
    {
        this.mpi = mpi;
        Timeout = timeout;
        int flag = 0;
        mpi.Check(mpi.Initialized(&flag), "MPI_Initialized", launch?.Rank ?? 0);
        if (flag == 0)
        {
            int provided = 0;
            mpi.Check(mpi.InitThread(null, null, MpiLibrary.ThreadSerialized, &provided), "MPI_Init_thread", launch?.Rank ?? 0);
            if (provided < MpiLibrary.ThreadSerialized)
                throw new DistributedException($"MPI_Init_thread: {mpi.Name} provides thread level {provided}; Ember needs MPI_THREAD_SERIALIZED (2)");
            ownsInit = true;
        }
        int rank = 0, size = 0;
        mpi.Check(mpi.CommRank(mpi.CommWorld, &rank), "MPI_Comm_rank", launch?.Rank ?? 0);
        mpi.Check(mpi.CommSize(mpi.CommWorld, &size), "MPI_Comm_size", rank);
        mpi.Check(mpi.CommSetErrhandler(mpi.CommWorld, mpi.ErrorsReturn), "MPI_Comm_set_errhandler", rank);
        if (launch is { } l && (l.Rank != rank || l.WorldSize != size))
            throw new DistributedException(
                $"InitProcessGroup: the launcher says rank {l.Rank} of {l.WorldSize} ({l.Source}) but MPI_COMM_WORLD says rank {rank} of {size}; " +
                $"was the program started by a different MPI's launcher than the library loaded ({mpi.Name})?");
        Rank = rank;
        WorldSize = size;
        Description = mpi.Version();
    }

    public Work Barrier(string op)
    {
        nint request = 0; // zeroed: an MPICH request is 4 bytes written into this 8-byte slot
        lock (gate) Check(mpi.Ibarrier(mpi.CommWorld, &request), "MPI_Ibarrier", op);
        return Started(new Request(this, request, []), $"{op} on rank {Rank} of {WorldSize}");
    }

    public Work AllReduce(CommBuffer buffer, ReduceOp op, string opName)
    {
        var pin = GCHandle.Alloc(buffer.Array, GCHandleType.Pinned);
        nint request = 0; // zeroed: an MPICH request is 4 bytes written into this 8-byte slot
        lock (gate)
            Check(mpi.Iallreduce((void*)mpi.InPlace, Address(pin, buffer), buffer.Count, Datatype(buffer.Type), Op(op, opName), mpi.CommWorld, &request),
                "MPI_Iallreduce", opName, pin);
        return Started(new Request(this, request, [pin], buffer.Owner), Describe(opName, buffer));
    }

    public Work Broadcast(CommBuffer buffer, int root, string op)
    {
        CheckRank(root, op, "src");
        var pin = GCHandle.Alloc(buffer.Array, GCHandleType.Pinned);
        nint request = 0; // zeroed: an MPICH request is 4 bytes written into this 8-byte slot
        lock (gate)
            Check(mpi.Ibcast(Address(pin, buffer), buffer.Count, Datatype(buffer.Type), root, mpi.CommWorld, &request), "MPI_Ibcast", op, pin);
        return Started(new Request(this, request, [pin], buffer.Owner), Describe(op, buffer));
    }

    public Work AllGather(CommBuffer input, CommBuffer output, string op)
    {
        var inPin = GCHandle.Alloc(input.Array, GCHandleType.Pinned);
        var outPin = GCHandle.Alloc(output.Array, GCHandleType.Pinned);
        nint request = 0; // zeroed: an MPICH request is 4 bytes written into this 8-byte slot
        var type = Datatype(input.Type);
        lock (gate)
            Check(mpi.Iallgather(Address(inPin, input), input.Count, type, Address(outPin, output), input.Count, type, mpi.CommWorld, &request),
                "MPI_Iallgather", op, inPin, outPin);
        return Started(new Request(this, request, [inPin, outPin], (input.Owner, output.Owner)), Describe(op, input));
    }

    public Work ReduceScatter(CommBuffer input, CommBuffer output, ReduceOp op, string opName)
    {
        var inPin = GCHandle.Alloc(input.Array, GCHandleType.Pinned);
        var outPin = GCHandle.Alloc(output.Array, GCHandleType.Pinned);
        nint request = 0; // zeroed: an MPICH request is 4 bytes written into this 8-byte slot
        lock (gate)
            Check(mpi.IreduceScatterBlock(Address(inPin, input), Address(outPin, output), output.Count, Datatype(input.Type), Op(op, opName), mpi.CommWorld, &request),
                "MPI_Ireduce_scatter_block", opName, inPin, outPin);
        return Started(new Request(this, request, [inPin, outPin], (input.Owner, output.Owner)), Describe(opName, input));
    }

    public void Abort(int errorCode)
    {
        Broken = true;
        // No lock: the rank is going down, and a thread stuck inside MPI may hold it.
        mpi.Abort(mpi.CommWorld, errorCode);
    }

    /// <summary>MPI_Finalize (when this group initialised MPI); after a timeout MPI's state is undefined, so abort instead.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        if (Broken) { Abort(1); return; }
        int finalized = 0;
        lock (gate)
        {
            mpi.Finalized(&finalized);
            if (ownsInit && finalized == 0) mpi.Check(mpi.Finalize(), "MPI_Finalize", Rank);
        }
    }

    Work Started(Request request, string description) => new(request, description, Timeout, onTimeout: () => Broken = true);

    string Describe(string op, CommBuffer buffer) => $"{op} of {buffer.Count} {buffer.Type.ToString().ToLowerInvariant()} on rank {Rank} of {WorldSize}";

    static void* Address(GCHandle pin, CommBuffer buffer) => (byte*)pin.AddrOfPinnedObject() + (long)buffer.Offset * buffer.ElementSize;

    nint Datatype(CommType type) => type switch
    {
        CommType.Byte => mpi.Byte,
        CommType.Float32 => mpi.Float,
        CommType.Float64 => mpi.Double,
        _ => mpi.Int64,
    };

    nint Op(ReduceOp op, string opName) => op switch
    {
        ReduceOp.Sum => mpi.OpSum,
        ReduceOp.Max => mpi.OpMax,
        ReduceOp.Min => mpi.OpMin,
        _ => throw new ArgumentException($"{opName}: {op} is not an MPI reduction (Avg is a sum followed by a division)"),
    };

    void CheckRank(int rank, string op, string name)
    {
        if (rank < 0 || rank >= WorldSize) throw new ArgumentOutOfRangeException(name, $"{op}: {name}={rank} is not a rank of this group (world size {WorldSize})");
    }

    void Check(int code, string call, string op, params GCHandle[] pins)
    {
        if (code == 0) return;
        foreach (var pin in pins) pin.Free();
        mpi.Check(code, $"{op} ({call})", Rank);
    }

    sealed class Request(MpiProcessGroup group, nint handle, GCHandle[] pins, object? owner = null) : Work.IRequest
    {
        nint handle = handle;

        public bool Test()
        {
            int flag = 0;
            var status = stackalloc byte[64]; // MPI_Status is 24 bytes in Open MPI, 20 in MPICH; room to spare
            int code;
            fixed (nint* h = &handle)
                lock (group.gate) code = group.mpi.Test(h, &flag, status);
            group.mpi.Check(code, "MPI_Test", group.Rank);
            return flag != 0;
        }

        public void Release()
        {
            foreach (var pin in pins) pin.Free();
            GC.KeepAlive(owner);
        }
    }
}
