namespace Ember.Optim.Schedulers;

/// <summary>
/// The 1cycle policy (torch.optim.lr_scheduler.OneCycleLR), stepped once per batch: the rate rises from
/// max_lr/divFactor to max_lr over pctStart of the steps, then anneals to initial_lr/finalDivFactor; with
/// <c>threePhase</c> it comes back down symmetrically before the final anneal. With <c>cycleMomentum</c> the momentum
/// (SGD/RMSprop) or beta1 (Adam family) moves inversely, between maxMomentum and baseMomentum.
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    readonly record struct Phase(double EndStep, int StartLr, int EndLr, int StartMomentum, int EndMomentum);
    const int Initial = 0, Max = 1, Min = 2;      // indices into lrPoints
    const int BaseM = 0, MaxM = 1;                // indices into momentumPoints

    readonly Phase[] phases;
    readonly double[][] lrPoints;                 // per group: initial_lr, max_lr, min_lr
    readonly double[][] momentumPoints;           // per group: base_momentum, max_momentum
    readonly AnnealStrategy anneal;
    readonly bool cycleMomentum, useBeta1;

    /// <summary>The total number of steps of the cycle.</summary>
    public int TotalSteps { get; }

    /// <summary>One cycle to <paramref name="maxLr"/> (one value, or one per group); give <paramref name="totalSteps"/> or <paramref name="epochs"/> and <paramref name="stepsPerEpoch"/>.</summary>
    public OneCycleLR(Optimizer optimizer, IReadOnlyList<double> maxLr, int? totalSteps = null, int? epochs = null, int? stepsPerEpoch = null,
        double pctStart = 0.3, AnnealStrategy annealStrategy = AnnealStrategy.Cos, bool cycleMomentum = true,
        double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25.0, double finalDivFactor = 1e4,
        bool threePhase = false, int lastEpoch = -1)
        : base(Prepare(optimizer, maxLr, divFactor, lastEpoch), lastEpoch)
    {
        if (totalSteps is int total)
        {
            if (total <= 0) throw new ArgumentException($"OneCycleLR: Expected positive integer total_steps, but got {total}");
            TotalSteps = total;
        }
        else if (epochs is int e && stepsPerEpoch is int s)
        {
            if (e <= 0) throw new ArgumentException($"OneCycleLR: Expected positive integer epochs, but got {e}");
            if (s <= 0) throw new ArgumentException($"OneCycleLR: Expected positive integer steps_per_epoch, but got {s}");
            TotalSteps = e * s;
        }
        else throw new ArgumentException("OneCycleLR: You must define either total_steps OR (epochs AND steps_per_epoch)");
        if (pctStart < 0 || pctStart > 1 || double.IsNaN(pctStart))
            throw new ArgumentException($"OneCycleLR: Expected float between 0 and 1 pct_start, but got {Format(pctStart)}");

        phases = threePhase
            ? [new(pctStart * TotalSteps - 1, Initial, Max, MaxM, BaseM),
               new(2 * pctStart * TotalSteps - 2, Max, Initial, BaseM, MaxM),
               new(TotalSteps - 1, Initial, Min, MaxM, MaxM)]
            : [new(pctStart * TotalSteps - 1, Initial, Max, MaxM, BaseM),
               new(TotalSteps - 1, Max, Min, BaseM, MaxM)];
        anneal = annealStrategy;

        var groups = optimizer.ParamGroups;
        var maxLrs = PerGroup(optimizer, "OneCycleLR", "max_lr", maxLr);
        lrPoints = groups.Select((g, i) =>
        {
            double initial = maxLrs[i] / divFactor;
            return new[] { initial, maxLrs[i], initial / finalDivFactor };
        }).ToArray();

        this.cycleMomentum = cycleMomentum;
        momentumPoints = groups.Select(_ => new[] { baseMomentum, maxMomentum }).ToArray();
        if (cycleMomentum)
        {
            useBeta1 = optimizer.Defaults is IBetasOptions;
            if (!useBeta1 && optimizer.Defaults is not IMomentumOptions)
                throw new ArgumentException($"OneCycleLR: optimizer must support momentum or beta1 with `cycle_momentum` option enabled ({optimizer.Name} has neither)");
            if (lastEpoch == -1)
                foreach (var g in groups) SetMomentum(g, maxMomentum);
        }
        InitialStep();
    }

    /// <summary>One cycle to <paramref name="maxLr"/> for every group.</summary>
    public OneCycleLR(Optimizer optimizer, double maxLr, int? totalSteps = null, int? epochs = null, int? stepsPerEpoch = null,
        double pctStart = 0.3, AnnealStrategy annealStrategy = AnnealStrategy.Cos, bool cycleMomentum = true,
        double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25.0, double finalDivFactor = 1e4,
        bool threePhase = false, int lastEpoch = -1)
        : this(optimizer, [maxLr], totalSteps, epochs, stepsPerEpoch, pctStart, annealStrategy, cycleMomentum,
            baseMomentum, maxMomentum, divFactor, finalDivFactor, threePhase, lastEpoch) { }

    // PyTorch overwrites initial_lr with max_lr / div_factor before the base constructor reads it.
    static Optimizer Prepare(Optimizer optimizer, IReadOnlyList<double> maxLr, double divFactor, int lastEpoch)
    {
        if (lastEpoch == -1)
        {
            var maxLrs = PerGroup(optimizer, "OneCycleLR", "max_lr", maxLr);
            for (int i = 0; i < maxLrs.Length; i++) optimizer.ParamGroups[i].InitialLearningRate = maxLrs[i] / divFactor;
        }
        return optimizer;
    }

    void SetMomentum(IParamGroup group, double value)
    {
        if (useBeta1) { var o = (IBetasOptions)group.Options; o.Betas = (value, o.Betas.Beta2); }
        else ((IMomentumOptions)group.Options).Momentum = value;
    }

    double Anneal(double start, double end, double pct) => anneal == AnnealStrategy.Cos
        ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1)
        : (end - start) * pct + start;

    /// <inheritdoc/>
    protected override double[] GetLr()
    {
        int stepNum = LastEpoch;
        if (stepNum > TotalSteps)
            throw new InvalidOperationException($"OneCycleLR: Tried to step {stepNum} times. The specified number of total steps is {TotalSteps}");
        var groups = Optimizer.ParamGroups;
        var lrs = new double[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            double startStep = 0, lr = 0, momentum = 0;
            for (int i = 0; i < phases.Length; i++)
            {
                var phase = phases[i];
                if (stepNum <= phase.EndStep || i == phases.Length - 1)
                {
                    double pct = (stepNum - startStep) / (phase.EndStep - startStep);
                    lr = Anneal(lrPoints[g][phase.StartLr], lrPoints[g][phase.EndLr], pct);
                    if (cycleMomentum) momentum = Anneal(momentumPoints[g][phase.StartMomentum], momentumPoints[g][phase.EndMomentum], pct);
                    break;
                }
                startStep = phase.EndStep;
            }
            lrs[g] = lr;
            if (cycleMomentum) SetMomentum(groups[g], momentum);
        }
        return lrs;
    }
}
