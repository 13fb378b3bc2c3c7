namespace Ember.Training.Callbacks;

/// <summary>A callback from delegates, for one-off hooks: <c>new LambdaCallback { EpochEnd = s => Console.WriteLine(s.EpochLoss) }</c>.</summary>
public sealed class LambdaCallback : Callback
{
    /// <summary>Runs at epoch end.</summary>
    public Action<TrainerState>? EpochEnd { get; init; }
    /// <summary>Runs at batch end.</summary>
    public Action<TrainerState>? BatchEnd { get; init; }
    /// <summary>Runs after backward.</summary>
    public Action<TrainerState>? AfterBackward { get; init; }
    /// <summary>Runs after each optimizer step.</summary>
    public Action<TrainerState>? AfterOptimizerStep { get; init; }

    /// <inheritdoc/>
    public override void OnEpochEnd(TrainerState state) => EpochEnd?.Invoke(state);
    /// <inheritdoc/>
    public override void OnBatchEnd(TrainerState state) => BatchEnd?.Invoke(state);
    /// <inheritdoc/>
    public override void OnAfterBackward(TrainerState state) => AfterBackward?.Invoke(state);
    /// <inheritdoc/>
    public override void OnAfterOptimizerStep(TrainerState state) => AfterOptimizerStep?.Invoke(state);
}
