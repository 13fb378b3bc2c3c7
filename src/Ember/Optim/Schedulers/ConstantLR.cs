namespace Ember.Optim.Schedulers;

/// <summary>Scales the rate by a constant factor until <c>totalIters</c>, then restores it (torch.optim.lr_scheduler.ConstantLR).</summary>
public sealed class ConstantLR : LRScheduler
{
    readonly double factor;
    readonly int totalIters;

    /// <summary>lr = initial_lr·<paramref name="factor"/> for epochs &lt; <paramref name="totalIters"/>, initial_lr after.</summary>
    public ConstantLR(Optimizer optimizer, double factor = 1.0 / 3, int totalIters = 5, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        if (factor > 1.0 || factor < 0) throw new ArgumentException($"ConstantLR: Constant multiplicative factor expected to be between 0 and 1, got {Format(factor)}");
        this.factor = factor;
        this.totalIters = totalIters;
        InitialStep();
    }

    /// <inheritdoc/>
    protected override double[] GetLr()
    {
        if (LastEpoch == 0) return CurrentLrs().Select(lr => lr * factor).ToArray();
        if (LastEpoch != totalIters) return CurrentLrs();
        return CurrentLrs().Select(lr => lr * (1.0 / factor)).ToArray();
    }

    /// <inheritdoc/>
    protected override double[]? ClosedFormLr()
        => BaseLrs.Select(b => b * (factor + (LastEpoch >= totalIters ? 1 : 0) * (1 - factor))).ToArray();
}
