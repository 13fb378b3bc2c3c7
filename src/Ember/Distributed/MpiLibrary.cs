using System.Runtime.InteropServices;
using System.Text;

namespace Ember.Distributed;

/// <summary>
/// A thin typed layer over the MPI C API, bound at run time: libmpi is loaded (and its functions resolved) only when a
/// process group is created, so Ember builds and runs single-process on a machine without MPI.
/// </summary>
/// <remarks>
/// Two ABIs exist and both are bound. Open MPI's handles (MPI_Comm, MPI_Datatype, MPI_Op, MPI_Errhandler, MPI_Request)
/// are pointers, and its predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of global
/// objects exported by libmpi (<c>ompi_mpi_comm_world</c>, <c>ompi_mpi_float</c>, <c>ompi_mpi_op_sum</c>), resolved
/// with <see cref="NativeLibrary.GetExport"/>. MPICH and the MPIs sharing its ABI (Intel MPI, MVAPICH) use 32-bit
/// integer handles with fixed values from <c>mpi.h</c> (<see cref="MpichHandles"/>). On x86-64 and arm64 an int
/// argument travels in the low half of a register, so the same pointer-sized signatures call both; an MPICH request
/// handle is written into the low 4 bytes of a zeroed pointer-sized slot. Which ABI a library has is told by the
/// Open MPI export, else by MPI_Get_library_version (callable before MPI_Init); anything else is refused.
/// </remarks>
internal sealed unsafe class MpiLibrary
{
    /// <summary>The names tried, in order, when no explicit library is given (Open MPI 4/5's soname first).</summary>
    internal static readonly string[] DefaultNames = ["libmpi.so.40", "libmpi.so", "libmpich.so.12", "libmpi.so.12"];

    /// <summary>The names tried under MPICH's launcher (Hydra sets PMI_RANK): its own library first.</summary>
    internal static readonly string[] MpichFirstNames = ["libmpich.so.12", "libmpi.so.12", "libmpi.so.40", "libmpi.so"];

    /// <summary>Environment variable naming the MPI library file to load instead of the default names.</summary>
    internal const string LibraryVariable = "EMBER_MPI_LIBRARY";

    internal const string InstallHint = "apt-get update && apt-get install -y openmpi-bin libopenmpi-dev";

    // MPI_THREAD_SERIALIZED: any thread may call MPI, one at a time (the process group serialises calls with a lock).
    internal const int ThreadSerialized = 2;

    readonly nint library;
    public readonly string Name;
    public readonly MpiAbi Abi;

    // Predefined handles.
    public readonly nint CommWorld, Byte, Float, Double, Int64, OpSum, OpMax, OpMin, ErrorsReturn, InPlace;

    public readonly delegate* unmanaged<int*, int> Initialized, Finalized;
    public readonly delegate* unmanaged<int*, byte***, int, int*, int> InitThread;
    public readonly delegate* unmanaged<int> Finalize;
    public readonly delegate* unmanaged<nint, int, int> Abort;
    public readonly delegate* unmanaged<nint, int*, int> CommRank, CommSize;
    public readonly delegate* unmanaged<nint, nint, int> CommSetErrhandler;
    public readonly delegate* unmanaged<int, byte*, int*, int> ErrorString;
    public readonly delegate* unmanaged<byte*, int*, int> GetLibraryVersion;
    public readonly delegate* unmanaged<nint, nint*, int> Ibarrier;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int> Iallreduce;
    public readonly delegate* unmanaged<void*, int, nint, int, nint, nint*, int> Ibcast;
    public readonly delegate* unmanaged<void*, int, nint, void*, int, nint, nint, nint*, int> Iallgather;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int> IreduceScatterBlock;
    public readonly delegate* unmanaged<nint*, int*, void*, int> Test;

    MpiLibrary(nint library, string name)
    {
        this.library = library;
        Name = name;
        if (!NativeLibrary.TryGetExport(library, "MPI_Get_library_version", out var getVersion))
            throw new DistributedException(
                $"MPI: '{name}' loaded but it is not an MPI-3 library (it exports no 'MPI_Get_library_version'). Install Open MPI " +
                $"({InstallHint}) or MPICH, or point {LibraryVariable} at its library");
        GetLibraryVersion = (delegate* unmanaged<byte*, int*, int>)getVersion;
        bool openMpi = NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out _);
        Abi = DetectAbi(openMpi, openMpi ? null : Version())
            ?? throw new DistributedException(
                $"MPI: '{name}' ({Version()}) is neither Open MPI (it exports no 'ompi_mpi_comm_world') nor of MPICH's ABI " +
                $"(its version line names neither MPICH, Intel MPI nor MVAPICH); Ember binds those two only. Install Open MPI " +
                $"({InstallHint}) or MPICH (apt-get install -y mpich libmpich-dev) and point {LibraryVariable} at its library");
        if (Abi == MpiAbi.OpenMpi)
        {
            CommWorld = Symbol("ompi_mpi_comm_world");
            Byte = Symbol("ompi_mpi_byte");
            Float = Symbol("ompi_mpi_float");
            Double = Symbol("ompi_mpi_double");
            Int64 = Symbol("ompi_mpi_int64_t");
            OpSum = Symbol("ompi_mpi_op_sum");
            OpMax = Symbol("ompi_mpi_op_max");
            OpMin = Symbol("ompi_mpi_op_min");
            ErrorsReturn = Symbol("ompi_mpi_errors_return");
            InPlace = 1; // Open MPI's MPI_IN_PLACE is ((void *) 1)
        }
        else
        {
            CommWorld = MpichHandles.CommWorld;
            Byte = MpichHandles.Byte;
            Float = MpichHandles.Float;
            Double = MpichHandles.Double;
            Int64 = MpichHandles.Int64;
            OpSum = MpichHandles.OpSum;
            OpMax = MpichHandles.OpMax;
            OpMin = MpichHandles.OpMin;
            ErrorsReturn = MpichHandles.ErrorsReturn;
            InPlace = MpichHandles.InPlace;
        }

