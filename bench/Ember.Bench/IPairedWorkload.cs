namespace Ember.Bench;

/// <summary>
/// One row of the side-by-side table: the same computation written in Ember and in TorchSharp.
/// Each Set-up method builds its inputs once and returns the action that is timed; TorchSharp actions dispose
/// what they create (a dispose scope), Ember's leave it to the GC, as each library is meant to be used.
/// </summary>
public interface IPairedWorkload
{
    /// <summary>The row label, e.g. "matmul 512²".</summary>
    string Name { get; }

    /// <summary>Floating-point operations per call, or 0 where GFLOP/s is not meaningful (memory-bound or overhead rows).</summary>
    double Flops { get; }

    /// <summary>
    /// Shortest timed sample in seconds (calls are batched until a sample lasts this long). The default 2 ms makes every
    /// call of 2 ms or more its own sample, the first after the 30 ms pause between samples. The memory-bound rows ask for
    /// 20 ms: their first call after a pause re-reads inputs that other processes evicted from the shared cache meanwhile
    /// and wakes parked worker threads, which measured up to twice a back-to-back call (16 MB copy: 2.9 vs 1.3 ms), so
    /// one call per sample timed the pause, not the op. Model and GEMM rows keep the default.
    /// </summary>
    double MinSampleSeconds => 0.002;

    /// <summary>Builds the Ember inputs and returns the timed action.</summary>
    Action SetUpEmber();

    /// <summary>Builds the TorchSharp inputs and returns the timed action (called only when the peer is loaded).</summary>
    Action SetUpTorch();

    /// <summary>
    /// Called once after both set-ups (only when the peer is loaded): runs each side once on the same input and throws
    /// if the results differ, so a row cannot silently time two different computations. Rows whose result is random
    /// (dropout, a training step's update) check what is deterministic about them, or nothing.
    /// </summary>
    void CheckSameWork() { }
}
