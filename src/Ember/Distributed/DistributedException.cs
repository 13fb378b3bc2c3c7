namespace Ember.Distributed;

/// <summary>
/// A distributed-training failure: MPI missing or failing, a collective that timed out (a peer rank died or stopped
/// calling collectives), or ranks that disagree (mismatched models). The message names the rank and the operation.
/// </summary>
public sealed class DistributedException : Exception
{
    /// <summary>An error with its message.</summary>
    public DistributedException(string message) : base(message) { }

    /// <summary>An error with its message and cause.</summary>
    public DistributedException(string message, Exception inner) : base(message, inner) { }
}
