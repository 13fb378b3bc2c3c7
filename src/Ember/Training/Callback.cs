namespace Ember.Training;

/// <summary>
/// A training-event listener in the notes' EventManager style: override the events you need; read the
/// <see cref="TrainerState"/> (epoch, step, losses, metrics, lr) and set <see cref="TrainerState.StopRequested"/> to stop.
/// Events fire in registration order.
/// </summary>
public abstract class Callback
{
    /// <summary>Before the first epoch.</summary>
    public virtual void OnFitStart(TrainerState state) { }
    /// <summary>After the last epoch (also after an early stop or an interruption).</summary>
    public virtual void OnFitEnd(TrainerState state) { }
    /// <summary>Before an epoch's first batch.</summary>
    public virtual void OnEpochStart(TrainerState state) { }
    /// <summary>After an epoch's validation; <see cref="TrainerState.History"/> holds its row.</summary>
    public virtual void OnEpochEnd(TrainerState state) { }
    /// <summary>Before a batch's forward pass.</summary>
    public virtual void OnBatchStart(TrainerState state) { }
    /// <summary>After a batch (its loss is in <see cref="TrainerState.BatchLoss"/>).</summary>
    public virtual void OnBatchEnd(TrainerState state) { }
    /// <summary>After backward, before clipping and the optimizer step (gradients are available).</summary>
    public virtual void OnAfterBackward(TrainerState state) { }
    /// <summary>Just before the optimizer step (gradients unscaled and clipped).</summary>
    public virtual void OnBeforeOptimizerStep(TrainerState state) { }
    /// <summary>Just after the optimizer step and the EMA update.</summary>
    public virtual void OnAfterOptimizerStep(TrainerState state) { }
    /// <summary>
    /// After each validation batch's forward pass and loss, in eval mode without a graph (EMA weights applied when set):
    /// the model's <paramref name="output"/> for <paramref name="input"/> and the batch's <paramref name="target"/>, for
    /// metrics the trainer does not compute itself (detection mAP needs each image's boxes).
    /// </summary>
    public virtual void OnValidationBatch(TrainerState state, Tensor input, Tensor output, Tensor target) { }
    /// <summary>After validation, with <see cref="TrainerState.ValidationMetrics"/> filled.</summary>
    public virtual void OnValidationEnd(TrainerState state) { }

    /// <summary>The name under which <see cref="StateDict"/> is saved in a checkpoint (the type name by default; a second callback of the same type gets ".1").</summary>
    public virtual string StateKey => GetType().Name;
    /// <summary>What a resumed fit needs to continue exactly as this callback would have (Lightning's Callback.state_dict); null when it keeps nothing.</summary>
    public virtual Dictionary<string, double>? StateDict() => null;
    /// <summary>Restores what <see cref="StateDict"/> saved; throws <see cref="ArgumentException"/> for values out of range.</summary>
    public virtual void LoadStateDict(IReadOnlyDictionary<string, double> state) { }
}
