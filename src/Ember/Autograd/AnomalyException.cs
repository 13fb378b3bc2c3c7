namespace Ember.Autograd;

/// <summary>
/// Thrown by backward under <see cref="AnomalyMode"/> when a node returned NaN or Inf gradients: names the node
/// (PyTorch-style, e.g. "SqrtBackward0"), which of its outputs, and the user's line whose forward call created it.
/// </summary>
public sealed class AnomalyException(string nodeName, int outputIndex, string kind, string creationSite, string? forwardTrace)
    : InvalidOperationException($"Function '{nodeName}' returned {kind} values in its {outputIndex}th output. " +
        $"Forward call that created it: {creationSite}" + (forwardTrace is null ? "" : $"\nForward trace:\n{forwardTrace}"))
{
    /// <summary>The node whose backward produced the values, e.g. "SqrtBackward0".</summary>
    public string NodeName { get; } = nodeName;

    /// <summary>Which gradient of the node (its input index in forward).</summary>
    public int OutputIndex { get; } = outputIndex;

    /// <summary>"nan" or "inf".</summary>
    public string Kind { get; } = kind;

    /// <summary>The first frame of the forward's stack outside Ember ("Type.Method in file:line N").</summary>
    public string CreationSite { get; } = creationSite;

    /// <summary>The full stack trace of the forward call, when the node was created in anomaly mode.</summary>
    public string? ForwardTrace { get; } = forwardTrace;
}
