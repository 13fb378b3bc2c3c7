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
    [Fact]
    public void PoolHelper_IsPinnedOffTheCallersCpu()
    {
        if (!OperatingSystem.IsLinux() || ThreadAffinity.Allowed.Length != 2) return;
        foreach (int slot in new[] { 0, 1, 0 })
        {
            int callerCpu = ThreadAffinity.Allowed[slot];
            // The helper joins unless another test's job holds the pool (then the job runs serially): try again.
            string? helperList = null;
            for (int attempt = 0; attempt < 25 && helperList is null; attempt++) helperList = RunFromCallerOn(slot);
            Assert.Equal(ThreadAffinity.Allowed[1 - slot].ToString(), helperList);
            Assert.NotEqual(callerCpu.ToString(), helperList);
        }
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
