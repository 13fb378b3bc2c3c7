using Ember.Distributed;

namespace Ember.Tests.Distributed;

/// <summary>Loading libmpi: what a machine without MPI (or with another MPI) is told, and which ABI a library has. No MPI needed.</summary>
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
    public void ALibraryThatIsNotMpiIsRefusedByName()
    {
        // libc loads everywhere and exports no MPI function: the message must say it is not an MPI library.
        var e = Assert.Throws<DistributedException>(() => MpiLibrary.Load(["libc.so.6"]));
        Assert.Contains("'libc.so.6' loaded but it is not an MPI-3 library", e.Message);
        Assert.Contains("MPICH", e.Message);
    }

    [Fact]
    public void TheDefaultNamesStartWithOpenMpisSonameAndHydraLaunchesTryMpichFirst()
    {
        Assert.Equal(["libmpi.so.40", "libmpi.so", "libmpich.so.12", "libmpi.so.12"], MpiLibrary.DefaultNames);
        Assert.Equal("libmpich.so.12", MpiLibrary.MpichFirstNames[0]);
        // Both lists try the same libraries, only in another order.
        Assert.Equal(MpiLibrary.DefaultNames.Order(), MpiLibrary.MpichFirstNames.Order());
    }

    [Theory]
    [InlineData(true, null, "OpenMpi")]
    [InlineData(true, "MPICH Version:      4.0.2", "OpenMpi")] // the export decides first
    [InlineData(false, "MPICH Version:      4.0.2", "Mpich")] // Debian's libmpich.so.12
    [InlineData(false, "Intel(R) MPI Library 2021.10 for Linux* OS", "Mpich")]
    [InlineData(false, "MVAPICH2 Version      :\t2.3.7", "Mpich")]
    [InlineData(false, "Open MPI v4.1.4, package: Debian OpenMPI", null)] // an Open MPI without its export is not trusted
    [InlineData(false, "Microsoft MPI 10.1", null)]
    [InlineData(false, null, null)]
    public void TheAbiIsOpenMpisWhenItsCommWorldIsExportedElseMpichsByTheVersionLine(bool exportsCommWorld, string? version, string? expected)
        => Assert.Equal(expected, MpiLibrary.DetectAbi(exportsCommWorld, version)?.ToString()); // MpiAbi is internal: named in the data

    [Fact]
    public void MpichHandlesAreTheConstantsOfItsMpiHeader()
    {
        // Values from MPICH 4.0.2's mpi.h (Debian libmpich-dev): the ABI shared by MPICH, Intel MPI and MVAPICH.
        Assert.Equal(
            [0x44000000, 0x4c00010d, 0x4c00040a, 0x4c00080b, 0x4c00083a, 0x58000003, 0x58000001, 0x58000002, 0x54000001, -1],
            new[] { MpichHandles.CommWorld, MpichHandles.Byte, MpichHandles.Float, MpichHandles.Double, MpichHandles.Int64,
                MpichHandles.OpSum, MpichHandles.OpMax, MpichHandles.OpMin, MpichHandles.ErrorsReturn, MpichHandles.InPlace });
    }
}
