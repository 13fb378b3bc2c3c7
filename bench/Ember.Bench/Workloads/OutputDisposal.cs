namespace Ember.Bench.Workloads;

/// <summary>
/// The Ember side of the rows whose TorchSharp side disposes its output on every call (<c>using var c = a.mul(v);</c>):
/// it disposes its output too (Tensor.Dispose), so both sides hand the buffer back at once and do the same work.
/// `compare --ember-keeps-outputs` leaves Ember's outputs to the collector instead, the form before session 28, for A/B.
/// </summary>
public static class OutputDisposal
{
    /// <summary>Whether the Ember side disposes each output (default); read when a row is set up.</summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>A timed call of <paramref name="op"/> that disposes its result when <see cref="Enabled"/>.</summary>
    public static Action Call(Func<Tensor> op) => Enabled ? () => { using var output = op(); } : () => op();
}
