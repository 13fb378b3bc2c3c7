namespace Ember.Nn.Layers;

/// <summary>
/// Shared state of batch and instance normalization (torch.nn.modules.batchnorm._NormBase): the affine weight (1) and
/// bias (0), and, when tracking, the buffers running_mean (0), running_var (1) and num_batches_tracked (int64 0).
/// </summary>
public abstract class NormBase : Module
{
    /// <summary>Channels C.</summary>
    public int NumFeatures { get; }
    /// <summary>Added to the variance for stability.</summary>
    public double Eps { get; }
    /// <summary>Running-statistics momentum; null means a cumulative moving average (1/num_batches_tracked).</summary>
    public double? Momentum { get; }
    /// <summary>Whether weight and bias exist.</summary>
    public bool Affine { get; }
    /// <summary>Whether running statistics are kept.</summary>
    public bool TrackRunningStats { get; }
    /// <summary>Per-channel scale γ, or null.</summary>
    public Parameter? Weight { get; }
    /// <summary>Per-channel shift β, or null.</summary>
    public Parameter? Bias { get; }
    /// <summary>Running mean buffer, or null.</summary>
    public Tensor? RunningMean { get; }
    /// <summary>Running (unbiased) variance buffer, or null.</summary>
    public Tensor? RunningVar { get; }
    /// <summary>Number of training batches seen (int64 scalar buffer), or null.</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <summary>Registers the parameters and buffers in PyTorch's order.</summary>
    protected NormBase(int numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats)
    {
        if (numFeatures <= 0) throw new ArgumentException($"{GetType().Name}: num_features must be positive, got {numFeatures}");
        (NumFeatures, Eps, Momentum, Affine, TrackRunningStats) = (numFeatures, eps, momentum, affine, trackRunningStats);
        Weight = affine ? RegisterParameter("weight", Torch.Ones([numFeatures])) : RegisterParameter("weight", (Parameter?)null);
        Bias = affine ? RegisterParameter("bias", Torch.Zeros([numFeatures])) : RegisterParameter("bias", (Parameter?)null);
        RunningMean = RegisterBuffer("running_mean", trackRunningStats ? Torch.Zeros([numFeatures]) : null);
        RunningVar = RegisterBuffer("running_var", trackRunningStats ? Torch.Ones([numFeatures]) : null);
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", trackRunningStats ? Torch.Zeros([], DType.Int64) : null);
    }

    /// <summary>running_mean ← 0, running_var ← 1, num_batches_tracked ← 0.</summary>
    public void ResetRunningStats()
    {
        using (Torch.NoGrad())
        {
            RunningMean?.ZeroInPlace();
            RunningVar?.FillInPlace(1);
            NumBatchesTracked?.ZeroInPlace();
        }
    }

    /// <summary>Resets the running statistics and sets weight to 1 and bias to 0.</summary>
    public void ResetParameters()
    {
        ResetRunningStats();
        if (Weight is not null) Init.Ones(Weight);
        if (Bias is not null) Init.Zeros(Bias);
    }

    /// <summary>Throws unless the input has dim 1 of size <see cref="NumFeatures"/> at <paramref name="channelDim"/>.</summary>
    protected void CheckChannels(Tensor input, int channelDim)
    {
        if (input.Size(channelDim) != NumFeatures)
            throw new ArgumentException($"{GetType().Name}: expected input with {NumFeatures} channels, got {input.Size(channelDim)} (input shape {input.Shape})");
    }

    /// <inheritdoc/>
    protected override string ExtraRepr()
        => $"{NumFeatures}, eps={PyRepr.Float(Eps)}, momentum={PyRepr.Float(Momentum)}, affine={PyRepr.Bool(Affine)}, track_running_stats={PyRepr.Bool(TrackRunningStats)}";
}
