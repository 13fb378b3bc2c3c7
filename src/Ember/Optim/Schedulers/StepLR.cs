namespace Ember.Optim.Schedulers;

/// <summary>Multiplies the rate by γ every <c>stepSize</c> epochs: lr = initial_lr·γ^⌊epoch/stepSize⌋ (torch.optim.lr_scheduler.StepLR).</summary>
public sealed class StepLR : LRScheduler
{
    readonly int stepSize;
    readonly double gamma;

    /// <summary>Decays by <paramref name="gamma"/> every <paramref name="stepSize"/> epochs.</summary>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        if (stepSize <= 0) throw new ArgumentException($"StepLR: step size must be positive, got {stepSize}");
        this.stepSize = stepSize;
        this.gamma = gamma;
        InitialStep();
    }

    /// <inheritdoc/>
    protected override double[] GetLr() => LastEpoch == 0 || LastEpoch % stepSize != 0
        ? CurrentLrs()
        : CurrentLrs().Select(lr => lr * gamma).ToArray();

    /// <inheritdoc/>
    protected override double[]? ClosedFormLr() => BaseLrs.Select(b => b * Math.Pow(gamma, Math.Floor((double)LastEpoch / stepSize))).ToArray();
}
