using Ember.Nn;

namespace Ember.Training;

/// <summary>What callbacks see of a running fit.</summary>
public sealed class TrainerState
{
    internal TrainerState(Module model, Func<Dictionary<string, Dictionary<string, double>>> callbackStates)
    {
        Model = model;
        CallbackStates = callbackStates;
    }

    /// <summary>The state dicts of the fit's callbacks by <see cref="Callback.StateKey"/> (what a checkpoint saves).</summary>
    internal Func<Dictionary<string, Dictionary<string, double>>> CallbackStates { get; }

    /// <summary>The model being trained.</summary>
    public Module Model { get; }
    /// <summary>Current epoch, counting from 1.</summary>
    public int Epoch { get; internal set; }
    /// <summary>Total epochs of the fit.</summary>
    public int Epochs { get; internal set; }
    /// <summary>Index of the current batch within the epoch, from 0.</summary>
    public int BatchIndex { get; internal set; }
    /// <summary>Batches per epoch, when the loader knows it.</summary>
    public int? BatchesPerEpoch { get; internal set; }
    /// <summary>Optimizer steps taken so far (micro-batches under accumulation count once per step).</summary>
    public long GlobalStep { get; internal set; }
    /// <summary>Samples seen in the current epoch.</summary>
    public long EpochSamples { get; internal set; }
    /// <summary>The current epoch's running sums (what a mid-epoch checkpoint saves to continue them on resume).</summary>
    public PartialEpochSums EpochSums { get; internal set; } = new(0, 0, 0, 0);
    /// <summary>
    /// Every rank's <see cref="EpochSums"/>, rank 0 first, when a run of several processes stopped mid-epoch (gathered by
    /// <see cref="Distributed.DistributedEpochMetrics"/> at fit end, for the checkpoint then written); null otherwise.
    /// </summary>
    public IReadOnlyList<PartialEpochSums>? RankEpochSums { get; internal set; }
    /// <summary>True when the fit stopped inside an epoch (Ctrl-C, SIGTERM, a callback's stop): that epoch is still open.</summary>
    public bool StoppedMidEpoch { get; internal set; }
    /// <summary>Sums restored from a mid-epoch checkpoint, taken up by the first resumed epoch.</summary>
    internal PartialEpochSums? ResumedSums { get; set; }
    /// <summary>The last batch's loss (before flooding and accumulation scaling).</summary>
    public double BatchLoss { get; internal set; } = double.NaN;
    /// <summary>The running mean training loss of the current epoch.</summary>
    public double EpochLoss { get; internal set; } = double.NaN;
    /// <summary>The running training accuracy of the current epoch (for classification).</summary>
    public double EpochAccuracy { get; internal set; } = double.NaN;
    /// <summary>The first parameter group's learning rate.</summary>
    public double Lr { get; internal set; }
    /// <summary>Samples in the latest validation (the weight of its mean loss and accuracies).</summary>
    public long ValidationSamples { get; internal set; }
    /// <summary>The latest validation results by name (val_loss, top1, top5); a validation-end callback may replace them
    /// (DistributedEpochMetrics reduces them across ranks), and the epoch's row takes them after the callbacks.</summary>
    public Dictionary<string, double> ValidationMetrics { get; } = new();
    /// <summary>One row per finished epoch.</summary>
    public List<EpochMetrics> History { get; } = new();
    /// <summary>Optimizer steps skipped because of non-finite gradients (mixed precision).</summary>
    public int SkippedSteps { get; internal set; }
    /// <summary>Per-parameter (gradient norm, weight norm) from the last recorded step (see TrainerOptions.GradientNormInterval).</summary>
    public Dictionary<string, (double Grad, double Weight)> GradientNorms { get; } = new();
    /// <summary>
    /// Set by a callback (or by Ctrl-C/SIGTERM handling) to stop after the current batch; under gradient accumulation
    /// after the current optimizer step, so that no micro-batch gradient is pending when a checkpoint is written.
    /// </summary>
    public bool StopRequested { get; set; }
    /// <summary>Why training stopped early, if it did.</summary>
    public string? StopReason { get; set; }
}
