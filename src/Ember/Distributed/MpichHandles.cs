namespace Ember.Distributed;

/// <summary>
/// MPICH's predefined handles, the integer constants of its <c>mpi.h</c> (checked against MPICH 4.0.2's header; the
/// MPICH ABI initiative keeps them fixed across MPICH 3.1+, Intel MPI 5+ and MVAPICH2 2.0+).
/// </summary>
internal static class MpichHandles
{
    public const int CommWorld = 0x44000000;
    public const int Byte = 0x4c00010d;
    public const int Float = 0x4c00040a;
    public const int Double = 0x4c00080b;
    public const int Int64 = 0x4c00083a;
    public const int OpMax = 0x58000001;
    public const int OpMin = 0x58000002;
    public const int OpSum = 0x58000003;
    public const int ErrorsReturn = 0x54000001;

    /// <summary>MPI_IN_PLACE is <c>(void *) -1</c> in MPICH (Open MPI's is 1).</summary>
    public const int InPlace = -1;
}
