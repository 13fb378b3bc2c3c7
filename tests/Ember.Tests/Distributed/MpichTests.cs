namespace Ember.Tests.Distributed;

/// <summary>
/// The driver's scenario suite under MPICH instead of Open MPI: the binding's MPICH ABI (integer handles, MPI_IN_PLACE
/// = -1, 4-byte requests) end to end, launched by MPICH's own mpiexec.hydra. Runs only when EMBER_MPICH_PREFIX names an
/// MPICH tree (installing MPICH system-wide would take over `mpirun` from Open MPI on the same machine).
/// </summary>
public class MpichTests
{
    public sealed class MpichFactAttribute : FactAttribute
    {
        public MpichFactAttribute()
        {
            if (MpiRun.MpichPrefix is null)
                Skip = "EMBER_MPICH_PREFIX is not set (a folder holding MPICH's bin/mpiexec.hydra and lib/x86_64-linux-gnu/libmpich.so.12; see docs/distributed.md)";
        }
    }

    static readonly string[] Scenarios =
    [
        "collectives", "sgd-equivalence", "adamw-equivalence", "no-sync", "buffers", "mismatch", "second-backward",
        "unused-parameters", "sync-batchnorm", "epoch-metrics", "stop-consensus", "step-stats", "validation-metrics",
    ];

    [MpichFact]
    public void TheWholeSuitePassesOnBothRanksUnderMpich()
    {
        var r = MpiRun.MpichDriver("suite", ranks: 2, TimeSpan.FromSeconds(120), "30");
        Assert.False(r.TimedOut, $"the MPICH suite did not finish within 120 s:\n{r.Output}");
        Assert.True(r.ExitCode == 0, $"mpiexec.hydra exited with {r.ExitCode}:\n{r.Output}");
        for (int rank = 0; rank < 2; rank++)
            foreach (var scenario in Scenarios)
            {
                var line = r.RankLines[rank].FirstOrDefault(l => l.StartsWith($"RESULT {scenario} rank {rank} "));
                Assert.True(line is not null && line.Contains(" PASS"), line ?? $"no result for {scenario} on rank {rank}:\n{r.Output}");
            }
    }

    [MpichFact]
    public void ARankThatStopsCallingCollectivesTimesOutUnderMpichToo()
    {
        var r = MpiRun.MpichDriver("hang", ranks: 2, TimeSpan.FromSeconds(60), "2");
        Assert.False(r.TimedOut, $"the job hung although the collective timeout is 2 s:\n{r.Output}");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("AllReduce(sum) of 4 float32 on rank 0 of 2 did not complete within 2 s", r.Output);
    }
}
