using Ember.Distributed;
using Ember.Nn.Functional;

namespace Ember.Nn.Layers;

/// <summary>
/// Batch normalization over [N, C, *] inputs (torch.nn.modules.batchnorm._BatchNorm). In training the batch statistics
/// normalize and the running statistics move: running = (1 − m)·running + m·batch, the variance unbiased; with momentum
/// null, m = 1/num_batches_tracked (a cumulative average). In evaluation the running statistics normalize.
/// </summary>
public abstract class BatchNorm : NormBase
{
    /// <summary>Registers the parameters and buffers.</summary>
    protected BatchNorm(int numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats)
        : base(numFeatures, eps, momentum, affine, trackRunningStats) { }

    /// <summary>
    /// Whether training-mode statistics cover the batches of every rank of the default process group (SyncBatchNorm).
    /// Set by <see cref="SyncBatchNorm.ConvertSyncBatchNorm"/>, which switches layers in place so that a model's fields
    /// keep pointing at them. Without an initialized group, or with one rank, the layer is a plain batch norm.
    /// </summary>
    public bool SyncAcrossRanks { get; internal set; }

    /// <summary>Throws unless the input's rank suits this layer.</summary>
    protected abstract void CheckInputDim(Tensor input);

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Run(input, silu: false);

    /// <summary>
    /// silu(Forward(input)) without this module's hooks (the caller checks there are none): in training one fused op
    /// (<see cref="F.BatchNormSilu"/>), so YOLOv5's Conv block keeps no BN output for the SiLU's backward.
    /// </summary>
    internal Tensor ForwardSilu(Tensor input) => Run(input, silu: true);

    Tensor Run(Tensor input, bool silu)
    {
        CheckInputDim(input);
        CheckChannels(input, 1);
        double factor = Momentum ?? 0.0;
        if (Training && TrackRunningStats && NumBatchesTracked is not null)
        {
            using (Torch.NoGrad()) NumBatchesTracked.AddInPlace(1);
            if (Momentum is null) factor = 1.0 / NumBatchesTracked.Item();
        }
        bool useBatchStats = Training || (RunningMean is null && RunningVar is null);
        bool passRunning = !Training || TrackRunningStats;
        if (useBatchStats && SyncAcrossRanks && Training && Distributed.Distributed.GroupOrNull is { WorldSize: > 1 })
        {
            var synced = SyncBatchNormFunction.Training(input, passRunning ? RunningMean : null, passRunning ? RunningVar : null, Weight, Bias, factor, Eps, GetType().Name);
            return silu ? F.Silu(synced) : synced;
        }
        return silu
            ? F.BatchNormSilu(input, passRunning ? RunningMean : null, passRunning ? RunningVar : null, Weight, Bias, useBatchStats, factor, Eps)
            : F.BatchNorm(input, passRunning ? RunningMean : null, passRunning ? RunningVar : null, Weight, Bias, useBatchStats, factor, Eps);
    }
}
