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
