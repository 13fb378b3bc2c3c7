using System.Diagnostics;
using Ember.Metrics;
using Ember.Nn;
using Ember.Nn.Utils;
using Ember.Optim;
using Ember.Optim.Schedulers;
using Ember.Training.Amp;

namespace Ember.Training;

/// <summary>
/// Fits a model: per epoch, train over the training batches (autocast, flooding, accumulation, scaling, clipping,
/// optimizer and scheduler steps, EMA), then validate in eval mode without a graph, then fire the callbacks.
/// A plain C# loop over the same pieces stays possible; this class only removes the boilerplate.
/// </summary>
public sealed class Trainer
{
    readonly Module model;
    readonly Optimizer optimizer;
    readonly Func<Tensor, Tensor, Tensor> lossFunction;
    readonly LRScheduler? scheduler;
    readonly ReduceLROnPlateau? plateau;
    readonly List<Callback> callbacks = new();

    /// <summary>A trainer for <paramref name="model"/> with a loss of (output, target), an optimizer and an optional schedule.</summary>
    public Trainer(Module model, Optimizer optimizer, Func<Tensor, Tensor, Tensor> lossFunction, TrainerOptions? options = null,
        LRScheduler? scheduler = null, ReduceLROnPlateau? plateau = null)
    {
        this.model = model;
        this.optimizer = optimizer;
        this.lossFunction = lossFunction;
        this.scheduler = scheduler;
        this.plateau = plateau;
        Options = options ?? new TrainerOptions();
        if (Options.AccumulationSteps < 1) throw new ArgumentOutOfRangeException(nameof(options), Options.AccumulationSteps, "Trainer: AccumulationSteps must be at least 1");
        State = new TrainerState(model, CallbackStates);
    }

    /// <summary>The fit's switches.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The live state callbacks read.</summary>
    public TrainerState State { get; }

    /// <summary>
    /// Registers callbacks; they fire in registration order, except that <see cref="Callbacks.ModelCheckpoint"/>s always
    /// fire after all others (as in Lightning), so a checkpoint records the epoch as every other callback has seen it.
    /// </summary>
    public Trainer Add(params Callback[] callback)
    {
        foreach (var c in callback)
        {
            int firstCheckpoint = callbacks.FindIndex(x => x is Callbacks.ModelCheckpoint);
            if (c is Callbacks.ModelCheckpoint || firstCheckpoint < 0) callbacks.Add(c);
            else callbacks.Insert(firstCheckpoint, c);
        }
        return this;
    }

    Dictionary<string, Dictionary<string, double>> CallbackStates()
    {
        var states = new Dictionary<string, Dictionary<string, double>>();
        foreach (var (key, c) in KeyedCallbacks())
            if (c.StateDict() is { } state) states[key] = state;
        return states;
    }

    List<(string Key, Callback Callback)> KeyedCallbacks()
    {
        var keyed = new List<(string, Callback)>();
        var seen = new Dictionary<string, int>();
        foreach (var c in callbacks)
        {
            int n = seen.TryGetValue(c.StateKey, out var k) ? k : 0;
            seen[c.StateKey] = n + 1;
            keyed.Add((n == 0 ? c.StateKey : $"{c.StateKey}.{n}", c));
        }
        return keyed;
    }

    /// <summary>
    /// Trains from <paramref name="startEpoch"/> (1-based; greater when resuming) to <see cref="TrainerOptions.Epochs"/>.
    /// <paramref name="trainBatches"/> gives the batches of an epoch (so a loader can reshuffle per epoch reproducibly).
    /// </summary>
    public TrainerState Fit(Func<int, IEnumerable<(Tensor Input, Tensor Target)>> trainBatches,
        Func<int, IEnumerable<(Tensor Input, Tensor Target)>>? validationBatches = null, int startEpoch = 1, int? batchesPerEpoch = null,
        int skipBatches = 0)
    {
        State.Epochs = Options.Epochs;
        State.BatchesPerEpoch = batchesPerEpoch;
        State.Lr = CurrentLr();
        State.StoppedMidEpoch = false;
        State.RankEpochSums = null;
        Fire(c => c.OnFitStart(State));
        try
        {
            for (int epoch = startEpoch; epoch <= Options.Epochs && !State.StopRequested; epoch++)
            {
                State.Epoch = epoch;
                var clock = Stopwatch.StartNew();
                int skip = epoch == startEpoch ? skipBatches : 0;
                bool completed = TrainEpoch(skip == 0 ? trainBatches(epoch) : trainBatches(epoch).Skip(skip), skip);
                if (!completed) { State.StoppedMidEpoch = true; break; } // no validation, no epoch-end events; OnFitEnd sees the open epoch
                // A finite loss says nothing about the step taken after it: one huge step (lr 1e300) leaves NaN weights
                // that the next loss would show, but after an epoch's last step there is none. Stop here, before the
                // epoch-end events save them as last/ or best/.
                if (Ember.Interop.FiniteWeights.FirstNonFinite(model.NamedParameters().Select(p => KeyValuePair.Create(p.Name, (Tensor)p.Parameter))) is string nonFinite)
                    throw new TrainingDivergedException($"Trainer: the weights became non-finite in epoch {State.Epoch} (by step {State.GlobalStep}; the losses were finite): {nonFinite}; " +
                        "lower the learning rate, enable gradient clipping, or check the data");
                (double Loss, double Top1, double Top5)? validation = validationBatches is null ? null : Validate(validationBatches(epoch));
                if (plateau is not null)
                {
                    if (validation is null) throw new InvalidOperationException("Trainer: ReduceLROnPlateau needs validation batches (it monitors val_loss)");
                    plateau.Step(validation.Value.Loss);
                }
                else if (scheduler is not null && !Options.SchedulerPerStep) scheduler.Step();
                State.Lr = CurrentLr();
                State.History.Add(new EpochMetrics(epoch, State.EpochLoss, State.EpochAccuracy,
                    validation?.Loss ?? double.NaN, validation?.Top1 ?? double.NaN, validation?.Top5 ?? double.NaN, State.Lr, clock.Elapsed.TotalSeconds));
                Fire(c => c.OnEpochEnd(State));
            }
        }
        finally
        {
            Fire(c => c.OnFitEnd(State));
        }
        return State;
    }

