using System.Diagnostics;
using Ember.Distributed;

namespace Ember.Tests.Distributed;

/// <summary>The async handle's contract, with a fake request in place of MPI.</summary>
public class WorkTests
{
    sealed class FakeRequest(int testsUntilDone) : Work.IRequest
    {
        public int Tests, Releases;
        public bool Test() => ++Tests >= testsUntilDone;
        public void Release() => Releases++;
    }

    [Fact]
    public void WaitPollsUntilDoneThenReleasesAndCompletesOnce()
    {
        var request = new FakeRequest(testsUntilDone: 100);
        int completions = 0;
        var work = new Work(request, "AllReduce(sum) of 4 float32 on rank 0 of 2", TimeSpan.FromSeconds(10), () => completions++);
        Assert.False(work.IsCompleted);
        work.Wait();
        Assert.True(work.IsCompleted);
        work.Wait();
        Assert.Equal(100, request.Tests);
        Assert.Equal(1, request.Releases);
        Assert.Equal(1, completions);
    }

    [Fact]
    public void IsCompletedTestsOnceWithoutBlocking()
    {
        var request = new FakeRequest(testsUntilDone: 3);
        var work = new Work(request, "Barrier", TimeSpan.FromSeconds(10));
        Assert.False(work.IsCompleted);
        Assert.False(work.IsCompleted);
        Assert.True(work.IsCompleted);
        Assert.Equal(3, request.Tests);
    }

    [Fact]
    public void AWaitThatOutlivesItsLimitThrowsNamingTheCollectiveAndMarksTheGroup()
    {
        var request = new FakeRequest(testsUntilDone: int.MaxValue);
        bool timedOut = false;
        var work = new Work(request, "Broadcast of 3 float32 on rank 1 of 4", TimeSpan.FromSeconds(10), onTimeout: () => timedOut = true);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<DistributedException>(() => work.Wait(TimeSpan.FromMilliseconds(200)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the wait took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.StartsWith("Broadcast of 3 float32 on rank 1 of 4 did not complete within 0.2 s", e.Message);
        Assert.Contains("same collectives in the same order", e.Message);
        Assert.True(timedOut);
        Assert.Equal(0, request.Releases);
    }
}