        Initialized = (delegate* unmanaged<int*, int>)Symbol("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Symbol("MPI_Finalized");
        InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Symbol("MPI_Init_thread");
        Finalize = (delegate* unmanaged<int>)Symbol("MPI_Finalize");
        Abort = (delegate* unmanaged<nint, int, int>)Symbol("MPI_Abort");
        CommRank = (delegate* unmanaged<nint, int*, int>)Symbol("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Symbol("MPI_Comm_size");
        CommSetErrhandler = (delegate* unmanaged<nint, nint, int>)Symbol("MPI_Comm_set_errhandler");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Symbol("MPI_Error_string");
        Ibarrier = (delegate* unmanaged<nint, nint*, int>)Symbol("MPI_Ibarrier");
        Iallreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int>)Symbol("MPI_Iallreduce");
        Ibcast = (delegate* unmanaged<void*, int, nint, int, nint, nint*, int>)Symbol("MPI_Ibcast");
        Iallgather = (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, nint*, int>)Symbol("MPI_Iallgather");
        IreduceScatterBlock = (delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int>)Symbol("MPI_Ireduce_scatter_block");
        Test = (delegate* unmanaged<nint*, int*, void*, int>)Symbol("MPI_Test");
    }

    /// <summary>
    /// The ABI of a library: Open MPI when it exports <c>ompi_mpi_comm_world</c>; MPICH's when its version line
    /// (MPI_Get_library_version) names MPICH or an MPI built on it (Intel MPI, MVAPICH, Cray MPICH); else null.
    /// </summary>
    internal static MpiAbi? DetectAbi(bool exportsOpenMpiCommWorld, string? libraryVersion)
    {
        if (exportsOpenMpiCommWorld) return MpiAbi.OpenMpi;
        if (libraryVersion is null) return null;
        foreach (var family in new[] { "MPICH", "Intel(R) MPI", "MVAPICH" })
            if (libraryVersion.Contains(family, StringComparison.OrdinalIgnoreCase)) return MpiAbi.Mpich;
        return null;
    }

    nint Symbol(string name)
        => NativeLibrary.TryGetExport(library, name, out var address) ? address
            : throw new DistributedException($"MPI: '{Name}' exports no '{name}' (an MPI-3 library is needed: {InstallHint})");

    /// <summary>
    /// Loads the first MPI library found: <see cref="LibraryVariable"/> when set, else <paramref name="candidates"/>
    /// (by default <see cref="DefaultNames"/>). Throws a <see cref="DistributedException"/> naming what was tried and
    /// how to install Open MPI when none loads.
    /// </summary>
    public static MpiLibrary Load(string[]? candidates = null, LaunchEnvironment? launch = null)
    {
        var names = candidates ?? (Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } path ? [path]
            : launch?.Source.StartsWith("PMI_", StringComparison.Ordinal) == true ? MpichFirstNames : DefaultNames);
        foreach (var name in names)
            if (NativeLibrary.TryLoad(name, out var handle))
                return new MpiLibrary(handle, name);
        throw new DistributedException(
            $"MPI: distributed training needs an MPI library, but none was found (tried {string.Join(", ", names)}). " +
            $"Install Open MPI with: {InstallHint} (or MPICH, apt-get install -y mpich libmpich-dev; or set {LibraryVariable} to the path of an MPI library)");
    }

    /// <summary>The text MPI gives for an error code (MPI_Error_string).</summary>
    public string DescribeError(int code)
    {
        var buffer = stackalloc byte[512]; // MPI_MAX_ERROR_STRING is 256 in Open MPI and 512 in MPICH
        int length = 0;
        return ErrorString(code, buffer, &length) == 0 ? Encoding.UTF8.GetString(buffer, Math.Clamp(length, 0, 512)) : $"MPI error {code}";
    }

    /// <summary>MPI_Get_library_version's first line, for logs and error messages.</summary>
    public string Version()
    {
        var buffer = stackalloc byte[8192]; // MPI_MAX_LIBRARY_VERSION_STRING (256 in Open MPI, 8192 in MPICH)
        int length = 0;
        if (GetLibraryVersion(buffer, &length) != 0) return Name;
        var text = Encoding.UTF8.GetString(buffer, Math.Clamp(length, 0, 8192)).TrimEnd('\0');
        int newline = text.IndexOfAny(['\n', ',']);
        return newline > 0 ? text[..newline].Trim() : text.Trim();
    }

    /// <summary>Throws a <see cref="DistributedException"/> for a non-zero MPI return code.</summary>
    public void Check(int code, string call, int rank)
    {
        if (code != 0) throw new DistributedException($"{call} failed on rank {rank}: {DescribeError(code)} (MPI error {code})");
    }
}
