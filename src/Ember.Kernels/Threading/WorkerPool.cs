using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Ember.Kernels.Threading;

/// <summary>
/// Persistent worker threads for <see cref="ParallelRange"/>. A waiting thread spins for a bounded time
/// (<see cref="SpinMicroseconds"/>) and then blocks, so back-to-back kernels find the workers awake (waking one costs
/// well under a microsecond) while an idle pool costs no CPU. One job runs at a time: a caller that finds the pool
/// busy, or calls from inside a job, runs serially. A helper joins a job that asked for it by claiming one of its
/// seats; when the caller's own share of the body returns (every chunk claimed), it takes back the seats no helper has
/// claimed and waits only for the helpers that joined.
/// </summary>
/// <remarks>
/// The spin is a plain pause loop against a clock, not <see cref="ManualResetEventSlim"/>'s own spinning: that one
/// yields the core (sched_yield, Sleep(0)) on most of its iterations, so a SpinCount of 1000 kept each worker busy
/// for about a millisecond after every job (small GEMMs used 2–3× their wall time in CPU time) and, on a loaded
/// machine, handed the core to other processes for whole time slices.
/// </remarks>
internal static class WorkerPool
{
    /// <summary>
    /// How long a waiting thread spins before it blocks: a few times what a futex wake-up costs (5–20 µs on a VM),
    /// so spinning never wastes much more than blocking would have cost, and gaps of a few microseconds between the
    /// kernels of a training step keep the workers awake.
    /// </summary>
    internal const int SpinMicroseconds = 50;

    static readonly long spinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

    static readonly object gate = new();
    // Spin count 0: the waits below do their own bounded spin before they block.
    static readonly ManualResetEventSlim done = new(false, 0);
    static ManualResetEventSlim[] wakes = [];
    // Per helper: its kernel thread id and the CPU it is pinned to (see Helper).
    static Helper[] placements = [];
    // The CPU the last job's caller ran on, and the helpers placed for it, when the helpers were last placed (see FollowCaller).
    static int callerCpu = -1;
    static int placedFor = -1;
    static Action? current;
    // The running job's seats (0 between jobs): the low 32 bits count those not yet claimed by a helper, the high 32 bits
    // say how many helpers the job asked for. A helper joins only a job that asked for it (index below that count), so one
    // woken late for an earlier, larger job never joins on a CPU that FollowCaller did not place for this one.
    static long seats;
    // Helpers that joined and are still running plus seats not yet settled (see RunAndExit).
    static int pending;
    static Exception? failure;

    /// <summary>
    /// Tests only: when set, a woken helper waits for it before it tries to join, which stands in for a helper whose
    /// wake-up the scheduler delays (a blocked thread on an idle virtual CPU can take far longer than a small job).
    /// </summary>
    internal static ManualResetEventSlim? HelperHold;

    [ThreadStatic]
    static bool insideJob;

    /// <summary>Takes the pool for one job; false when it is busy or the caller is already inside a job.</summary>
    public static bool TryEnter() => !insideJob && Monitor.TryEnter(gate);

    /// <summary>
    /// Runs <paramref name="body"/> on the calling thread and on <paramref name="helpers"/> workers at once, waits for
    /// all of them, runs <paramref name="cleanup"/> (still holding the pool, so it cannot race the next job), rethrows
    /// the first exception, and releases the pool taken by <see cref="TryEnter"/>.
    /// </summary>
    public static void RunAndExit(Action body, Action cleanup, int helpers)
    {
        try
        {
            EnsureWorkers(helpers);
            FollowCaller(helpers);
            current = body;
            failure = null;
            pending = helpers;
            done.Reset();
            // A helper reads current only after claiming a seat, so the seats are published last (Exchange is a full fence).
            Interlocked.Exchange(ref seats, ((long)helpers << 32) | (uint)helpers);
            for (int i = 0; i < helpers; i++) wakes[i].Set();
            Invoke(body);
            // The body returns once every chunk is claimed, so a helper that has not joined yet would find nothing to do:
            // take its seat back instead of waiting for it to wake (after a pause the helpers are blocked, and on a
            // virtual machine the wake-up of an idle core can take longer than the whole job). Only the joined ones are
            // waited for; the last of them, or this subtraction, brings pending to zero.
            int unclaimed = (int)Interlocked.Exchange(ref seats, 0);
            if (helpers > 0 && Interlocked.Add(ref pending, -unclaimed) != 0) WaitForJoinedHelpers();
            current = null;
            cleanup();
            if (failure is { } error)
            {
                failure = null;
                ExceptionDispatchInfo.Throw(error);
            }
        }
        finally
        {
            Monitor.Exit(gate);
        }
    }

