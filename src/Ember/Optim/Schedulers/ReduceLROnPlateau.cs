namespace Ember.Optim.Schedulers;

/// <summary>
/// Cuts the learning rate by <c>factor</c> when a metric has not improved for more than <c>patience</c> steps
/// (torch.optim.lr_scheduler.ReduceLROnPlateau). Call <see cref="Step(double)"/> with the validation metric each epoch.
/// After a cut it waits <c>cooldown</c> steps before counting bad epochs again; rates never go below <c>minLr</c>,
/// and a cut smaller than <c>eps</c> is skipped.
/// </summary>
public sealed class ReduceLROnPlateau
{
    readonly double factor, threshold, eps;
    readonly int patience, cooldown;
    readonly PlateauMode mode;
    readonly ThresholdMode thresholdMode;
    readonly double[] minLrs;
    double[] lastLr;

    /// <summary>Watches a metric with the given mode; <paramref name="minLr"/> is one value or one per group.</summary>
    public ReduceLROnPlateau(Optimizer optimizer, PlateauMode mode = PlateauMode.Min, double factor = 0.1, int patience = 10,
        double threshold = 1e-4, ThresholdMode thresholdMode = ThresholdMode.Rel, int cooldown = 0, IReadOnlyList<double>? minLr = null, double eps = 1e-8)
    {
        if (factor >= 1.0) throw new ArgumentException($"ReduceLROnPlateau: Factor should be < 1.0, got {LRScheduler.Format(factor)}");
        Optimizer = optimizer;
        this.factor = factor;
        this.patience = patience;
        this.threshold = threshold;
        this.thresholdMode = thresholdMode;
        this.cooldown = cooldown;
        this.mode = mode;
        this.eps = eps;
        minLrs = LRScheduler.PerGroup(optimizer, "ReduceLROnPlateau", "min_lr", minLr ?? [0.0]);
        lastLr = Optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();
        Best = mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;
    }

    /// <summary>The scheduled optimizer.</summary>
    public Optimizer Optimizer { get; }
    /// <summary>Number of steps taken (PyTorch's <c>last_epoch</c>).</summary>
    public int LastEpoch { get; private set; }
    /// <summary>The best metric seen.</summary>
    public double Best { get; private set; }
    /// <summary>Consecutive steps without improvement.</summary>
    public int NumBadEpochs { get; private set; }
    /// <summary>Steps of cooldown left.</summary>
    public int CooldownCounter { get; private set; }

    /// <summary>The groups' learning rates after the last step.</summary>
    public double[] GetLastLr() => (double[])lastLr.Clone();

    /// <summary>Records <paramref name="metric"/> and cuts the rates if the plateau has lasted longer than the patience.</summary>
    public void Step(double metric)
    {
        LastEpoch++;
        if (IsBetter(metric, Best))
        {
            Best = metric;
            NumBadEpochs = 0;
        }
        else NumBadEpochs++;
        if (CooldownCounter > 0)
        {
            CooldownCounter--;
            NumBadEpochs = 0;   // bad epochs during cooldown don't count
        }
        if (NumBadEpochs > patience)
        {
            ReduceLr();
            CooldownCounter = cooldown;
            NumBadEpochs = 0;
        }
        lastLr = Optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();
    }

    void ReduceLr()
    {
        var groups = Optimizer.ParamGroups;
        for (int i = 0; i < groups.Count; i++)
        {
            double oldLr = groups[i].LearningRate;
            double newLr = Math.Max(oldLr * factor, minLrs[i]);
            if (oldLr - newLr > eps) groups[i].LearningRate = newLr;
        }
    }

    bool IsBetter(double a, double best) => (mode, thresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Rel) => a < best * (1.0 - threshold),
        (PlateauMode.Min, ThresholdMode.Abs) => a < best - threshold,
        (PlateauMode.Max, ThresholdMode.Rel) => a > best * (threshold + 1.0),
        _ => a > best + threshold,
    };

    /// <summary>The counters as plain scalars.</summary>
    public Dictionary<string, double> StateDict() => new()
    {
        ["last_epoch"] = LastEpoch, ["best"] = Best, ["num_bad_epochs"] = NumBadEpochs, ["cooldown_counter"] = CooldownCounter,
    };

    /// <summary>Restores what <see cref="StateDict"/> saved.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        double Get(string key) => state.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"ReduceLROnPlateau.LoadStateDict: missing '{key}'");
        LastEpoch = (int)Get("last_epoch");
        Best = Get("best");
        NumBadEpochs = (int)Get("num_bad_epochs");
        CooldownCounter = (int)Get("cooldown_counter");
    }
}
