using System.Runtime.InteropServices;

namespace Ember.Kernels.Threading;

/// <summary>
/// Pins the calling thread to one of the CPUs the process may use (Linux sched_setaffinity; elsewhere a no-op).
/// </summary>
/// <remarks>
/// Why: Linux may place a woken thread on its waker's CPU (wake-affine) and leave it there until the load balancer moves
/// it, so a caller and its worker can share one core. On the 2-vCPU KVM machine (2026-12-03) two FMA loops started
/// together reported the same processor id and ran one after the other, the bench's quiet runs printed the same FMA peak
/// on 2 threads as on 1 (221 and 226 GFLOP/s), and the mid-size GEMMs (0.1–1 ms) used about as much CPU time as wall
/// time on 2 threads. A worker pinned to a CPU of its own cannot be stacked on the caller's, as long as the caller
/// stays off that CPU: it is not pinned, so the pool moves the helper when the caller moves (WorkerPool.FollowCaller).
/// </remarks>
internal static unsafe class ThreadAffinity
{
    const int MaskWords = 16; // 1024 CPUs, glibc's cpu_set_t

    static readonly int[] allowed = ReadAllowed();

    /// <summary>The CPUs the process may run on, in order; empty where that is unknown (not Linux, or the call failed).</summary>
    internal static ReadOnlySpan<int> Allowed => allowed;

    /// <summary>
    /// Pins the calling thread to the allowed CPU number <paramref name="slot"/> (wrapping around); false, leaving it
    /// unpinned, where the process may use a single CPU or affinity is not available.
    /// </summary>
    public static bool TryPinCurrentThread(int slot)
    {
        if (allowed.Length < 2 || slot < 0) return false;
        return TryPinThread(0, allowed[slot % allowed.Length]);
    }

    /// <summary>
    /// Pins the thread with kernel id <paramref name="threadId"/> (0: the calling thread) to CPU number
    /// <paramref name="cpu"/>; false where that fails or affinity is not available. A thread pinned while blocked runs on
    /// that CPU when it next wakes.
    /// </summary>
    public static bool TryPinThread(int threadId, int cpu)
    {
        if (allowed.Length < 2 || cpu < 0 || cpu >= MaskWords * 64) return false;
        ulong* mask = stackalloc ulong[MaskWords];
        new Span<ulong>(mask, MaskWords).Clear();
        mask[cpu / 64] |= 1UL << (cpu % 64);
        try { return sched_setaffinity(threadId, MaskWords * sizeof(ulong), mask) == 0; }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; }
    }

    /// <summary>The CPU the calling thread is running on (it may move at any time), or -1 where that is unknown.</summary>
    public static int CurrentCpu()
    {
        if (allowed.Length < 2) return -1;
        try { return sched_getcpu(); }
        catch (DllNotFoundException) { return -1; }
        catch (EntryPointNotFoundException) { return -1; }
    }

    /// <summary>The calling thread's kernel id (for <see cref="TryPinThread"/>), or 0 where that is unknown.</summary>
    public static int CurrentThreadId()
    {
        if (allowed.Length < 2) return 0;
        try { return Math.Max(0, gettid()); }
        catch (DllNotFoundException) { return 0; }
        catch (EntryPointNotFoundException) { return 0; } // glibc before 2.30
    }

    static int[] ReadAllowed()
    {
        if (!OperatingSystem.IsLinux()) return [];
        ulong* mask = stackalloc ulong[MaskWords];
        try
        {
            if (sched_getaffinity(0, MaskWords * sizeof(ulong), mask) != 0) return [];
        }
        catch (DllNotFoundException) { return []; }
        catch (EntryPointNotFoundException) { return []; }
        var cpus = new List<int>();
        for (int cpu = 0; cpu < MaskWords * 64; cpu++)
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0) cpus.Add(cpu);
        return [.. cpus];
    }

    // pid 0: the calling thread.
    [DllImport("libc", SetLastError = true)]
    static extern int sched_setaffinity(int pid, nint size, ulong* mask);

    [DllImport("libc", SetLastError = true)]
    static extern int sched_getaffinity(int pid, nint size, ulong* mask);

    // Both only read the calling thread's state and never block, so they skip the GC transition (a few ns, not ~20).
    [DllImport("libc"), SuppressGCTransition]
    static extern int sched_getcpu();

    [DllImport("libc"), SuppressGCTransition]
    static extern int gettid();
}