    bool TrainEpoch(IEnumerable<(Tensor Input, Tensor Target)> batches, int firstBatch)
    {
        model.Train();
        var meanLoss = new MeanMetric();
        var accuracy = new TopKAccuracy(1);
        State.EpochSamples = 0;
        if (firstBatch > 0 && State.ResumedSums is { } saved)
        {
            // the batches before the cut count toward this epoch's train_loss and train_acc, as in an unbroken run
            meanLoss.Restore(saved.LossSum, saved.Samples);
            if (saved.Counted > 0) accuracy.Restore(saved.Correct, saved.Counted);
            State.EpochSamples = saved.Samples;
        }
        State.ResumedSums = null;
        State.EpochSums = new(meanLoss.Sum, meanLoss.Count, accuracy.Correct, accuracy.Count);
        State.BatchIndex = firstBatch;
        Fire(c => c.OnEpochStart(State));
        optimizer.ZeroGrad();
        int pending = 0;
        foreach (var (input, target) in batches)
        {
            Fire(c => c.OnBatchStart(State));
            Tensor output, loss;
            using (Options.Autocast is AutocastDType dtype ? Amp.Autocast.Enable(dtype) : null)
            {
                output = model.Call(input);
                loss = lossFunction(output, target);
            }
            double value = loss.Item();
            State.BatchLoss = value;
            // Under a GradScaler a non-finite loss may be a transient float16 overflow (the step is skipped), but not forever.
            if (!double.IsFinite(value) && (Options.Scaler is null || Options.Scaler.HasDiverged(model.Parameters())))
                throw new TrainingDivergedException($"Trainer: the loss became {value} at epoch {State.Epoch}, batch {State.BatchIndex} (step {State.GlobalStep}); " +
                    "lower the learning rate, enable gradient clipping, or check the data");
            if (Options.FloodLevel is double b) loss = (loss - b).Abs() + b;
            if (Options.AccumulationSteps > 1) loss = loss / Options.AccumulationSteps;
            if (Options.Scaler is not null) loss = Options.Scaler.Scale(loss);
            loss.Backward();
            Fire(c => c.OnAfterBackward(State));
            pending++;

            int n = input.Size(0);
            meanLoss.Update(value, n);
            State.EpochSamples += n;
            if (output.Rank == 2 && target.Rank == 1 && target.DType == DType.Int64) accuracy.Update(output.Detach(), target);
            State.EpochLoss = meanLoss.Compute();
            State.EpochAccuracy = accuracy.Count > 0 ? accuracy.Compute() : double.NaN;
            State.EpochSums = new(meanLoss.Sum, meanLoss.Count, accuracy.Correct, accuracy.Count);

            bool lastOfEpoch = State.BatchesPerEpoch is int total && State.BatchIndex == total - 1;
            if (pending == Options.AccumulationSteps || lastOfEpoch) { OptimizerStep(); pending = 0; }
            Fire(c => c.OnBatchEnd(State));
            State.BatchIndex++;
            // Stop only at an optimizer-step boundary: no pending micro-batch gradient is lost, so a resume from the
            // checkpoint then written is bit-identical to a run that was never stopped.
            if (State.StopRequested && pending == 0 && !(State.BatchesPerEpoch is int n2 && State.BatchIndex >= n2)) return false;
        }
        if (pending > 0) OptimizerStep();
        return true;
    }