    /// <summary>
    /// Waits until <see cref="pending"/> is zero. The count, not the event, is the truth: a helper that joins after this
    /// caller's share returned may bring the count to zero just before the caller's subtraction reads it, and then sets
    /// <see cref="done"/> when the caller has already moved on, possibly after the next job's Reset. A wake-up that finds
    /// helpers still running is such a stale signal: reset it and wait again (the count is read after the reset, so a
    /// helper finishing in between is not missed).
    /// </summary>
    static void WaitForJoinedHelpers()
    {
        while (Volatile.Read(ref pending) != 0)
        {
            SpinThenWait(done);
            if (Volatile.Read(ref pending) != 0) done.Reset();
        }
    }

    /// <summary>
    /// Waits for <paramref name="signal"/>: pause instructions with a look at the flag every ~0.1 µs and a
    /// <see cref="Thread.Yield"/> every ~1 µs, for at most <see cref="SpinMicroseconds"/>; then a blocking wait.
    /// </summary>
    /// <remarks>
    /// The yields matter on a loaded machine, where the scheduler often queues the caller and the worker on the same
    /// core: a pure pause loop then holds the core its partner needs for the whole spin (every round trip measured
    /// spin + 10 µs), while yielding every microsecond hands it over (4 µs round trips). On an idle core a yield
    /// returns at once.
    /// </remarks>
    static void SpinThenWait(ManualResetEventSlim signal)
    {
        if (signal.IsSet) return;
        long deadline = Stopwatch.GetTimestamp() + spinTicks;
        while (true)
        {
            for (int i = 0; i < 8; i++)
            {
                Thread.SpinWait(4);
                if (signal.IsSet) return;
            }
            if (Stopwatch.GetTimestamp() >= deadline) break;
            Thread.Yield();
            if (signal.IsSet) return;
        }
        signal.Wait();
    }

    static void Invoke(Action body)
    {
        insideJob = true;
        try { body(); }
        catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
        finally { insideJob = false; }
    }

    static void EnsureWorkers(int count)
    {
        if (wakes.Length >= count) return;
        var grown = new ManualResetEventSlim[count];
        var grownHelpers = new Helper[count];
        // Pinned only when the thread count covers every CPU the process may use: a process given a share of the machine
        // (an MPI rank with cores / N threads) would otherwise stack its helpers on the same CPUs as its siblings'.
        bool pin = ParallelRange.MaxThreads >= ThreadAffinity.Allowed.Length;
        wakes.CopyTo(grown, 0);
        placements.CopyTo(grownHelpers, 0);
        for (int i = wakes.Length; i < count; i++)
        {
            grown[i] = new ManualResetEventSlim(false, 0);
            grownHelpers[i] = new Helper();
            new Thread(WorkerLoop) { IsBackground = true, Name = $"Ember worker {i + 1}" }.Start(new WorkerStart(grown[i], grownHelpers[i], i, pin ? i + 1 : -1));
        }
        placements = grownHelpers;
        wakes = grown;
    }

    /// <summary>
    /// Moves the job's helper pinned to the caller's current CPU, if any, to another allowed CPU, so that the caller and
    /// a helper never share a core while another idles. The helpers start pinned to slots 1, 2, … on the assumption that
    /// the caller runs on slot 0, but the caller is not pinned: the scheduler moves it, e.g. onto the helper's CPU when
    /// the helper's signal wakes it (wake-affine), and it stays there across the next jobs. On the 2-vCPU machine that
    /// left the 256² and 512² GEMMs of the quiet bench using one core (process CPU time equal to wall time) while the
    /// peer's unpinned threads used 1.6. One sched_getcpu per job (a few ns); more only when the caller has moved (or,
    /// in a pool with more helpers than other CPUs, the job asks for another number of them).
    /// </summary>
    /// <remarks>
    /// Nothing is placed, and nothing remembered, while a helper is still starting: it pins itself to its slot when it
    /// starts, which may be the caller's CPU. Remembering the CPU then (as this did before) skipped every later job
    /// from that caller, so a caller that stayed on that CPU (a pinned thread does) shared it with its helper for good.
    /// Only the job's own helpers count: a pool grown by an earlier job with more threads than CPUs has no CPU free of
    /// helpers, and moving whichever helper sat there last (as before) could leave the job's own helper beside the caller.
    /// </remarks>
    static void FollowCaller(int helpers)
    {
        int cpu = ThreadAffinity.CurrentCpu();
        if (cpu < 0) return;
        Helper[] all = placements;
        // With no more helpers than the other CPUs, keeping all of them off the caller's CPU suits a job of any size; a
        // pool grown past that (a job once ran more threads than CPUs) is placed for the job at hand.
        int placing = all.Length < ThreadAffinity.Allowed.Length ? all.Length : helpers;
        if (cpu == callerCpu && placing == placedFor) return;
        Span<int> cpus = stackalloc int[all.Length];
        for (int i = 0; i < all.Length; i++)
        {
            if (!all[i].Started) return; // placed on a later job
            cpus[i] = all[i].Cpu;
        }
        int move = Relocation(cpus, placing, cpu, ThreadAffinity.Allowed, out int target);
        if (move >= 0 && all[move].ThreadId != 0 && ThreadAffinity.TryPinThread(all[move].ThreadId, target)) all[move].Cpu = target;
        callerCpu = cpu;
        placedFor = placing;
    }

