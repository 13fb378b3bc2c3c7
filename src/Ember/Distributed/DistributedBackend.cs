namespace Ember.Distributed;

/// <summary>The communication engine of a process group (torch.distributed's backend argument).</summary>
public enum DistributedBackend
{
    /// <summary>MPI (Open MPI), launched with <c>mpirun</c>.</summary>
    Mpi,
}
