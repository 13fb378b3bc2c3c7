using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Training.Callbacks;

/// <summary>
/// The DropBlock paper's schedule, which the notes recommend: every <see cref="DropBlock2d"/> in the model starts with
/// keep probability 1 and reaches its target keep probability linearly over the first <see cref="RampFraction"/> of
/// training (all of it by default), updated before each batch. The drop probability is a function of the position in
/// training only, so a resumed fit continues the same schedule.
/// </summary>
public sealed class DropBlockSchedule : Callback
{
    readonly DropBlock2d[] blocks;

    /// <summary>
    /// Schedules every DropBlock2d of <paramref name="model"/> towards <paramref name="targetDropProb"/> (1 − target keep
    /// probability; the paper's 0.1 for keep 0.9), reached after <paramref name="rampFraction"/> of the training batches.
    /// </summary>
    public DropBlockSchedule(Module model, double targetDropProb = 0.1, double rampFraction = 1.0)
    {
        if (!(targetDropProb >= 0 && targetDropProb < 1))
            throw new ArgumentOutOfRangeException(nameof(targetDropProb), targetDropProb, "DropBlockSchedule: the target drop probability must be in [0, 1)");
        if (!(rampFraction > 0 && rampFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(rampFraction), rampFraction, "DropBlockSchedule: the ramp fraction must be in (0, 1]");
        blocks = [.. model.Modules().OfType<DropBlock2d>()];
        if (blocks.Length == 0)
            throw new ArgumentException($"DropBlockSchedule: the model ({model.GetType().Name}) has no DropBlock2d layer to schedule");
        (TargetDropProb, RampFraction) = (targetDropProb, rampFraction);
    }

    /// <summary>The drop probability reached at the end of the ramp.</summary>
    public double TargetDropProb { get; }

    /// <summary>The fraction of training over which the drop probability rises from 0 to the target.</summary>
    public double RampFraction { get; }

    /// <summary>The scheduled layers.</summary>
    public IReadOnlyList<DropBlock2d> Blocks => blocks;

    /// <summary>The drop probability at <paramref name="progress"/> ∈ [0, 1] of training.</summary>
    public double DropProbAt(double progress) => TargetDropProb * Math.Clamp(progress / RampFraction, 0, 1);

    /// <inheritdoc/>
    public override void OnBatchStart(TrainerState state)
    {
        // Progress counts batches when the loader knows how many there are per epoch, else whole epochs.
        double progress = state.BatchesPerEpoch is int perEpoch && perEpoch > 0
            ? ((state.Epoch - 1) * (double)perEpoch + state.BatchIndex) / ((double)state.Epochs * perEpoch)
            : (state.Epoch - 1) / (double)Math.Max(1, state.Epochs);
        double p = DropProbAt(progress);
        foreach (var block in blocks) block.DropProb = p;
    }
}
