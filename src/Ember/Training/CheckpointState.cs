using Ember.Training.Amp;

namespace Ember.Training;

/// <summary>The JSON part of a checkpoint: where training stood and the small pieces of state.</summary>
public sealed record CheckpointState
{
    /// <summary>The epoch this checkpoint belongs to (1-based).</summary>
    public int Epoch { get; init; }
    /// <summary>Batches of <see cref="Epoch"/> already trained; equal to the epoch's batch count when it completed.</summary>
    public int BatchesDone { get; init; }
    /// <summary>True when the epoch completed (validation included).</summary>
    public bool EpochComplete { get; init; }
    /// <summary>Optimizer steps taken.</summary>
    public long GlobalStep { get; init; }
    /// <summary>
    /// The running training sums of the open epoch when it was cut mid-way, over all processes of the run (null when
    /// the epoch completed, and in checkpoints written before this field existed): a resumed epoch's train_loss and
    /// train_acc then cover the whole epoch, as if never stopped.
    /// </summary>
    public PartialEpochSums? PartialEpoch { get; init; }
    /// <summary>
    /// For a run of several processes cut mid-epoch, each rank's own running sums, rank 0 first (<see cref="PartialEpoch"/>
    /// is their total). A resume with as many processes gives each rank its own back, so that the epoch-end reduction
    /// adds exactly what the unbroken run's did; null otherwise.
    /// </summary>
    public List<PartialEpochSums>? PartialEpochRanks { get; init; }
    /// <summary>Metrics of the finished epochs.</summary>
    public List<EpochMetrics> History { get; init; } = new();
    /// <summary>The scheduler's state dict.</summary>
    public Dictionary<string, double>? Scheduler { get; init; }
    /// <summary>The GradScaler's scale and growth tracker.</summary>
    public double[]? Scaler { get; init; }
    /// <summary>Generator states by name (e.g. "default").</summary>
    public Dictionary<string, GeneratorState> Generators { get; init; } = new();
    /// <summary>Callback states by key (best-metric tracking, early-stopping patience), see <see cref="Callback.StateDict"/>.</summary>
    public Dictionary<string, Dictionary<string, double>> Callbacks { get; init; } = new();
    /// <summary>Free-form run information (config, model name).</summary>
    public Dictionary<string, string> Metadata { get; init; } = new();
    /// <summary>True when model.safetensors holds the EMA weights (a run's <c>best</c> with EMA on), not the live ones.</summary>
    public bool ModelIsEma { get; init; }
    /// <summary>Optimizer scalars (filled by <see cref="Checkpoint.Save(string, Nn.Module, CheckpointState, Optim.Optimizer?, ModelEma?)"/>); present exactly when optimizer.safetensors is.</summary>
    public Dictionary<string, double>? OptimizerScalars { get; init; }
    /// <summary>EMA update count (filled on save); present exactly when ema.safetensors is.</summary>
    public int? EmaUpdates { get; init; }
    /// <summary>The checkpoint.json this record was read from (set by <see cref="Checkpoint.ReadState"/> and <see cref="Checkpoint.Load"/>; not stored).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Source { get; init; }
    /// <summary>SHA-256 of each tensor file (filled on save); the list of files itself is fixed by the format.</summary>
    public Dictionary<string, string>? Files { get; init; }

    /// <summary>Captures a scaler's state.</summary>
    public static double[] ScalerState(GradScaler scaler) { var (s, g) = scaler.StateDict(); return [s, g]; }

    /// <summary>
    /// The checks that need no run (on every read, before anything is loaded): counters not negative, history rows for epochs 1, 2, … up to <see cref="Epoch"/> with accuracies within 0..1
    /// (NaN for a metric not measured) and non-negative learning rates and times, a scaler state of a positive
    /// finite scale and a whole growth count, scheduler values that are numbers. Throws <see cref="CheckpointException"/>
    /// naming <paramref name="source"/>.
    /// </summary>
    internal void CheckConsistent(string source)
    {
        void Fail(string what) => throw new CheckpointException(source, $"is damaged: {what}");
        if (Epoch < 0 || BatchesDone < 0 || GlobalStep < 0) Fail($"epoch {Epoch}, batches_done {BatchesDone} and global_step {GlobalStep} must not be negative");
        if (EmaUpdates is int u && u < 0) Fail($"ema_updates {u} is negative");
        if (History.Count > Epoch) Fail($"history has {History.Count} rows for {Epoch} epoch(s)");
        for (int i = 0; i < History.Count; i++)
        {
            var row = History[i];
            if (row is null || row.Epoch != i + 1) { Fail($"history row {i + 1} is for epoch {row?.Epoch}, expected {i + 1}"); return; }
            if (!Fraction(row.TrainAccuracy) || !Fraction(row.Top1) || !Fraction(row.Top5)) Fail($"history row {i + 1} has an accuracy outside 0..1");
            if (row.Lr < 0 || row.Seconds < 0) Fail($"history row {i + 1} has a negative learning rate or time"); // a loss may be negative (Gaussian NLL)
        }
        if (Scaler is not null && (Scaler.Length != 2 || !(Scaler[0] > 0) || !double.IsFinite(Scaler[0]) || !(Scaler[1] >= 0) || Scaler[1] != Math.Floor(Scaler[1]) || Scaler[1] > int.MaxValue))
            Fail($"scaler state [{string.Join(", ", Scaler)}] is not a positive finite scale and a whole growth count");
        foreach (var (key, value) in Scheduler ?? [])
            if (double.IsNaN(value)) Fail($"scheduler '{key}' is NaN");
        if (PartialEpoch is { } sums && !sums.CountsAreConsistent)
            Fail($"partial_epoch counts {sums.Correct} correct of {sums.Counted} classified of {sums.Samples} samples are not 0 ≤ correct ≤ classified ≤ samples");
        if (PartialEpochRanks is { } ranks)
        {
            if (PartialEpoch is null || ranks.Count < 2 || ranks.Any(r => r is null || !r.CountsAreConsistent) || ranks.Sum(r => r.Samples) != PartialEpoch.Samples)
                Fail($"partial_epoch_ranks ({ranks.Count} ranks) do not add up to partial_epoch");
        }
    }