    void OptimizerStep()
    {
        var parameters = model.Parameters().Where(p => p.RequiresGrad).ToList();
        Options.Scaler?.Unscale(parameters);
        if (Options.ClipGradNorm is double maxNorm) ClipGrad.ClipGradNorm(parameters, maxNorm);
        if (Options.ClipGradValue is double clip) ClipGrad.ClipGradValue(parameters, clip);
        if (Options.GradientNormInterval > 0 && State.GlobalStep % Options.GradientNormInterval == 0) RecordGradientNorms();
        Fire(c => c.OnBeforeOptimizerStep(State));
        bool stepped = Options.Scaler is null ? Step() : Options.Scaler.Step(() => optimizer.Step(), parameters);
        Options.Scaler?.Update();
        optimizer.ZeroGrad();
        if (!stepped) { State.SkippedSteps++; return; }
        State.GlobalStep++;
        Options.Ema?.Update();
        if (scheduler is not null && Options.SchedulerPerStep) scheduler.Step();
        State.Lr = CurrentLr();
        Fire(c => c.OnAfterOptimizerStep(State));
    }

    bool Step() { optimizer.Step(); return true; }

    /// <summary>
    /// Continues the counters, history and callback states (best metric, early-stopping patience) of a checkpointed run
    /// (call before <see cref="Fit"/> when resuming). A callback state out of range is a <see cref="CheckpointException"/>.
    /// </summary>
    public void Restore(CheckpointState checkpoint)
    {
        foreach (var (key, c) in KeyedCallbacks())
            if (checkpoint.Callbacks.TryGetValue(key, out var saved))
            {
                try { c.LoadStateDict(saved); }
                catch (Exception e) when (e is ArgumentException or KeyNotFoundException)
                {
                    throw new CheckpointException(checkpoint.Source ?? Checkpoint.JsonFile, $": the saved state of callback {key} cannot be restored: {e.Message}", e);
                }
            }
        State.GlobalStep = checkpoint.GlobalStep;
        State.ResumedSums = checkpoint.EpochComplete ? null : ResumedSums(checkpoint);
        State.History.Clear();
        State.History.AddRange(checkpoint.History);
    }

    // As many processes as the cut run: each rank continues its own sums, so the epoch-end reduction adds exactly what
    // the unbroken run's did. Another count: the whole epoch's sums go to rank 0, and the reduction adds the others' new ones.
    static PartialEpochSums? ResumedSums(CheckpointState checkpoint)
    {
        bool several = Distributed.Distributed.IsInitialized;
        int rank = several ? Distributed.Distributed.Rank : 0, world = several ? Distributed.Distributed.WorldSize : 1;
        if (checkpoint.PartialEpochRanks is { } ranks && ranks.Count == world) return ranks[rank];
        return rank == 0 ? checkpoint.PartialEpoch : null;
    }

    void RecordGradientNorms()
    {
        State.GradientNorms.Clear();
        foreach (var (name, p) in model.NamedParameters())
            if (p.Grad is not null) State.GradientNorms[name] = (p.Grad.Norm().Item(), p.Detach().Norm().Item());
    }

    /// <summary>
    /// Mean loss, top-1 and top-5 accuracy over the batches, in eval mode without a graph (EMA weights if set); the previous
    /// mode is restored. Each batch's output goes to <see cref="Callback.OnValidationBatch"/> for other metrics.
    /// </summary>
    public (double Loss, double Top1, double Top5) Validate(IEnumerable<(Tensor Input, Tensor Target)> batches)
    {
        bool wasTraining = model.Training;
        model.Eval();
        var meanLoss = new MeanMetric();
        var top1 = new TopKAccuracy(1);
        var top5 = new TopKAccuracy(5);
        using (Options.Ema?.Apply())
        using (Torch.NoGrad())
        {
            foreach (var (input, target) in batches)
            {
                var output = Options.TestTimeAugmentation ? FlipAverage(input) : model.Call(input);
                meanLoss.Update(lossFunction(output, target).Item(), input.Size(0));
                if (output.Rank == 2 && target.Rank == 1) { top1.Update(output, target); top5.Update(output, target); }
                foreach (var c in callbacks) c.OnValidationBatch(State, input, output, target);
            }
        }
        model.Train(wasTraining);
        var result = (meanLoss.Compute(), top1.Count > 0 ? top1.Compute() : double.NaN, top5.Count > 0 ? top5.Compute() : double.NaN);
        State.ValidationMetrics["val_loss"] = result.Item1;
        State.ValidationMetrics["top1"] = result.Item2;
        State.ValidationMetrics["top5"] = result.Item3;
        State.ValidationSamples = meanLoss.Count;
        Fire(c => c.OnValidationEnd(State));
        // as the callbacks left them: with sharded validation, the metrics reduced over all ranks
        return (State.ValidationMetrics["val_loss"], State.ValidationMetrics["top1"], State.ValidationMetrics["top5"]);
    }

    // Averages the log of the mean softmax over the image and its horizontal flip, so the loss still sees logits-like scores.
    Tensor FlipAverage(Tensor input)
    {
        var p = (model.Call(input).Softmax(1) + model.Call(input.Flip(-1)).Softmax(1)) * 0.5;
        return p.Log();
    }

    double CurrentLr() => optimizer.ParamGroups.Count > 0 ? optimizer.ParamGroups[0].LearningRate : double.NaN;

    void Fire(Action<Callback> action)
    {
        foreach (var c in callbacks) action(c);
    }
}

/// <summary>The loss became NaN or infinite; the message names the epoch, batch and step.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
