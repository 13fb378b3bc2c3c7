using System.Diagnostics;

namespace Ember.Distributed;

/// <summary>
/// A started collective (torch.distributed.Work, the handle an <c>async_op=True</c> call returns): poll
/// <see cref="IsCompleted"/> or block in <see cref="Wait()"/>. Waiting is bounded by the process group's timeout, so a
/// peer that died or stopped calling collectives gives a <see cref="DistributedException"/> instead of a hang.
/// </summary>
public sealed class Work
{
    internal interface IRequest
    {
        /// <summary>One non-blocking completion check (it also drives MPI's progress engine).</summary>
        bool Test();

        /// <summary>Frees what the request holds (pinned buffers); called once, after completion.</summary>
        void Release();
    }

    readonly IRequest? request;
    readonly Action? onCompleted;
    readonly string description;
    readonly TimeSpan timeout;
    readonly Action? onTimeout;
    bool completed;

    internal Work(IRequest? request, string description, TimeSpan timeout, Action? onCompleted = null, Action? onTimeout = null)
    {
        this.request = request;
        this.description = description;
        this.timeout = timeout;
        this.onCompleted = onCompleted;
        this.onTimeout = onTimeout;
        if (request is null) Complete();
    }

    /// <summary>What the collective is, e.g. "AllReduce(sum) of 1024 float32 on rank 0 of 2".</summary>
    public string Description => description;

    /// <summary>True once the collective has finished (and its result is in place); checks without blocking (is_completed).</summary>
    public bool IsCompleted
    {
        get
        {
            if (!completed && request!.Test()) Complete();
            return completed;
        }
    }

    /// <summary>Blocks until the collective finishes, at most the process group's timeout (wait).</summary>
    public void Wait() => Wait(timeout);

    /// <summary>Blocks until the collective finishes or <paramref name="limit"/> passes (then throws).</summary>
    public void Wait(TimeSpan limit)
    {
        if (completed) return;
        var clock = Stopwatch.StartNew();
        for (int spins = 0; !request!.Test(); spins++)
        {
            if (clock.Elapsed > limit)
            {
                onTimeout?.Invoke();
                throw new DistributedException(
                    $"{description} did not complete within {limit.TotalSeconds:0.###} s: a peer rank may have failed, or the ranks " +
                    "called different collectives (every rank must call the same collectives in the same order)");
            }
            // Each test drives MPI's progress (a non-blocking collective advances a round per call), so keep testing;
            // yield so a peer rank sharing the core can run; sleep only once the wait is clearly long (a straggler or a
            // lost peer), where a millisecond per round no longer matters.
            if (spins < 64) Thread.SpinWait(32);
            else if (clock.ElapsedMilliseconds < 1000) Thread.Yield();
            else Thread.Sleep(1);
        }
        Complete();
    }

    void Complete()
    {
        if (completed) return;
        completed = true;
        request?.Release();
        onCompleted?.Invoke();
    }
}
