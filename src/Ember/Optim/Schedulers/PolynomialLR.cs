namespace Ember.Optim.Schedulers;

/// <summary>lr = initial_lr·(1 − min(epoch, totalIters)/totalIters)^power (torch.optim.lr_scheduler.PolynomialLR).</summary>
public sealed class PolynomialLR : LRScheduler
{
    readonly int totalIters;
    readonly double power;

    /// <summary>Decays to 0 over <paramref name="totalIters"/> steps with the given <paramref name="power"/>.</summary>
    public PolynomialLR(Optimizer optimizer, int totalIters = 5, double power = 1.0, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        this.totalIters = totalIters;
        this.power = power;
        InitialStep();
    }

    /// <inheritdoc/>
    protected override double[] GetLr()
    {
        if (LastEpoch == 0 || LastEpoch > totalIters) return CurrentLrs();
        double decay = Math.Pow((1.0 - (double)LastEpoch / totalIters) / (1.0 - (double)(LastEpoch - 1) / totalIters), power);
        return CurrentLrs().Select(lr => lr * decay).ToArray();
    }

    /// <inheritdoc/>
    protected override double[]? ClosedFormLr()
        => BaseLrs.Select(b => b * Math.Pow(1.0 - (double)Math.Min(totalIters, LastEpoch) / totalIters, power)).ToArray();
}
