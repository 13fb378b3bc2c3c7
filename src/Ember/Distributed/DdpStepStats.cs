namespace Ember.Distributed;

/// <summary>
/// Timings of one synchronised forward + backward of a <see cref="DistributedDataParallel"/> on this rank, in the
/// terms of PyTorch's DDP logger (<c>_get_ddp_logging_data()</c>: forward_compute_time, backward_compute_time,
/// backward_comm_time, backward_compute_comm_overlap_time). All times are wall seconds on this rank's clock.
/// </summary>
/// <param name="Buckets">How many gradient buckets were all-reduced.</param>
/// <param name="StartedDuringBackward">How many of them started from autograd hooks while backward was still running.</param>
/// <param name="Bytes">Bytes all-reduced: every trainable parameter's gradient once.</param>
/// <param name="ForwardSeconds">The wrapped module's forward.</param>
/// <param name="BackwardComputeSeconds">From the end of forward to the end of backward's computation (the loss is
/// included, as in PyTorch, which starts this clock when forward returns).</param>
/// <param name="CommunicationSeconds">Time during which at least one bucket's all-reduce was in flight (from its start to
/// its observed completion). PyTorch's backward_comm_time spans the first start to the last completion instead, which
/// also counts the gaps between buckets.</param>
/// <param name="OverlapSeconds">The part of <paramref name="CommunicationSeconds"/> before backward's computation ended.</param>
/// <param name="WaitSeconds">Time spent after backward waiting for all-reduces to complete (communication that
/// backward did not hide). Excludes the small all-reduce of <c>findUnusedParameters</c>.</param>
/// <param name="BucketSeconds">Each bucket's all-reduce, start to observed completion (completion is seen at a poll
/// from a later hook or in the final wait, so a bucket may be reported later than it finished).</param>
public sealed record DdpStepStats(
    int Buckets,
    int StartedDuringBackward,
    long Bytes,
    double ForwardSeconds,
    double BackwardComputeSeconds,
    double CommunicationSeconds,
    double OverlapSeconds,
    double WaitSeconds,
    IReadOnlyList<double> BucketSeconds)
{
    /// <summary>The fraction of <see cref="CommunicationSeconds"/> that did not make the step wait (1 when nothing was communicated).</summary>
    public double HiddenFraction => CommunicationSeconds > 0 ? Math.Clamp(1 - WaitSeconds / CommunicationSeconds, 0, 1) : 1;
}
