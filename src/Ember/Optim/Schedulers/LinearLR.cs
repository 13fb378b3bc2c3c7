namespace Ember.Optim.Schedulers;

/// <summary>
/// Moves the rate's factor linearly from <c>startFactor</c> to <c>endFactor</c> over <c>totalIters</c> steps, the usual
/// warm-up (torch.optim.lr_scheduler.LinearLR); combine with <see cref="SequentialLR"/> to warm up then decay.
/// </summary>
public sealed class LinearLR : LRScheduler
{
    readonly double startFactor, endFactor;
    readonly int totalIters;

    /// <summary>lr = initial_lr·(start + (end − start)·min(epoch, totalIters)/totalIters).</summary>
    public LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        if (startFactor > 1.0 || startFactor <= 0)
            throw new ArgumentException($"LinearLR: Starting multiplicative factor expected to be greater than 0 and less or equal to 1, got {Format(startFactor)}");
        if (endFactor > 1.0 || endFactor < 0)
            throw new ArgumentException($"LinearLR: Ending multiplicative factor expected to be between 0 and 1, got {Format(endFactor)}");
        this.startFactor = startFactor;
        this.endFactor = endFactor;
        this.totalIters = totalIters;
        InitialStep();
    }

    /// <inheritdoc/>
    protected override double[] GetLr()
    {
        if (LastEpoch == 0) return CurrentLrs().Select(lr => lr * startFactor).ToArray();
        if (LastEpoch > totalIters) return CurrentLrs();
        double ratio = 1.0 + (endFactor - startFactor) / (totalIters * startFactor + (LastEpoch - 1) * (endFactor - startFactor));
        return CurrentLrs().Select(lr => lr * ratio).ToArray();
    }

    /// <inheritdoc/>
    protected override double[]? ClosedFormLr()
        => BaseLrs.Select(b => b * (startFactor + (endFactor - startFactor) * Math.Min(totalIters, LastEpoch) / totalIters)).ToArray();
}
