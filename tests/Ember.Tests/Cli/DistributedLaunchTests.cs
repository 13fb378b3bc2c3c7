using Ember.Cli.Commands;

namespace Ember.Tests.Cli;

/// <summary>`ember train --nproc N`: which launcher mpirun is, and the options each one is given. No MPI needed.</summary>
public class DistributedLaunchTests
{
    [Fact]
    public void HydraIsToldFromOpenMpiByItsVersionText()
    {
        // The first lines of `mpirun --version` from Open MPI 4.1.4 and from MPICH 4.0.2's mpiexec.hydra.
        Assert.False(DistributedLaunch.IsHydraVersion("mpirun (Open MPI) 4.1.4\n\nReport bugs to http://www.open-mpi.org/community/help/\n"));
        Assert.True(DistributedLaunch.IsHydraVersion("HYDRA build details:\n    Version:                                 4.0.2\n"));
        Assert.False(DistributedLaunch.IsHydraVersion(""));
    }

    [Fact]
    public void OpenMpiGetsQuietUnboundRanksOversubscribedBeyondTheCoresAndRootAllowed()
    {
        Assert.Equal(["--quiet", "-n", "2", "--bind-to", "none"], DistributedLaunch.LauncherArguments(hydra: false, processes: 2, cores: 2, root: false));
        Assert.Equal(["--quiet", "-n", "4", "--oversubscribe", "--bind-to", "none", "--allow-run-as-root"],
            DistributedLaunch.LauncherArguments(hydra: false, processes: 4, cores: 2, root: true));
    }

    [Fact]
    public void HydraGetsOnlyTheProcessCountForItRefusesOpenMpisOptions()
        => Assert.Equal(["-n", "4"], DistributedLaunch.LauncherArguments(hydra: true, processes: 4, cores: 2, root: true));
}
