using Ember.Optim;
using Ember.Optim.Schedulers;

namespace Ember.Detection.Optim;

/// <summary>
/// YOLOv5's warm-up (train.py) around a main schedule: for the first <see cref="WarmupSteps"/> optimizer steps nw, at
/// step ni the bias group's rate falls linearly from warmup_bias_lr (0.1) to the scheduled rate while every other
/// group's rises from 0, and SGD's momentum rises from warmup_momentum (0.8) to the group's own:
/// <code>lr_j = interp(ni, [0, nw], [j == bias ? warmup_bias_lr : 0, scheduled_j(ni)]),  momentum = interp(ni, [0, nw], [warmup_momentum, momentum])</code>
/// After warm-up the main schedule's rates stand as they are. The main schedule runs underneath from step 0 (as YOLOv5's
/// does during warm-up) and is stepped from its own last rates, so a recursive one (<see cref="CosineAnnealingLR"/>)
/// never sees the warm-up's. The Trainer steps it after each optimizer step, like any per-step schedule
/// (<c>TrainerOptions.SchedulerPerStep</c>); the groups hold step 0's values once it is built.
/// </summary>
public sealed class YoloWarmup : LRScheduler
{
    readonly LRScheduler? main;
    readonly int biasGroup;
    readonly double warmupBiasLr, warmupMomentum;
    readonly double?[] momentum;
    double[] scheduled;

    /// <summary>
    /// Warms up <paramref name="optimizer"/> over <paramref name="warmupSteps"/> steps towards <paramref name="main"/>'s
    /// rates (null: the groups' current rates, constant); <paramref name="biasGroup"/> is the group that starts at
    /// <paramref name="warmupBiasLr"/> (<see cref="YoloParameterGroups.BiasGroup"/>), or −1 for none. Momentum (for
    /// optimizers with one) starts at <paramref name="warmupMomentum"/> and ends at each group's momentum as it is now.
    /// </summary>
    public YoloWarmup(Optimizer optimizer, LRScheduler? main, int warmupSteps, int biasGroup = YoloParameterGroups.BiasGroup,
        double warmupBiasLr = 0.1, double warmupMomentum = 0.8) : base(optimizer, children: [])
    {
        var groups = optimizer.ParamGroups;
        if (main is not null && !ReferenceEquals(main.Optimizer, optimizer))
            throw new ArgumentException("YoloWarmup: the main schedule must belong to the same optimizer");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "YoloWarmup: warm-up steps must be ≥ 0");
        if (biasGroup < -1 || biasGroup >= groups.Count)
            throw new ArgumentOutOfRangeException(nameof(biasGroup), biasGroup, $"YoloWarmup: the bias group must be −1 or one of the optimizer's {groups.Count} groups");
        if (!(warmupBiasLr >= 0)) throw new ArgumentOutOfRangeException(nameof(warmupBiasLr), warmupBiasLr, "YoloWarmup: warmup_bias_lr must be ≥ 0");
        if (!(warmupMomentum >= 0 && warmupMomentum < 1)) throw new ArgumentOutOfRangeException(nameof(warmupMomentum), warmupMomentum, "YoloWarmup: warmup_momentum must be in [0, 1)");
        this.main = main;
        WarmupSteps = warmupSteps;
        this.biasGroup = biasGroup;
        this.warmupBiasLr = warmupBiasLr;
        this.warmupMomentum = warmupMomentum;
        momentum = groups.Select(g => g.Options is IMomentumOptions m ? m.Momentum : (double?)null).ToArray();
        scheduled = main?.GetLastLr() ?? CurrentLrs();
        LastEpoch = 0;
        ApplyWarmup();
    }

    /// <summary>Optimizer steps of warm-up, nw; at step nw the rates reach the schedule.</summary>
    public int WarmupSteps { get; }

    /// <summary>
    /// YOLOv5's warm-up length: max(round(warmup_epochs · batches per epoch), <paramref name="minSteps"/>) (train.py's
    /// floor is 100 steps); 0 when <paramref name="warmupEpochs"/> is 0 (where YOLOv5 would still warm up for 100).
    /// </summary>
    public static int Steps(double warmupEpochs, int batchesPerEpoch, int minSteps = 100)
        => warmupEpochs > 0 ? Math.Max((int)Math.Round(warmupEpochs * batchesPerEpoch), minSteps) : 0;

    /// <summary>The rates the main schedule gives for the current step (what the warm-up moves towards).</summary>
    public IReadOnlyList<double> ScheduledLrs => scheduled;

    /// <inheritdoc/>
    public override void Step()
    {
        LastEpoch++;
        if (main is not null)
        {
            var groups = Optimizer.ParamGroups;
            for (int j = 0; j < groups.Count; j++) groups[j].LearningRate = scheduled[j];
            main.Step();
            scheduled = main.GetLastLr();
        }
        ApplyWarmup();
    }

    void ApplyWarmup()
    {
        var groups = Optimizer.ParamGroups;
        int ni = LastEpoch;
        bool warming = ni < WarmupSteps;
        for (int j = 0; j < groups.Count; j++)
        {
            double lr = scheduled[j], start = j == biasGroup ? warmupBiasLr : 0;
            // numpy.interp's form: slope · (x − x0) + y0
            if (warming) lr = (lr - start) / WarmupSteps * ni + start;
            groups[j].LearningRate = lr;
            if (momentum[j] is double m && groups[j].Options is IMomentumOptions target)
                target.Momentum = warming ? (m - warmupMomentum) / WarmupSteps * ni + warmupMomentum : m;
        }
        RecordLastLr();
    }

    /// <inheritdoc/>
    protected override double[] GetLr() => CurrentLrs();

    /// <inheritdoc/>
    public override Dictionary<string, double> StateDict()
    {
        var d = base.StateDict();
        if (main is not null)
            foreach (var (k, v) in main.StateDict()) d["_main." + k] = v;
        return d;
    }

    /// <inheritdoc/>
    public override void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        base.LoadStateDict(state);
        if (main is null) return;
        const string prefix = "_main.";
        main.LoadStateDict(state.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value));
        scheduled = main.GetLastLr();
    }
}
