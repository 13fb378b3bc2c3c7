namespace Ember.Distributed;

/// <summary>The two binary interfaces of MPI libraries that Ember binds.</summary>
internal enum MpiAbi
{
    /// <summary>Open MPI: handles are pointers; predefined ones are addresses of exported globals.</summary>
    OpenMpi,

    /// <summary>MPICH and the MPIs built on it (Intel MPI, MVAPICH): handles are 32-bit integers fixed in mpi.h.</summary>
    Mpich,
}
