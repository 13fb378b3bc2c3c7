namespace Ember.Tests.Distributed;

/// <summary>Runs the driver's scenario suite once under <c>mpirun -n 2</c>; each test checks its scenario's lines.</summary>
public sealed class MpiSuiteFixture
{
    readonly Lazy<MpiRun.Result> result = new(() => MpiRun.Driver("suite", ranks: 2, TimeSpan.FromSeconds(90)));
    public MpiRun.Result Result => result.Value;
}

/// <summary>
/// Distributed training across real processes (tests/Ember.MpiDriver under mpirun). Each scenario line of the driver is
/// "RESULT name rank r PASS|FAIL detail"; both ranks must pass.
/// </summary>
public class MultiProcessTests(MpiSuiteFixture suite) : IClassFixture<MpiSuiteFixture>
{
    void BothRanksPass(string scenario)
    {
        var r = suite.Result;
        Assert.False(r.TimedOut, $"the mpirun suite did not finish within 90 s:\n{r.Output}");
        for (int rank = 0; rank < 2; rank++)
        {
            var line = r.RankLines[rank].FirstOrDefault(l => l.StartsWith($"RESULT {scenario} rank {rank} "));
            Assert.True(line is not null, $"no result for {scenario} on rank {rank} (exit code {r.ExitCode}):\n{r.Output}");
            Assert.True(line!.Contains(" PASS"), line);
        }
    }

    [MpiFact]
    public void CollectivesGiveTheReducedGatheredAndScatteredValues() => BothRanksPass("collectives");

    [MpiFact]
    public void TwoRanksWithHalfBatchesMatchOneProcessWithTheWholeBatchUnderSgd() => BothRanksPass("sgd-equivalence");

    [MpiFact]
    public void TwoRanksWithHalfBatchesMatchOneProcessWithTheWholeBatchUnderAdamW() => BothRanksPass("adamw-equivalence");

    [MpiFact]
    public void NoSyncAccumulationEqualsTheLargerBatch() => BothRanksPass("no-sync");

    [MpiFact]
    public void EachForwardStartsFromRankZerosBuffers() => BothRanksPass("buffers");

    [MpiFact]
    public void AMismatchedModelIsRefusedOnEveryRankNamingTheRankAndParameter() => BothRanksPass("mismatch");

    [MpiFact]
    public void ASecondBackwardThroughOneForwardIsAnError() => BothRanksPass("second-backward");

    [MpiFact]
    public void ParametersUnusedOnSomeOrAllRanksAreHandledAsPyTorchDoes() => BothRanksPass("unused-parameters");

    [MpiFact]
    public void SyncBatchNormOverTwoRanksEqualsOneBatchNormOverTheWholeBatch() => BothRanksPass("sync-batchnorm");

    [MpiFact]
    public void EpochTrainingMetricsAreTheSampleWeightedMeanOverRanks() => BothRanksPass("epoch-metrics");

    [MpiFact]
    public void AStopAskedOnOneRankStopsEveryRankAtTheSameBatch() => BothRanksPass("stop-consensus");

    [MpiFact]
    public void StepStatsCountTheParameterBytesAndTheWaitForALatePeer() => BothRanksPass("step-stats");

    [MpiFact]
    public void ShardedValidationMetricsAndConfusionMatricesReduceToTheWholeSets() => BothRanksPass("validation-metrics");

    [MpiFact]
    public void TheSuiteEndsCleanly()
    {
        var r = suite.Result;
        Assert.True(r.ExitCode == 0, $"mpirun exited with {r.ExitCode}:\n{r.Output}");
    }

    [MpiFact]
    public void ARankThatThrowsEndsTheWholeJobQuickly()
    {
        var r = MpiRun.Driver("raise", ranks: 2, TimeSpan.FromSeconds(60), "30");
        Assert.False(r.TimedOut, $"the job hung after rank 1 threw:\n{r.Output}");
        Assert.NotEqual(0, r.ExitCode);
        // Rank 0 waits in an all-reduce with a 30 s timeout; the abort must end it long before.
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(20), $"the job took {r.Elapsed.TotalSeconds:F1} s to end");
        Assert.Contains("[rank 1/2] unhandled exception, aborting the job", r.Output);
        Assert.Contains("rank 1 fails on purpose", r.Output);
        Assert.DoesNotContain("the all-reduce returned", r.Output);
    }

    [MpiFact]
    public void ARankThatStopsCallingCollectivesMakesThePeersTimeOutWithAClearError()
    {
        var r = MpiRun.Driver("hang", ranks: 2, TimeSpan.FromSeconds(60), "2");
        Assert.False(r.TimedOut, $"the job hung although the collective timeout is 2 s:\n{r.Output}");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("AllReduce(sum) of 4 float32 on rank 0 of 2 did not complete within 2 s", r.Output);
    }
}
