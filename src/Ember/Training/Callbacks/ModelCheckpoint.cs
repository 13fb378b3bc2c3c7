using Ember.Optim;
using Ember.Optim.Schedulers;
using Ember.Training.Amp;

namespace Ember.Training.Callbacks;

/// <summary>
/// Writes <c>last</c> after every epoch and <c>best</c> whenever the monitored validation metric improves, as
/// checkpoint folders (see <see cref="Checkpoint"/>). When training stops mid-epoch (Ctrl-C), <c>last</c> records how many
/// batches of the epoch were done, so a resume can skip exactly those and continue the same batch sequence.
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

    /// <summary>The validation metric deciding <c>best</c>.</summary>
    public string Monitor { get; }
    /// <summary>Best value seen.</summary>
    public double Best { get; private set; } = double.NaN;
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
        Save(LastPath, state, complete: true);
        if (state.ValidationMetrics.TryGetValue(Monitor, out var value) && double.IsFinite(value))
        {
            bool higherIsBetter = Monitor != "val_loss";
            if (double.IsNaN(Best) || (higherIsBetter ? value > Best : value < Best))
            {
                Best = value;
                Save(BestPath, state, complete: true);
            }
        }
    }

    /// <inheritdoc/>
    public override void OnFitEnd(TrainerState state)
    {
        if (epochOpen && state.StopRequested) Save(LastPath, state, complete: false);
    }

    void Save(string path, TrainerState state, bool complete)
    {
        var checkpointState = new CheckpointState
        {
            Epoch = state.Epoch,
            BatchesDone = state.BatchIndex,
            EpochComplete = complete,
            GlobalStep = state.GlobalStep,
            History = [.. state.History],
            Scheduler = scheduler?.StateDict() ?? plateau?.StateDict(),
            Scaler = scaler is null ? null : CheckpointState.ScalerState(scaler),
            Generators = new() { ["default"] = Generator.Default.GetState() },
            Metadata = metadata(),
        };
        Checkpoint.Save(path, state.Model, checkpointState, optimizer, ema);
    }
}
