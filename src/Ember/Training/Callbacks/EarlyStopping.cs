namespace Ember.Training.Callbacks;

/// <summary>
/// Stops when a monitored validation metric has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs (Keras/Lightning semantics), optionally restoring the best weights at the end.
/// </summary>
public sealed class EarlyStopping : Callback
{
    OrderedDictionary<string, Tensor>? bestWeights;
    int wait;

    /// <summary>Monitors <paramref name="monitor"/> ("val_loss", "top1", "top5") in <paramref name="mode"/>.</summary>
    public EarlyStopping(string monitor = "val_loss", MonitorMode mode = MonitorMode.Min, int patience = 5, double minDelta = 0, bool restoreBestWeights = false)
    {
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), patience, "EarlyStopping: patience must be non-negative");
        if (minDelta < 0) throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "EarlyStopping: min_delta must be non-negative");
        Monitor = monitor; Mode = mode; Patience = patience; MinDelta = minDelta; RestoreBestWeights = restoreBestWeights;
    }

    /// <summary>Validation metric watched.</summary>
    public string Monitor { get; }
    /// <summary>Whether lower or higher is better.</summary>
    public MonitorMode Mode { get; }
    /// <summary>Epochs without improvement tolerated.</summary>
    public int Patience { get; }
    /// <summary>Smallest change that counts as an improvement.</summary>
    public double MinDelta { get; }
    /// <summary>Load the best epoch's weights when stopping or finishing.</summary>
    public bool RestoreBestWeights { get; }
    /// <summary>Best value seen.</summary>
    public double Best { get; private set; } = double.NaN;
    /// <summary>Epoch of the best value.</summary>
    public int BestEpoch { get; private set; }
    /// <summary>Epoch at which training was stopped, or 0.</summary>
    public int StoppedEpoch { get; private set; }
    /// <summary>Why training was stopped (also after <see cref="LoadStateDict"/> of a stopped run's state), or null.</summary>
    public string? StopReason => StoppedEpoch == 0 ? null : $"early stopping: {Monitor} did not improve for {Patience} epochs (best {Best:G6} at epoch {BestEpoch})";

    /// <inheritdoc/>
    public override void OnEpochEnd(TrainerState state)
    {
        if (!state.ValidationMetrics.TryGetValue(Monitor, out var value))
            throw new InvalidOperationException($"EarlyStopping: metric '{Monitor}' is not available; known: {string.Join(", ", state.ValidationMetrics.Keys)} (is there a validation set?)");
        bool improved = double.IsNaN(Best) || (Mode == MonitorMode.Min ? value < Best - MinDelta : value > Best + MinDelta);
        if (improved)
        {
            Best = value; BestEpoch = state.Epoch; wait = 0;
            if (RestoreBestWeights) bestWeights = Snapshot(state);
            return;
        }
        if (++wait >= Patience)
        {
            StoppedEpoch = state.Epoch;
            state.StopRequested = true;
            state.StopReason = StopReason;
        }
    }

    /// <inheritdoc/>
    public override Dictionary<string, double>? StateDict() => new()
    {
        ["best"] = Best, ["best_epoch"] = BestEpoch, ["wait"] = wait, ["stopped_epoch"] = StoppedEpoch,
    };

    /// <inheritdoc/>
    public override void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        double Get(string key) => state.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"EarlyStopping.LoadStateDict: missing '{key}'");
        int Counter(string key, int max)
        {
            var v = Get(key);
            return v >= 0 && v <= max && v == Math.Floor(v) ? (int)v
                : throw new ArgumentOutOfRangeException(nameof(state), v, $"EarlyStopping.LoadStateDict: '{key}' must be an integer in 0..{max}");
        }
        var best = Get("best");
        if (double.IsInfinity(best)) throw new ArgumentOutOfRangeException(nameof(state), best, "EarlyStopping.LoadStateDict: 'best' must be finite (or NaN before the first epoch)");
        wait = Counter("wait", Patience);
        BestEpoch = Counter("best_epoch", int.MaxValue);
        StoppedEpoch = Counter("stopped_epoch", int.MaxValue);
        Best = best;
    }

    /// <inheritdoc/>
    public override void OnFitEnd(TrainerState state)
    {
        if (RestoreBestWeights && bestWeights is not null) state.Model.LoadStateDict(bestWeights);
    }

    static OrderedDictionary<string, Tensor> Snapshot(TrainerState state)
    {
        var copy = new OrderedDictionary<string, Tensor>();
        foreach (var (k, v) in state.Model.StateDict()) copy[k] = v.Clone();
        return copy;
    }
}

/// <summary>Whether a monitored metric improves downwards or upwards.</summary>
public enum MonitorMode
{
    /// <summary>Lower is better (losses).</summary>
    Min,
    /// <summary>Higher is better (accuracies).</summary>
    Max,
}
