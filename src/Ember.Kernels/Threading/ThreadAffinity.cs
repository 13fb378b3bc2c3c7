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
/// time on 2 threads. A worker pinned to a CPU of its own cannot be stacked on the caller's. (The processor ids were
/// read on a loaded machine; a quiet A/B of the GEMM rows is still to be run.)
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
        int cpu = allowed[slot % allowed.Length];
        ulong* mask = stackalloc ulong[MaskWords];
        new Span<ulong>(mask, MaskWords).Clear();
        mask[cpu / 64] |= 1UL << (cpu % 64);
        try { return sched_setaffinity(0, MaskWords * sizeof(ulong), mask) == 0; }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; }
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
}