    static bool Fraction(double value) => double.IsNaN(value) || value is >= 0 and <= 1;

    /// <summary>
    /// Checks every counter against the run that is about to continue from this record, before anything is written:
    /// the epoch within <paramref name="epochs"/>, the batches within an epoch of <paramref name="batchesPerEpoch"/>, the
    /// optimizer steps (and EMA updates, scheduler steps) within what that many batches can take with
    /// <paramref name="accumulation"/> micro-batches per step, and the history one row per finished epoch.
    /// Throws <see cref="CheckpointException"/> naming <paramref name="source"/> and the field.
    /// </summary>
    public void CheckRange(string source, int epochs, int batchesPerEpoch, int accumulation)
    {
        void Fail(string what) => throw new CheckpointException(source, $": {what}; the checkpoint does not belong to this run or was edited");
        if (Epoch < 1 || Epoch > epochs) Fail($"epoch {Epoch} is outside this run's 1..{epochs}");
        if (BatchesDone < 0 || BatchesDone > batchesPerEpoch || (!EpochComplete && BatchesDone == batchesPerEpoch))
            Fail($"batches_done {BatchesDone} is outside 0..{batchesPerEpoch - 1} (an epoch has {batchesPerEpoch} batches)");
        long stepsPerEpoch = (batchesPerEpoch + (long)accumulation - 1) / accumulation;
        long maxSteps = (Epoch - 1L) * stepsPerEpoch + (EpochComplete ? stepsPerEpoch : (BatchesDone + (long)accumulation - 1) / accumulation);
        if (GlobalStep < 0 || GlobalStep > maxSteps) Fail($"global_step {GlobalStep} is outside 0..{maxSteps} (what {Epoch} epoch(s) of {batchesPerEpoch} batches allow)");
        if (EmaUpdates is int u && (u < 0 || u > GlobalStep)) Fail($"ema_updates {u} is outside 0..{GlobalStep} (one per optimizer step)");
        int rows = EpochComplete ? Epoch : Epoch - 1;
        if (History is null || History.Count != rows) Fail($"history has {History?.Count ?? 0} rows, expected {rows} (one per finished epoch)");
        for (int i = 0; i < History!.Count; i++)
            if (History[i] is null || History[i].Epoch != i + 1) Fail($"history row {i + 1} is for epoch {History[i]?.Epoch}, expected {i + 1}");
        foreach (var (key, value) in Scheduler ?? [])
        {
            var leaf = key[(key.LastIndexOf('.') + 1)..]; // nested schedulers (SequentialLR) prefix their keys: _schedulers.0.last_epoch
            bool counter = leaf is "last_epoch" or "_step_count" or "num_bad_epochs" or "cooldown_counter";
            long limit = Math.Max(maxSteps, Epoch) + 1;
            if (counter && (double.IsNaN(value) || value < -1 || value > limit || value != Math.Floor(value)))
                Fail($"scheduler '{key}' {value} is outside -1..{limit}");
            if (!counter && (double.IsNaN(value) || (leaf != "best" && !double.IsFinite(value)) || (key.Contains("lr") && value < 0)))
                Fail($"scheduler '{key}' is {value}");
        }
        if (Scaler is not null && (Scaler.Length != 2 || !(Scaler[0] > 0) || !double.IsFinite(Scaler[0]) || !(Scaler[1] >= 0) || Scaler[1] > maxSteps || Scaler[1] != Math.Floor(Scaler[1])))
            Fail($"scaler state [{string.Join(", ", Scaler)}] is not a positive finite scale and a growth count within 0..{maxSteps}");
    }
}

/// <summary>
/// Running sums of a training epoch cut mid-way: the batch-size-weighted loss sum over <paramref name="Samples"/>
/// samples, and <paramref name="Correct"/> top-1 hits of <paramref name="Counted"/> classified samples.
/// </summary>
public sealed record PartialEpochSums(double LossSum, long Samples, long Correct, long Counted)
{
    /// <summary>The sums of several ranks, added in rank order (so the total's bits do not depend on how they were gathered).</summary>
    public static PartialEpochSums Total(IReadOnlyList<PartialEpochSums> ranks)
    {
        double loss = 0;
        long samples = 0, correct = 0, counted = 0;
        foreach (var r in ranks) { loss += r.LossSum; samples += r.Samples; correct += r.Correct; counted += r.Counted; }
        return new(loss, samples, correct, counted);
    }

    internal bool CountsAreConsistent => Correct >= 0 && Correct <= Counted && Counted <= Samples;
}
