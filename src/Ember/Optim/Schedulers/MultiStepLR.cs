namespace Ember.Optim.Schedulers;

/// <summary>Multiplies the rate by γ at each milestone epoch (a milestone listed twice applies γ²) (torch.optim.lr_scheduler.MultiStepLR).</summary>
public sealed class MultiStepLR : LRScheduler
{
    readonly int[] milestones;
    readonly double gamma;

    /// <summary>Decays by <paramref name="gamma"/> at each of <paramref name="milestones"/>.</summary>
    public MultiStepLR(Optimizer optimizer, IEnumerable<int> milestones, double gamma = 0.1, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        this.milestones = milestones.Order().ToArray();
        this.gamma = gamma;
        InitialStep();
    }

    /// <inheritdoc/>
    protected override double[] GetLr()
    {
        int count = milestones.Count(m => m == LastEpoch);
        return count == 0 ? CurrentLrs() : CurrentLrs().Select(lr => lr * Math.Pow(gamma, count)).ToArray();
    }

    /// <inheritdoc/>
    protected override double[]? ClosedFormLr()
    {
        int passed = milestones.Count(m => m <= LastEpoch);
        return BaseLrs.Select(b => b * Math.Pow(gamma, passed)).ToArray();
    }
}
