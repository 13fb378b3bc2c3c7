namespace Ember.Distributed;

/// <summary>How a collective combines the ranks' values (torch.distributed.ReduceOp).</summary>
public enum ReduceOp
{
    /// <summary>Element-wise sum.</summary>
    Sum,
    /// <summary>Element-wise mean over the ranks (sum, then divided by the world size; floating-point tensors only).</summary>
    Avg,
    /// <summary>Element-wise maximum.</summary>
    Max,
    /// <summary>Element-wise minimum.</summary>
    Min,
}