    /// <summary>
    /// Which of the job's helpers (the first <paramref name="jobHelpers"/> of <paramref name="helperCpus"/>, the CPU each
    /// is pinned to, -1 unpinned) to move off <paramref name="callerCpu"/>, and where: -1 when none is on it, or when
    /// every other allowed CPU holds one of the job's helpers. The target is an allowed CPU no helper holds, else one
    /// held only by helpers this job leaves idle (a pool grown by an earlier job with more threads than CPUs).
    /// </summary>
    internal static int Relocation(ReadOnlySpan<int> helperCpus, int jobHelpers, int callerCpu, ReadOnlySpan<int> allowed, out int target)
    {
        target = -1;
        int jobCount = Math.Min(jobHelpers, helperCpus.Length);
        int stacked = helperCpus[..jobCount].IndexOf(callerCpu);
        if (stacked < 0) return -1;
        foreach (int cpu in allowed)
            if (cpu != callerCpu && !helperCpus.Contains(cpu)) { target = cpu; return stacked; }
        foreach (int cpu in allowed)
            if (cpu != callerCpu && !helperCpus[..jobCount].Contains(cpu)) { target = cpu; return stacked; }
        return -1;
    }

    /// <summary>
    /// A helper's kernel thread id (0 where that is unknown), the CPU it is pinned to (-1: not pinned), and whether it has
    /// started (set last, after its own pinning: until then its CPU may still change).
    /// </summary>
    sealed class Helper
    {
        public int ThreadId;
        public int Cpu = -1;
        public volatile bool Started;
    }

    // A worker's wake-up event, its placement record, its index among the helpers, and the CPU slot it is first pinned to
    // (the caller usually runs on slot 0; -1: not pinned).
    sealed record WorkerStart(ManualResetEventSlim Wake, Helper Helper, int Index, int Slot);

    static void WorkerLoop(object? state)
    {
        var (wake, helper, index, slot) = (WorkerStart)state!;
        // Kept off the caller's CPU: see FollowCaller. Started is set after the CPU and the thread id, so the caller
        // only places helpers whose own pinning is done.
        if (ThreadAffinity.TryPinCurrentThread(slot))
            helper.Cpu = ThreadAffinity.Allowed[slot % ThreadAffinity.Allowed.Length];
        helper.ThreadId = ThreadAffinity.CurrentThreadId();
        helper.Started = true;
        while (true)
        {
            SpinThenWait(wake);
            // Reset before claiming: a Set for the next job comes after its seats are published, so if this Reset erased
            // it, the claim below already sees that job's seats and no job is missed.
            wake.Reset();
            HelperHold?.Wait();
            if (!TryClaimSeat(index)) continue; // late: the caller finished this job without us, or this job did not ask for us
            Invoke(current!);
            if (Interlocked.Decrement(ref pending) == 0) done.Set();
        }
    }

    static bool TryClaimSeat(int index)
    {
        long s = Volatile.Read(ref seats);
        while ((int)s > 0 && index < (int)(s >> 32))
        {
            long seen = Interlocked.CompareExchange(ref seats, s - 1, s);
            if (seen == s) return true;
            s = seen;
        }
        return false;
    }

    /// <summary>Tests only: whether every helper started so far has pinned itself and published its thread.</summary>
    internal static bool HelpersStarted
    {
        get
        {
            foreach (Helper h in placements)
                if (!h.Started) return false;
            return true;
        }
    }
}
