using Ember.Training.Amp;

namespace Ember.Training;

/// <summary>The switches of a Trainer fit; each is one of the notes' training tricks, off by default.</summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs to train.</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Micro-batches per optimizer step: the loss is scaled by 1/N and the step happens every N batches (and at the epoch's end).</summary>
    public int AccumulationSteps { get; init; } = 1;
    /// <summary>Clip the total gradient norm to this value before each step.</summary>
    public double? ClipGradNorm { get; init; }
    /// <summary>Clip each gradient element to ±value before each step.</summary>
    public double? ClipGradValue { get; init; }
    /// <summary>Flooding level b: the loss becomes |loss − b| + b, so below b the gradient pushes the loss back up.</summary>
    public double? FloodLevel { get; init; }
    /// <summary>Run matmul/conv in reduced precision (mixed precision).</summary>
    public AutocastDType? Autocast { get; init; }
    /// <summary>Dynamic loss scaling (for float16); a step with non-finite gradients is skipped.</summary>
    public GradScaler? Scaler { get; init; }
    /// <summary>Weights EMA updated after each step and used for validation.</summary>
    public ModelEma? Ema { get; init; }
    /// <summary>Whether the scheduler steps after every optimizer step (OneCycle, warm-up) or once per epoch.</summary>
    public bool SchedulerPerStep { get; init; }
    /// <summary>Log per-layer gradient norms into <see cref="TrainerState"/> every N steps (0: off).</summary>
    public int GradientNormInterval { get; init; }
    /// <summary>Test-time augmentation at validation: averaged softmax of the model on the input and its horizontal flip.</summary>
    public bool TestTimeAugmentation { get; init; }
}
