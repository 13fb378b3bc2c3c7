using Ember.Kernels.Threading;

namespace Ember.Tests.Kernels;

/// <summary>
/// <see cref="ThreadAffinity"/>: a pinned thread may run on exactly the CPU asked for, and the worker pool's helper is
/// pinned off the CPU its caller runs on, whichever that is, as the kernel itself reports it (/proc, Linux only; elsewhere pinning is a no-op).
/// </summary>
[Collection(KernelSettingsCollection.Name)]
public sealed class ThreadAffinityTests
{
    [Fact]
    public void PinnedThread_IsAllowedOnlyItsCpu()
    {
        if (!OperatingSystem.IsLinux() || ThreadAffinity.Allowed.Length < 2) return; // nothing to pin on this machine
        int expected = ThreadAffinity.Allowed[1];
        string? list = null;
        bool pinned = false;
        var thread = new Thread(() =>
        {
            pinned = ThreadAffinity.TryPinCurrentThread(1);
            list = AllowedList(File.ReadAllLines("/proc/thread-self/status"));
        });
        thread.Start();
        thread.Join();
        Assert.True(pinned, "sched_setaffinity failed");
        Assert.Equal(expected.ToString(), list);
    }

    // On a 2-CPU machine (this one) 2 threads cover every CPU, so the helper is pinned whichever test started it; on a
    // larger one that depends on the thread count when it was started, so only the 2-CPU case is asserted.
    // The pool is first grown past the CPU count, as an earlier test with 3 threads (ConvKernelTests) leaves it when it
    // runs first: then no CPU is free of helpers, and before the fix the one-helper job found its helper on its caller's
    // CPU with nowhere to move it (and a helper woken late for the 3-thread job could join it instead). Growing it here
    // makes the state the same whatever ran before, and every helper has started, so none pins itself afterwards.
    [Fact]
    public void PoolHelper_IsPinnedOffTheCallersCpu()
    {
        if (!OperatingSystem.IsLinux() || ThreadAffinity.Allowed.Length != 2) return;
        GrowPool(ThreadAffinity.Allowed.Length + 1);
        foreach (int slot in new[] { 0, 1, 0, 1 })
        {
            int callerCpu = ThreadAffinity.Allowed[slot];
            // The helper joins unless its wake-up is later than the job (qemu): try again.
            string? helperList = null;
            for (int attempt = 0; attempt < 25 && helperList is null; attempt++) helperList = RunFromCallerOn(slot);
            Assert.Equal(ThreadAffinity.Allowed[1 - slot].ToString(), helperList);
            Assert.NotEqual(callerCpu.ToString(), helperList);
        }
    }

    // Runs one job of `threads` threads (the pool keeps every helper it starts), then waits until every helper has started.
    static void GrowPool(int threads)
    {
        int saved = ParallelRange.MaxThreads;
        try
        {
            ParallelRange.MaxThreads = threads;
            ParallelRange.For(threads, 1, new WaitForPartner(-1, new string?[1], new int[1]));
        }
        finally { ParallelRange.MaxThreads = saved; }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!WorkerPool.HelpersStarted && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(1);
        Assert.True(WorkerPool.HelpersStarted, "the pool's helpers did not start within 30 s");
    }

    // The placement rule alone (CPUs 0 and 1 allowed): which of the job's helpers to move off the caller's CPU, and where.
    [Theory]
    [InlineData(new[] { 1 }, 1, 1, 0, 0)]        // the usual case: the caller moved onto its helper's CPU
    [InlineData(new[] { 1 }, 1, 0, -1, -1)]      // already apart
    [InlineData(new[] { -1 }, 1, 0, -1, -1)]     // unpinned (a share of the machine): nothing to do
    [InlineData(new[] { 1, 0 }, 1, 1, 0, 0)]     // a pool grown past the CPUs: the idle helper's CPU is taken (before: no move)
    [InlineData(new[] { 0, 1 }, 1, 1, -1, -1)]   // the job's helper is elsewhere; the idle one on the caller's CPU stays idle
    [InlineData(new[] { 1, 0 }, 2, 1, -1, -1)]   // 3 threads on 2 CPUs: every other CPU holds one of the job's helpers
    [InlineData(new[] { 1, 1 }, 2, 1, 0, 0)]     // the first stacked one moves to the free CPU
    public void Relocation_MovesTheJobsHelperOffTheCallersCpu(int[] helperCpus, int jobHelpers, int callerCpu, int expectedHelper, int expectedTarget)
    {
        int helper = WorkerPool.Relocation(helperCpus, jobHelpers, callerCpu, [0, 1], out int target);
        Assert.Equal((expectedHelper, expectedTarget), (helper, target));
    }

    // Runs a 2-chunk job from a new thread pinned to allowed CPU `slot`; the first chunk waits until the second has
    // started (for at most 200 ms), so the helper runs the other one, and that chunk reads the helper's allowed CPUs from
    // inside the job, while the caller holds the pool and no other job can move the helper. The helper's list, or null
    // if it did not join.
    static string? RunFromCallerOn(int slot)
    {
        string? helperList = null;
        Exception? error = null;
        var caller = new Thread(() =>
        {
            int saved = ParallelRange.MaxThreads;
            try
            {
                Assert.True(ThreadAffinity.TryPinCurrentThread(slot), "sched_setaffinity failed");
                ParallelRange.MaxThreads = 2;
                var job = new WaitForPartner(Environment.CurrentManagedThreadId, new string?[1], new int[1]);
                ParallelRange.For(2, 1, job);
                helperList = job.HelperList[0];
            }
            catch (Exception e) { error = e; }
            finally { ParallelRange.MaxThreads = saved; }
        });
        caller.Start();
        caller.Join();
        if (error is not null) throw new InvalidOperationException("the caller thread failed", error);
        return helperList;
    }

    readonly struct WaitForPartner(int callerId, string?[] helperList, int[] started) : IRangeAction
    {
        public string?[] HelperList => helperList;

        public void Invoke(int start, int end)
        {
            Interlocked.Increment(ref started[0]);
            if (Environment.CurrentManagedThreadId != callerId)
                helperList[0] = AllowedList(File.ReadAllLines("/proc/thread-self/status"));
            // Bounded: a helper that does not join leaves the list null.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref started[0]) < 2 && clock.ElapsedMilliseconds < 200) Thread.Yield();
        }
    }

    static string? AllowedList(string[] status)
    {
        foreach (string line in status)
            if (line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)) return line["Cpus_allowed_list:".Length..].Trim();
        return null;
    }
}
