using Ember.Training;

namespace Ember.Cli.Commands;

/// <summary>What `train`, `detect train` and `detect pretrain` restore, beyond the weights, when they resume a run.</summary>
internal static class ResumedRun
{
    /// <summary>
    /// Restores from <paramref name="loaded"/> (the run's <paramref name="last"/>/ checkpoint, already loaded into the model,
    /// optimizer and EMA) the schedules' and scaler's states (<paramref name="schedules"/>), the default generator, so the
    /// resumed run draws the same batches and dropouts, and the trainer's counters; a state that does not fit is a
    /// <see cref="CheckpointException"/> naming last/checkpoint.json. Returns the epoch to start at and the batches of it
    /// already trained.
    /// </summary>
    public static (int StartEpoch, int Skip) Restore(Trainer trainer, string last, CheckpointState loaded, Action schedules)
    {
        var file = Path.Combine(last, Checkpoint.JsonFile);
        try
        {
            schedules();
            if (!loaded.Generators.TryGetValue("default", out var g))
                throw new CheckpointException(file, "records no state of the 'default' generator; the resumed run could not draw the same batches");
            Generator.Default.SetState(g);
        }
        catch (Exception e) when (e is KeyNotFoundException or ArgumentException)
        {
            throw new CheckpointException(file, $": {e.Message}");
        }
        trainer.Restore(loaded);
        return (loaded.EpochComplete ? loaded.Epoch + 1 : loaded.Epoch, loaded.EpochComplete ? 0 : loaded.BatchesDone);
    }
}
