namespace Ember.Optim.Schedulers;

/// <summary>Multiplies the rate by γ every epoch: lr = initial_lr·γ^epoch (torch.optim.lr_scheduler.ExponentialLR).</summary>
public sealed class ExponentialLR : LRScheduler
{
    readonly double gamma;

    /// <summary>Decays by <paramref name="gamma"/> each step.</summary>
    public ExponentialLR(Optimizer optimizer, double gamma, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        this.gamma = gamma;
        InitialStep();
    }

    /// <inheritdoc/>
    protected override double[] GetLr() => LastEpoch == 0 ? CurrentLrs() : CurrentLrs().Select(lr => lr * gamma).ToArray();

    /// <inheritdoc/>
    protected override double[]? ClosedFormLr() => BaseLrs.Select(b => b * Math.Pow(gamma, LastEpoch)).ToArray();
}
