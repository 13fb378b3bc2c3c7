using Ember.Optim;
using Ember.Optim.Schedulers;
using Ember.Training.Amp;

namespace Ember.Training.Callbacks;

/// <summary>
/// Writes <c>last</c> after every epoch and <c>best</c> whenever the monitored validation metric improves on the best so
/// far, as checkpoint folders (see <see cref="Checkpoint"/>); the best value is part of the saved state, so a resumed run
/// replaces <c>best</c> only with a better epoch. When training stops mid-epoch (Ctrl-C, SIGTERM), <c>last</c> records how
/// many batches of the epoch were done, so a resume can skip exactly those and continue the same batch sequence.
/// <para>
/// With EMA, as in ultralytics, the EMA weights are the model: <c>best</c> holds them as its model.safetensors (the
/// weights that were validated), while <c>last</c> keeps the live weights, the optimizer state and the EMA shadow for resuming.
/// </para>
/// </summary>
public sealed class ModelCheckpoint : Callback
{
    readonly string folder;
    readonly Optimizer optimizer;
    readonly LRScheduler? scheduler;
    readonly ReduceLROnPlateau? plateau;
    readonly GradScaler? scaler;
    readonly ModelEma? ema;
    readonly Func<Dictionary<string, string>> metadata;
    bool epochOpen;

    /// <summary>Saves under <paramref name="folder"/>/last and /best, monitoring <paramref name="monitor"/> (higher is better for top1/top5, lower for val_loss).</summary>
    public ModelCheckpoint(string folder, Optimizer optimizer, LRScheduler? scheduler = null, ReduceLROnPlateau? plateau = null,
        GradScaler? scaler = null, ModelEma? ema = null, string monitor = "top1", Func<Dictionary<string, string>>? metadata = null)
    {
        this.folder = folder; this.optimizer = optimizer; this.scheduler = scheduler; this.plateau = plateau;
        this.scaler = scaler; this.ema = ema; Monitor = monitor;
        this.metadata = metadata ?? (() => new Dictionary<string, string>());
    }

    /// <summary>
    /// The weights <c>best</c> holds when there is no EMA (default, null: the model's state dict). A LoRA run gives its
    /// merged model here, so that best/ is a plain model while last/ keeps the adapters apart for resuming.
    /// </summary>
    public Func<IEnumerable<KeyValuePair<string, Tensor>>>? BestWeights { get; init; }

    /// <summary>The validation metric deciding <c>best</c>.</summary>
    public string Monitor { get; }
    /// <summary>Best value seen.</summary>
    public double Best { get; private set; } = double.NaN;
    /// <summary>Epoch of <see cref="Best"/> (0: none yet).</summary>
    public int BestEpoch { get; private set; }
    /// <summary>Path of the last checkpoint.</summary>
    public string LastPath => Path.Combine(folder, "last");
    /// <summary>Path of the best checkpoint.</summary>
    public string BestPath => Path.Combine(folder, "best");

    /// <inheritdoc/>
    public override void OnEpochStart(TrainerState state) => epochOpen = true;

    /// <inheritdoc/>
    public override void OnEpochEnd(TrainerState state)
    {
        epochOpen = false;
        bool improved = false;
        if (state.ValidationMetrics.TryGetValue(Monitor, out var value) && double.IsFinite(value))
        {
            bool higherIsBetter = Monitor != "val_loss";
            improved = double.IsNaN(Best) || (higherIsBetter ? value > Best : value < Best);
            if (improved) { Best = value; BestEpoch = state.Epoch; }
        }
        // best before last: a crash between the two leaves last at the previous epoch, whose resume redoes this
        // epoch bit for bit and rewrites the same best; the other order could lose the best epoch's weights
        if (improved) Checkpoint.Save(BestPath, ema?.Shadow ?? BestWeights?.Invoke() ?? Saved(state).StateDict(), Record(state, complete: true) with { ModelIsEma = ema is not null });
        Checkpoint.Save(LastPath, Saved(state), Record(state, complete: true), optimizer, ema);
    }

    // A DistributedDataParallel wrapper is saved as the model it wraps, so that the checkpoint loads into a plain model
    // with the same keys as a one-process run's (PyTorch users save ddp.module for the same reason).
    static Nn.Module Saved(TrainerState state) => state.Model is Distributed.DistributedDataParallel ddp ? ddp.Module : state.Model;

    /// <inheritdoc/>
    public override void OnFitEnd(TrainerState state)
    {
        if (epochOpen && state.StopRequested) Checkpoint.Save(LastPath, Saved(state), Record(state, complete: false), optimizer, ema);
    }

    static bool SeveralProcesses => Distributed.Distributed.IsInitialized && Distributed.Distributed.WorldSize > 1;

    /// <inheritdoc/>
    public override Dictionary<string, double>? StateDict() => new() { ["best"] = Best, ["best_epoch"] = BestEpoch };

    /// <inheritdoc/>
    public override void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        if (!state.TryGetValue("best", out var best) || !state.TryGetValue("best_epoch", out var epoch))
            throw new KeyNotFoundException("ModelCheckpoint.LoadStateDict: expected 'best' and 'best_epoch'");
        if (double.IsInfinity(best) || !(epoch >= 0 && epoch <= int.MaxValue && epoch == Math.Floor(epoch)))
            throw new ArgumentOutOfRangeException(nameof(state), $"ModelCheckpoint.LoadStateDict: best {best} at epoch {epoch} is out of range");
        Best = best;
        BestEpoch = (int)epoch;
    }

    CheckpointState Record(TrainerState state, bool complete) => new()
    {
        Epoch = state.Epoch,
        BatchesDone = state.BatchIndex,
        EpochComplete = complete,
        GlobalStep = state.GlobalStep,
        // With several processes this one's sums are only its share: the checkpoint takes every rank's, gathered by
        // DistributedEpochMetrics (without it, none: a resume then averages the cut epoch's later batches only).
        PartialEpoch = complete ? null : !SeveralProcesses ? state.EpochSums : state.RankEpochSums is { } ranks ? PartialEpochSums.Total(ranks) : null,
        PartialEpochRanks = complete || !SeveralProcesses ? null : state.RankEpochSums?.ToList(),
        History = [.. state.History],
        Scheduler = scheduler?.StateDict() ?? plateau?.StateDict(),
        Scaler = scaler is null ? null : CheckpointState.ScalerState(scaler),
        Generators = new() { ["default"] = Generator.Default.GetState() },
        Callbacks = state.CallbackStates(),
        Metadata = metadata(),
    };
}
