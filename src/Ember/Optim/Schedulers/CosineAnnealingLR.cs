namespace Ember.Optim.Schedulers;

/// <summary>
/// Cosine annealing from initial_lr to η_min over T_max steps (torch.optim.lr_scheduler.CosineAnnealingLR), in PyTorch's
/// recursive form: lrₜ = (1 + cos(πt/T)) / (1 + cos(π(t−1)/T))·(lrₜ₋₁ − η_min) + η_min, which equals the closed form
/// η_min + (initial_lr − η_min)(1 + cos(πt/T))/2 when nothing else changes the rate, and continues past T_max as a cosine.
/// </summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    readonly int tMax;
    readonly double etaMin;

    /// <summary>Anneals over <paramref name="tMax"/> steps down to <paramref name="etaMin"/>.</summary>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        if (tMax <= 0) throw new ArgumentException($"CosineAnnealingLR: T_max must be positive, got {tMax}");
        this.tMax = tMax;
        this.etaMin = etaMin;
        InitialStep();
    }

    /// <inheritdoc/>
    protected override double[] GetLr()
    {
        var lrs = CurrentLrs();
        if (LastEpoch == 0) return lrs;
        if (StepCount == 1 && LastEpoch > 0)
            return BaseLrs.Select(b => etaMin + (b - etaMin) * (1 + Math.Cos(LastEpoch * Math.PI / tMax)) / 2).ToArray();
        if ((LastEpoch - 1 - tMax) % (2 * tMax) == 0)
            return lrs.Select((lr, i) => lr + (BaseLrs[i] - etaMin) * (1 - Math.Cos(Math.PI / tMax)) / 2).ToArray();
        return lrs.Select(lr => (1 + Math.Cos(Math.PI * LastEpoch / tMax)) / (1 + Math.Cos(Math.PI * (LastEpoch - 1) / tMax)) * (lr - etaMin) + etaMin).ToArray();
    }

    /// <inheritdoc/>
    protected override double[]? ClosedFormLr()
        => BaseLrs.Select(b => etaMin + (b - etaMin) * (1 + Math.Cos(Math.PI * LastEpoch / tMax)) / 2).ToArray();
}
