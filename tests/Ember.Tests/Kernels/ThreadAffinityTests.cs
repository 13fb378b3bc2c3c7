using Ember.Kernels.Threading;

namespace Ember.Tests.Kernels;

/// <summary>
/// <see cref="ThreadAffinity"/>: a pinned thread may run on exactly the CPU asked for, and the worker pool's helper is
/// pinned off slot 0, as the kernel itself reports it (/proc, Linux only; elsewhere pinning is a no-op).
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
    public void PoolHelper_IsPinnedToSlotOne()
    {
        if (!OperatingSystem.IsLinux() || ThreadAffinity.Allowed.Length != 2) return;
        int saved = ParallelRange.MaxThreads;
        ParallelRange.MaxThreads = 2;
        try
        {
            int[] hits = new int[8];
            ParallelRange.For(8, 1, new Touch(hits)); // starts the helper if no earlier test did
        }
        finally { ParallelRange.MaxThreads = saved; }
        string? found = null;
        foreach (string task in Directory.GetDirectories("/proc/self/task"))
        {
            string comm;
            try { comm = File.ReadAllText(Path.Combine(task, "comm")).Trim(); }
            catch (IOException) { continue; } // the thread ended
            if (comm == "Ember worker 1") found = AllowedList(File.ReadAllLines(Path.Combine(task, "status")));
        }
        Assert.Equal(ThreadAffinity.Allowed[1].ToString(), found);
    }

    readonly struct Touch(int[] hits) : IRangeAction
    {
        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++) hits[i]++;
        }
    }

    static string? AllowedList(string[] status)
    {
        foreach (string line in status)
            if (line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)) return line["Cpus_allowed_list:".Length..].Trim();
        return null;
    }
}
