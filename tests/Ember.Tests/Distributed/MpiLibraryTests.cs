using Ember.Distributed;

namespace Ember.Tests.Distributed;

/// <summary>Loading libmpi: what a machine without MPI (or with another MPI) is told. No MPI needed.</summary>
public class MpiLibraryTests
{
    [Fact]
    public void AMissingLibraryNamesWhatWasTriedAndTheInstallCommand()
    {
        var e = Assert.Throws<DistributedException>(() => MpiLibrary.Load(["libmpi-that-does-not-exist.so.99", "libnope.so"]));
        Assert.Contains("libmpi-that-does-not-exist.so.99, libnope.so", e.Message);
        Assert.Contains("apt-get update && apt-get install -y openmpi-bin libopenmpi-dev", e.Message);
        Assert.Contains("EMBER_MPI_LIBRARY", e.Message);
    }

    [Fact]
    public void ALibraryThatIsNotOpenMpiIsRefusedByName()
    {
        // libc loads everywhere and exports no ompi_mpi_comm_world: the check for Open MPI's ABI must say so.
        var e = Assert.Throws<DistributedException>(() => MpiLibrary.Load(["libc.so.6"]));
        Assert.Contains("'libc.so.6' loaded but it is not Open MPI", e.Message);
        Assert.Contains("MPICH", e.Message);
    }

    [Fact]
    public void TheDefaultNamesStartWithOpenMpisSoname()
        => Assert.Equal(["libmpi.so.40", "libmpi.so", "libmpi.so.12"], MpiLibrary.DefaultNames);
}
