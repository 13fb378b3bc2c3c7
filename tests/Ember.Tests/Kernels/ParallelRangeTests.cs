using Ember.Kernels.Threading;

namespace Ember.Tests.Kernels;

/// <summary>
/// <see cref="ParallelRange"/> over the persistent <c>WorkerPool</c>: every index runs once whether the workers are
/// still spinning from the last job or have blocked, and a failing chunk is rethrown without breaking the pool.
/// </summary>
[Collection(KernelSettingsCollection.Name)]
public sealed class ParallelRangeTests
{
    // Each index adds its own bit pattern, so a chunk run twice or skipped changes the sum.
    readonly struct Mark(int[] hits) : IRangeAction
    {
        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
        }
    }

    readonly struct FailAt(int bad) : IRangeAction
    {
        public void Invoke(int start, int end)
        {
            if (start <= bad && bad < end) throw new InvalidOperationException($"chunk {start}..{end} failed");
        }
    }

    // Back-to-back jobs find the workers spinning; pauses longer than the spin find them blocked. A lost wake-up would
    // hang, so the jobs run on a task with a deadline.
    [Theory]
    [InlineData(0)]
    [InlineData(WorkerPoolSpinMs * 3)]
    public async Task EveryIndexRunsOnce_SpinningOrBlockedWorkers(int pauseMs)
    {
        int saved = ParallelRange.MaxThreads;
        ParallelRange.MaxThreads = Math.Max(2, Environment.ProcessorCount);
        try
        {
            var run = Task.Run(() =>
            {
                for (int job = 0; job < (pauseMs == 0 ? 2000 : 40); job++)
                {
                    int count = 1 + job % 97;
                    int[] hits = new int[count];
                    ParallelRange.For(count, 1 + job % 5, new Mark(hits));
                    for (int i = 0; i < count; i++)
                        Assert.True(hits[i] == 1, $"job {job}: index {i} of {count} ran {hits[i]} times");
                    if (pauseMs > 0) Thread.Sleep(pauseMs);
                }
            });
            // WaitAsync throws TimeoutException if a job never returns.
            await run.WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally { ParallelRange.MaxThreads = saved; }
    }

    [Fact]
    public void ChunkException_IsRethrown_AndPoolStillWorks()
    {
        int saved = ParallelRange.MaxThreads;
        ParallelRange.MaxThreads = 2;
        try
        {
            foreach (int bad in new[] { 0, 7 })
            {
                var error = Assert.Throws<InvalidOperationException>(() => ParallelRange.For(8, 1, new FailAt(bad)));
                Assert.Contains($"chunk {bad}..{bad + 1}", error.Message);
            }
            int[] hits = new int[64];
            ParallelRange.For(64, 4, new Mark(hits));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
        finally { ParallelRange.MaxThreads = saved; }
    }

    // Records which thread ran each index.
    readonly struct RecordThread(int[] ids) : IRangeAction
    {
        public void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++) ids[i] = Environment.CurrentManagedThreadId;
        }
    }

    readonly struct SpinThenMark(int[] marks) : IRangeAction
    {
        public void Invoke(int start, int end)
        {
            Thread.SpinWait(start == 0 ? 20 : 200);
            for (int i = start; i < end; i++) Volatile.Write(ref marks[i], 1);
        }
    }

    // A helper that joins just after the caller's share returns finishes at once and signals completion; the caller may have
    // seen the count reach zero already and moved on, so that signal used to land in the NEXT job and end its wait while its
    // helper was still running a chunk (the pool then cleared the job's state under it: a NullReferenceException inside the
    // GEMM). Every job must return only after all its chunks have run.
    [Fact]
    public void A_job_returns_only_after_every_chunk_has_run()
    {
        int saved = ParallelRange.MaxThreads;
        ParallelRange.MaxThreads = 2;
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int jobs = 0;
            while (clock.ElapsedMilliseconds < 2000)
            {
                var marks = new int[3];
                ParallelRange.For(3, 1, new SpinThenMark(marks));
                jobs++;
                for (int i = 0; i < marks.Length; i++)
                    Assert.True(Volatile.Read(ref marks[i]) == 1, $"job {jobs}: chunk {i} had not run when For returned");
            }
        }
        finally { ParallelRange.MaxThreads = saved; }
    }

    // A helper that has not joined when the caller has claimed every chunk is not waited for: with the helper held back
    // (as a slow wake-up would), the caller runs every chunk itself and returns; before, it waited for the helper to wake,
    // so this test hung until its deadline. Once released, the late helper must not run the finished job again, and the
    // next jobs use it as usual.
    [Fact]
    public async Task LateHelper_IsNotWaitedFor_AndJoinsLaterJobs()
    {
        int saved = ParallelRange.MaxThreads;
        ParallelRange.MaxThreads = 2;
        using var hold = new ManualResetEventSlim(false);
        WorkerPool.HelperHold = hold;
        try
        {
            var run = Task.Run(() =>
            {
                int caller = Environment.CurrentManagedThreadId;
                for (int job = 0; job < 3; job++)
                {
                    int[] ids = new int[16];
                    int[] hits = new int[16];
                    ParallelRange.For(16, 2, new RecordThread(ids));
                    ParallelRange.For(16, 2, new Mark(hits));
                    Assert.All(ids, id => Assert.Equal(caller, id));
                    Assert.All(hits, h => Assert.Equal(1, h));
                }
            });
            await run.WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            WorkerPool.HelperHold = null;
            hold.Set();
            ParallelRange.MaxThreads = saved;
        }
        // Released: the helper finds the old jobs' seats taken back, and later jobs still run every index exactly once.
        for (int job = 0; job < 200; job++)
        {
            int[] hits = new int[64];
            ParallelRange.For(64, 1, new Mark(hits));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    // The pool's spin in whole milliseconds, at least 1.
    const int WorkerPoolSpinMs = (WorkerPool.SpinMicroseconds + 999) / 1000;
}
