using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Ember.Analysis;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Data;
using Ember.Data.Imbalance;
using Ember.Data.Transforms;
using Ember.Distributed;
using Ember.Interop;
using Ember.Metrics;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Optim;
using Ember.Optim.Schedulers;
using Ember.Training;
using Ember.Training.Amp;
using Ember.Training.Callbacks;

namespace Ember.Cli.Commands;

/// <summary>Wires a <see cref="TrainConfig"/> to the library: data, model, optimizer, schedule, trainer, callbacks and the run folder.</summary>
public static class TrainJob
{
    /// <summary>The options that may differ from args.yaml when resuming: more epochs, and how progress is shown.</summary>
    public static readonly IReadOnlySet<string> ResumableKeys = new HashSet<string> { "epochs", "plain", "nproc" };

    /// <summary>
    /// Runs a training job; returns the process exit code (130 when interrupted by Ctrl-C, 143 by SIGTERM).
    /// When resuming, the run's args.yaml defines the run and <paramref name="resumeOverrides"/> (option key → value)
    /// may change only <see cref="ResumableKeys"/>; the others are rejected unless they repeat the recorded value.
    /// </summary>
    /// <param name="stop">When it fires, training stops at the next batch or epoch end and the weights reached are scored;
    /// the exit code stays 0.</param>
    /// <param name="budget">A study's per-trial time budget, counted from this call: checked at each batch and epoch end
    /// against a clock (not a timer thread, which a busy machine may run late), then handled like <paramref name="stop"/>.</param>
    /// <param name="finished">Told the outcome (run folder, epochs, the final weights' test metrics) when the job ends.</param>
    /// <param name="signalled">A study's Ctrl-C or SIGTERM received before this run's own handlers are registered (while
    /// it is set up): the run stops as if the signal came then (exit 130 or 143). Null: none.</param>
    public static int Run(TrainConfig config, string? resumeFolder, TextWriter? plainOutput = null, int? interruptAfterBatches = null,
        CancellationToken stop = default, Action<TrainOutcome>? finished = null, IReadOnlyDictionary<string, string?>? resumeOverrides = null,
        bool allowNonFinite = false, TimeSpan? budget = null, Func<PosixSignal?>? signalled = null)
    {
        // Started by mpirun (ember train --nproc N, or mpirun -n N ember train): this process is one rank of the job.
        if (LaunchEnvironment.Read() is null)
            return RunRank(config, resumeFolder, plainOutput, interruptAfterBatches, stop, finished, resumeOverrides, allowNonFinite, budget, distributed: false, rank: 0, world: 1, signalled);
        Distributed.Distributed.InitProcessGroup();
        // A forwarded Ctrl-C or SIGTERM (SIGUSR1/2) outside training, e.g. during the final evaluation, must not end
        // this rank by the signals' default action; during training the handlers below stop and save.
        static void Ignore(PosixSignalContext context) => context.Cancel = true;
        using var usr1 = PosixSignalRegistration.Create((PosixSignal)DistributedLaunch.SigUsr1, Ignore);
        using var usr2 = PosixSignalRegistration.Create((PosixSignal)DistributedLaunch.SigUsr2, Ignore);
        try
        {
            return RunRank(config, resumeFolder, plainOutput, interruptAfterBatches, stop, finished, resumeOverrides, allowNonFinite, budget,
                distributed: true, Distributed.Distributed.Rank, Distributed.Distributed.WorldSize);
        }
        catch (Exception e) when (Distributed.Distributed.WorldSize > 1)
        {
            // the peers would wait in their next all-reduce until the timeout: end the whole job now, with this message
            var (code, message) = CliErrors.Describe(e);
            Distributed.Distributed.Abort(message, code);
            throw;
        }
        finally
        {
            if (Distributed.Distributed.IsInitialized) Distributed.Distributed.DestroyProcessGroup();
        }
    }

    /// <summary>The batch size of validation and the final test.</summary>
    const int TestBatchSize = 500;

    /// <summary>Test hook: a callback the next training run on this async flow adds after its own (to fail it at a chosen point).</summary>
    internal static readonly AsyncLocal<Callback?> TestCallback = new();

    /// <summary>
    /// The processes `ember train` needs for <paramref name="config"/> or for resuming <paramref name="resumeFolder"/>
    /// (checked first, as <see cref="RunRank"/> does: a folder another process trains in is refused before mpirun is
    /// started). Asked by the command that starts the job, not by its ranks (<see cref="TrainCommand.ProcessesToStart"/>).
    /// </summary>
    internal static int Processes(TrainConfig config, string? resumeFolder, IReadOnlyDictionary<string, string?> resumeOverrides)
    {
        if (resumeFolder is null) return config.Nproc;
        RunFolderCheck.ForResume(resumeFolder, RunFolderKind.Classification, () => Finished(resumeFolder, resumeOverrides));
        var args = Path.Combine(resumeFolder, "args.yaml");
        return ResumeConfig(args, ConfigValidator.Validate(ConfigLoader.Load(args)), resumeOverrides).Nproc;
    }

    // Whether resuming only finds the run done (last/ completed the epochs asked for): it then writes nothing.
    static bool Finished(string resumeFolder, IReadOnlyDictionary<string, string?> resumeOverrides)
    {
        var args = Path.Combine(resumeFolder, "args.yaml");
        return RunFolderCheck.Finished(resumeFolder, ResumeConfig(args, ConfigValidator.Validate(ConfigLoader.Load(args)), resumeOverrides).Epochs);
    }

    // One rank of a run (rank 0 of 1 without MPI). Rank 0 alone writes the run folder; every rank trains on its shard.
    static int RunRank(TrainConfig config, string? resumeFolder, TextWriter? plainOutput, int? interruptAfterBatches,
        CancellationToken stop, Action<TrainOutcome>? finished, IReadOnlyDictionary<string, string?>? resumeOverrides,
        bool allowNonFinite, TimeSpan? budget, bool distributed, int rank, int world, Func<PosixSignal?>? signalled = null)
    {
        bool lead = rank == 0;
        var started = Stopwatch.StartNew();
        string runDir;
        CheckpointState? resumeState = null;
        TrainConfig? recorded = null;
        if (resumeFolder is not null)
        {
            var overrides = resumeOverrides ?? new Dictionary<string, string?>();
            // rank 0 alone holds the folder (below): the other ranks' check would find it held
            RunFolderCheck.ForResume(resumeFolder, RunFolderKind.Classification, () => Finished(resumeFolder, overrides), lockCheck: lead);
            var args = Path.Combine(resumeFolder, "args.yaml");
            recorded = ConfigValidator.Validate(ConfigLoader.Load(args));
            config = ResumeConfig(args, recorded, overrides);
            if (distributed) config = WithWorldSize(config, world, explicitNproc: resumeOverrides?.ContainsKey("nproc") == true);
            else CheckOneProcess(config);
            resumeState = Checkpoint.ReadState(Path.Combine(resumeFolder, "last"));
            CheckModel(resumeState, config, Path.Combine(resumeFolder, "last"), args);
            if (resumeState.Metadata.TryGetValue("config", out var fingerprint) && fingerprint != Fingerprint(recorded))
                throw new CheckpointException(Path.Combine(resumeFolder, "last", Checkpoint.JsonFile), $"was written by a run with other options than {args} records; " +
                    "the run's files do not belong together (was last/ copied from another run, or args.yaml edited?)");
            if (config.Epochs < resumeState.Epoch && resumeState.Epoch <= recorded.Epochs)
                throw new ConfigException($"--epochs {config.Epochs} is fewer than the {resumeState.Epoch} epoch(s) {resumeFolder} has already reached");
            runDir = resumeFolder;
        }
        else
        {
            config = DataSource.Resolve(config).Config;
            if (distributed) config = WithWorldSize(config, world, explicitNproc: config.Nproc != 1);
            else CheckOneProcess(config);
            runDir = lead ? RunFolder.Create(config.Project) : "";
            if (lead) AtomicFile.WriteAllText(Path.Combine(runDir, "args.yaml"), ConfigLoader.ToYaml(config));
        }
        // no other process may train in the folder while this one does (a second --resume of it is refused)
        using var held = lead ? RunFolderLock.Hold(runDir, "ember train --resume") : null;

        CliErrors.MemoryHint = $"lower --batch-size ({config.BatchSize}) or --workers ({config.Workers}), or train a smaller --model than {config.Model}";
        Torch.ManualSeed(config.Seed);
        var (data, _) = DataSource.Resolve(config);
        var normalize = new Normalize([data.Mean], [data.Std]);
        ITransform trainTransform = config.Augment
            ? new Compose(new RandomCrop(28, padding: 2), new RandomHorizontalFlip(), normalize)
            : normalize;
        var trainSplit = new Mnist(data.Folder, train: true, transform: trainTransform);
        data.CheckLabels(trainSplit);
        IDataset<(Tensor Image, long Label)> trainSet = trainSplit;
        var trainLabels = trainSplit.Labels.Select(b => (long)b).ToArray();
        var source = Enumerable.Range(0, trainLabels.Length).ToArray(); // each training image's index in the split
        if (config.Imbalance > 0)
        {
            var kept = ImbalancedIndices(trainLabels, data.Classes.Count, config.Imbalance);
            trainSet = new Subset<(Tensor, long)>(trainSet, kept);
            trainLabels = [.. kept.Select(i => trainLabels[i])];
            source = kept;
        }
        if (config.Limit > 0 && config.Limit < trainSet.Count)
        {
            trainSet = new Subset<(Tensor, long)>(trainSet, Enumerable.Range(0, config.Limit).ToArray());
            trainLabels = trainLabels[..config.Limit];
            source = source[..config.Limit];
        }
        var testSet = new Mnist(data.Folder, train: false, transform: normalize);
        if (config.Labelled > 0)
            (trainSet, trainLabels) = PseudoLabelStage.Run(config, trainSplit, new Mnist(data.Folder, train: true, transform: normalize), source, trainLabels,
                testSet, data.Classes.Count, lead ? runDir : null, resumeState is not null && config.PseudoLabel > 0 ? runDir : null);
        if (config.Undersample == "tomek") (trainSet, trainLabels) = TomekUndersample(trainSet, trainLabels, data.Classes.Count);
        if (config.Oversample != "none") (trainSet, trainLabels) = SmoteOversample(trainSet, data.Classes.Count, config.Seed, tomek: config.Oversample == "smote-tomek");
        data.CheckLabels(testSet);
        var mixup = config.Mixup > 0 ? new MixUp(data.Classes.Count, config.Mixup) : null;
        // Weighted sampling draws as many samples per epoch as the set holds, each class equally often on average.
        var weights = config.Sampler == "weighted" ? ClassWeights.SampleWeights(trainLabels, data.Classes.Count) : null;
        var sampler = weights is not null && !distributed ? new WeightedRandomSampler(weights, trainLabels.Length) : null;
        // Each rank reads its shard of one global order (or weighted draw), which depends on the seed alone (not on the number of ranks).
        var weightedShard = weights is not null && distributed ? new DistributedWeightedSampler(weights, trainLabels.Length, world, rank, seed: config.Seed) : null;
        var shard = distributed && weightedShard is null ? new DistributedSampler(trainSet.Count, world, rank, shuffle: true, seed: config.Seed) : null;
        var trainLoader = new DataLoader<(Tensor, long)>(trainSet, config.BatchSize / world, shuffle: !distributed && sampler is null, sampler: (Sampler?)shard ?? (Sampler?)weightedShard ?? sampler,
            numWorkers: config.Workers, seed: config.Seed, batchTransform: mixup is null ? null : mixup.Apply);
        // Each rank validates and tests on its shard of the test set (every world-th image); the metrics are reduced.
        IDataset<(Tensor Image, long Label)> evalSet = world > 1 ? new Subset<(Tensor, long)>(testSet, TestShard(testSet.Count, rank, world)) : testSet;
        var testLoader = new DataLoader<(Tensor, long)>(evalSet, TestBatchSize, numWorkers: config.Workers, seed: config.Seed);

        var model = CreateModel(config, data.Classes.Count);
        // a batch larger than the set is the whole set; each rank holds its share
        long batch = Math.Max(1, Math.Min(config.BatchSize, (long)trainSet.Count) / world);
        Func<Tensor, Tensor, Tensor> loss = config.Loss == "focal"
            ? (output, target) => F.SoftmaxFocalLoss(output, target)
            : (output, target) => F.CrossEntropy(output, target, labelSmoothing: config.LabelSmoothing);
        AutocastDType? autocast = config.Amp switch { "bf16" => AutocastDType.BFloat16, "fp16" => AutocastDType.Float16, _ => null };
        int height = trainSplit.Height, width = trainSplit.Width, classes = data.Classes.Count;
        // the loader's workers keep batches ready beside the one in the step (its prefetch factor, 2, each)
        double loaderBytes = 4.0 * height * width * 2 * config.Workers;
        double state = TrainingMemory.StateBytes(model.ParameterCount(), TrainingMemory.StateOf(config.Optimizer, config.Momentum), ema: config.Ema > 0);
        (Tensor, Tensor) ProbeBatch(int n) => (Torch.Zeros(n, 1, height, width), Torch.Zeros([n], DType.Int64));
        TrainingMemory.RequireFits($"--model {config.Model} at --batch-size {config.BatchSize}{(batch < config.BatchSize ? $" ({batch} images a batch{(world > 1 ? " per process" : "")})" : "")}",
            "for one training step", () => MemoryProbe.TrainingStep(() => (CreateModel(config, classes), loss), ProbeBatch, autocast), null,
            1, loaderBytes, batch, "images", state, "steps of 2 and 4 images");
        // validation and the final test run the model on batches of 500 without gradients, beside the optimizer's state;
        // --tta's views of a test batch run one at a time, each such a forward, beside the view's copies of the images
        // (rescaled at 1.1, cropped or padded, mirrored) and the averaged probabilities
        long evalBatch = Math.Min(TestBatchSize, Math.Max(1, (long)evalSet.Count));
        double ttaBytes = config.Tta ? 4.0 * (Math.Ceiling(1.1 * height) * Math.Ceiling(1.1 * width) + 2.0 * height * width + 2.0 * classes) : 0;
        TrainingMemory.RequireInferenceFits($"--model {config.Model} (validated on batches of {evalBatch} images{(config.Tta ? ", tested with --tta" : "")})", "for one validation batch",
            model, ProbeBatch, loss, 1, loaderBytes + ttaBytes, evalBatch, "images", state, "batches of 2 and 4 images");
        if (config.BiasPrior) Init.ClassPriorBias(Classifier(model).Bias!, ClassWeights.Counts(trainLabels, data.Classes.Count));
        if (config.SyncBn) Nn.Layers.SyncBatchNorm.ConvertSyncBatchNorm(model);
        // a resumed run's weights come from its last/ checkpoint instead
        if (config.InitFrom is not null && resumeState is null) FineTuneStage.LoadInitWeights(config, model);
        // With LoRA the trainer trains the adapters' wrapper; `model` (whose layers now add their adapters' outputs) still
        // computes the adapted predictions, so validation and the final scores use it as before.
        var lora = config.Lora > 0 ? FineTuneStage.Apply(config, model) : null;
        Module trained = (Module?)lora ?? model;
        var optimizer = CreateOptimizer(config, trained);
        int batchesPerEpoch = trainLoader.Count;
        int stepsPerEpoch = StepsPerEpoch(batchesPerEpoch, config.Accumulate);
        var (scheduler, plateau, perStep) = CreateSchedule(config, optimizer, stepsPerEpoch);
        var ema = config.Ema > 0 ? new ModelEma(model, decay: config.Ema) : null;
        var scaler = config.Amp == "fp16" ? new GradScaler() : null;
        var options = new TrainerOptions
        {
            Epochs = config.Epochs,
            AccumulationSteps = config.Accumulate,
            ClipGradNorm = config.ClipGrad > 0 ? config.ClipGrad : null,
            FloodLevel = config.Flooding > 0 ? config.Flooding : null,
            Autocast = autocast,
            Scaler = scaler,
            Ema = ema,
            SchedulerPerStep = perStep,
        };
        // DDP averages the gradients across ranks during backward; checkpoints hold the model it wraps
        var ddp = distributed ? new DistributedDataParallel(model) : null;
        var trainer = new Trainer((Module?)ddp ?? trained, optimizer, loss, options, scheduler, plateau);
        if (distributed) trainer.Add(new DistributedEpochMetrics()); // before the logger reads the epoch's row
        var reporter = new ProgressReporter(config.Plain, plainOutput);
        var checkpoints = !lead ? null : new ModelCheckpoint(runDir, optimizer, scheduler, plateau, scaler, ema, "top1",
            () => new Dictionary<string, string>
            {
                ["model"] = config.Model, ["seed"] = config.Seed.ToString(CultureInfo.InvariantCulture), ["config"] = Fingerprint(config),
            })
        {
            // best/ holds the adapters merged into the weights: the plain model that eval, predict and export load
            BestWeights = lora is null ? null : () => lora.MergedStateDict(),
        };
        if (checkpoints is not null) trainer.Add(reporter, new CsvLogger(Path.Combine(runDir, "metrics.csv")), checkpoints);
        if (lora is not null) trainer.Add(new FineTuneStage.FrozenNorms(model));
        var earlyStopping = config.Patience > 0 ? new EarlyStopping("top1", MonitorMode.Max, config.Patience) : null;
        if (earlyStopping is not null) trainer.Add(earlyStopping);
        if (config.DropBlock > 0) trainer.Add(new DropBlockSchedule(model, config.DropBlock));
        if (interruptAfterBatches is int limit)
        {
            int seen = 0; // behaves like Ctrl-C after that many batches (for tests of the interruption path)
            trainer.Add(new LambdaCallback { BatchEnd = s => { if (++seen == limit) { s.StopRequested = true; s.StopReason = "interrupted (simulated)"; } } });
        }

        if (stop.CanBeCanceled || budget is not null)
        {
            void Budget(TrainerState s)
            {
                if ((stop.IsCancellationRequested || started.Elapsed >= budget) && !s.StopRequested) { s.StopRequested = true; s.StopReason = "time budget reached"; }
            }
            trainer.Add(new LambdaCallback { BatchEnd = Budget, EpochEnd = Budget });
        }
        if (TestCallback.Value is { } testCallback) trainer.Add(testCallback);
        // after every callback that may stop the run, so that all ranks stop at the same batch
        var consensus = distributed ? new DistributedStopConsensus() : null;
        if (consensus is not null) trainer.Add(consensus);

        int startEpoch = 1, skip = 0;
        bool done = false; // a resumed run that finished already: only the closing part below
        if (resumeState is not null)
        {
            var last = Path.Combine(runDir, "last");
            // every counter is checked against this run before anything is loaded or written
            var loaded = Checkpoint.Load(last, trained, optimizer, ema, allowNonFinite);
            loaded.CheckRange(Path.Combine(last, Checkpoint.JsonFile), config.Epochs, batchesPerEpoch, config.Accumulate);
            if ((scheduler is not null || plateau is not null) != loaded.Scheduler is not null || (scaler is not null) != loaded.Scaler is not null
                || (ema is not null) != loaded.EmaUpdates is not null)
                throw new CheckpointException(Path.Combine(last, Checkpoint.JsonFile), $"does not match the schedule '{config.Schedule}', amp '{config.Amp}' and ema {config.Ema.ToString(CultureInfo.InvariantCulture)} of {Path.Combine(runDir, "args.yaml")}");
            (startEpoch, skip) = ResumedRun.Restore(trainer, last, loaded, () =>
            {
                if (loaded.Scheduler is not null) { scheduler?.LoadStateDict(loaded.Scheduler); plateau?.LoadStateDict(loaded.Scheduler); }
                if (loaded.Scaler is { Length: 2 } s && scaler is not null) scaler.LoadStateDict((s[0], (int)s[1]));
            });
            if (lead) Console.WriteLine($"resuming {runDir} at epoch {startEpoch}" + (skip > 0 ? $", batch {skip}" : ""));
            // a finished run (its epochs trained, or ended by early stopping) is left as it is (its folder may be read-only:
            // ForResume let it through for this); one whose closing part failed (memory ran out after the loop) has its
            // test scores still to write, and its summary the reason it stopped
            done = RunFolderCheck.Finished(loaded, config.Epochs);
            var ended = loaded.Epoch < config.Epochs ? $"ended by early stopping at epoch {loaded.Epoch} of {config.Epochs}" : $"finished its {config.Epochs} epochs";
            if (done && File.Exists(Path.Combine(runDir, "summary.md"))) { if (lead) Console.WriteLine($"{runDir} already {ended}"); return 0; }
            if (done)
            {
                trainer.State.StopReason = earlyStopping?.StopReason;
                if (lead) Console.WriteLine($"{runDir} {ended} without its test scores; writing them");
            }
            else if (recorded is not null && recorded != config && lead)
            {
                AtomicFile.WriteAllText(Path.Combine(runDir, "args.yaml"), ConfigLoader.ToYaml(config));
                if (config.Epochs != recorded.Epochs && config.Schedule is "onecycle" or "cosine" or "step")
                    Console.WriteLine($"note: the {config.Schedule} schedule is recomputed for {config.Epochs} epochs; its learning rate continues from step {loaded.GlobalStep} of the longer curve");
            }
        }

        if (lead) WriteHeader(config, model, runDir, trainSet.Count, testSet.Count, reporter.Plain);
        PosixSignal? interruptedBy = null;
        void OnSignal(PosixSignalContext context)
        {
            if (interruptedBy is not null) return; // a second signal is not cancelled: it ends the process at once
            context.Cancel = true; // stop after the current batch (optimizer step) and write `last`
            Interrupt(context.Signal);
        }
        void Interrupt(PosixSignal signal)
        {
            // `ember train --nproc` passes Ctrl-C and SIGTERM to the ranks as SIGUSR1 and SIGUSR2 (see DistributedLaunch)
            bool term = signal == PosixSignal.SIGTERM || signal == (PosixSignal)DistributedLaunch.SigUsr2;
            interruptedBy = term ? PosixSignal.SIGTERM : PosixSignal.SIGINT;
            var reason = $"interrupted ({(term ? "SIGTERM" : "Ctrl-C")}); resume with: ember train --resume {runDir}";
            // with several ranks the stop is agreed at the next batch end, so that all of them stop at the same batch
            if (consensus is not null) { consensus.Request(reason); return; }
            trainer.State.StopReason = reason;
            trainer.State.StopRequested = true;
        }
        // SIGTERM is what kill, timeout, Docker and job schedulers send: it saves like Ctrl-C
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal))
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal))
        using (distributed ? PosixSignalRegistration.Create((PosixSignal)DistributedLaunch.SigUsr1, OnSignal) : null)
        using (distributed ? PosixSignalRegistration.Create((PosixSignal)DistributedLaunch.SigUsr2, OnSignal) : null)
        {
            // a study's signal that came while this trial was set up (the study's handler kept the process alive): as if now
            if (interruptedBy is null && signalled?.Invoke() is PosixSignal early) Interrupt(early);
            IEnumerable<(Tensor, Tensor)> TrainBatches(int epoch)
            {
                shard?.SetEpoch(epoch - 1);
                weightedShard?.SetEpoch(epoch - 1);
                return trainLoader.Iterate(epoch - 1).Select(b => (b[0], b[1]));
            }
            // DistributedEpochMetrics reduces the shards' validation metrics, so early stopping and the schedule decide alike everywhere
            IEnumerable<(Tensor, Tensor)> TestBatches(int epoch)
            {
                TakeRankZerosStatistics(ddp, model, ema);
                return testLoader.Iterate(0).Select(b => (b[0], b[1]));
            }
            void Fit() => TrainingMemory.Run(() => trainer.Fit(TrainBatches, TestBatches, startEpoch, batchesPerEpoch, skip), runDir, $"ember train --resume {runDir}");
            if (done) { }
            else if (lead) reporter.Run(Fit);
            else Fit();
        }
        int exitCode = interruptedBy == PosixSignal.SIGTERM ? 143
            : trainer.State.StopRequested && trainer.State.StopReason?.StartsWith("interrupted") == true ? 130 : 0;
        TakeRankZerosStatistics(ddp, model, ema);
        ConfusionMatrix confusion = null!;
        double testLoss = 0, testTop5 = 0;
        TrainingMemory.Close(() => (confusion, testLoss, testTop5) = Evaluate(model, ema, testLoader, data.Classes.Count, config.Tta),
            runDir, $"ember train --resume {runDir}", config.Epochs, "the test scores, plots and summary.md");
        if (world > 1)
        {
            long samples = confusion.Total; // this shard's, before the sum
            DistributedMetrics.AllReduce(confusion);
            testLoss = DistributedMetrics.WeightedMean(testLoss, samples);
            testTop5 = DistributedMetrics.WeightedMean(testTop5, samples);
        }
        // Rank 0 alone plots and reports. The other ranks wait for it: mpirun ends the whole job as soon as one process
        // exits with a non-zero code (as an interrupted rank does), which would cut rank 0 short. Rank 0's code is the job's.
        if (!lead) { Distributed.Distributed.Barrier(); return 0; }

        TrainingMemory.Close(() =>
        {
            if (trainer.State.History.Count > 0) Plots.Results(trainer.State.History, Path.Combine(runDir, "results.png"));
            Plots.ConfusionMatrix(confusion.Normalized(), data.Classes, Path.Combine(runDir, "confusion_matrix.png"));
            AtomicFile.WriteAllText(Path.Combine(runDir, "summary.md"), Summary(config, data, model, trainer.State, confusion, checkpoints!));
        }, runDir, $"ember train --resume {runDir}", config.Epochs, "the plots and summary.md");
        reporter.Summary(trainer.State, runDir);
        finished?.Invoke(new TrainOutcome(runDir, exitCode, trainer.State.History.Count, trainer.State.StopReason, confusion.Accuracy, testTop5, testLoss, confusion.F1(Average.Macro)));
        if (distributed) Distributed.Distributed.Barrier();
        return exitCode;
    }

    /// <summary>
    /// Before the ranks score their shards: rank 0's BatchNorm statistics, live and EMA, on every rank. Each rank's
    /// training forwards update its own from its own batch (and the EMA follows them), so without this the shards would
    /// be scored by slightly different models; the parameters already agree.
    /// </summary>
    static void TakeRankZerosStatistics(DistributedDataParallel? ddp, Module model, ModelEma? ema)
    {
        if (ddp is null) return;
        ddp.BroadcastBuffers();
        if (ema is null) return;
        foreach (var (name, _) in model.NamedBuffers()) Distributed.Distributed.Broadcast(ema.Shadow[name], 0);
    }

    /// <summary>The test images rank <paramref name="rank"/> of <paramref name="world"/> scores: rank, rank + world, … (no padding, so none twice).</summary>
    internal static int[] TestShard(int count, int rank, int world)
    {
        var indices = new int[count > rank ? (count - rank + world - 1) / world : 0];
        for (int k = 0; k < indices.Length; k++) indices[k] = rank + k * world;
        return indices;
    }

    static void CheckOneProcess(TrainConfig config)
    {
        if (config.Nproc > 1)
            throw new ConfigException($"nproc {config.Nproc} needs the processes that `ember train --nproc {config.Nproc}` starts through mpirun; this one process cannot train as {config.Nproc}");
    }

    /// <summary>
    /// The config a rank of a <paramref name="world"/>-process job trains with: nproc is the launcher's world size. A
    /// --nproc the user gave (or a config file's) that disagrees with how many processes mpirun started is an error.
    /// </summary>
    static TrainConfig WithWorldSize(TrainConfig config, int world, bool explicitNproc)
    {
        if (explicitNproc && config.Nproc != world)
            throw new ConfigException($"nproc is {config.Nproc} but the launcher started {world} process(es); give mpirun -n {config.Nproc}, or drop --nproc when starting ember under mpirun");
        return ConfigValidator.Validate(config with { Nproc = world });
    }

    /// <summary>The recorded config with the resume options applied; an option that would change the run is an error naming it.</summary>
    internal static TrainConfig ResumeConfig(string argsFile, TrainConfig recorded, IReadOnlyDictionary<string, string?> overrides)
    {
        var updated = ConfigValidator.Validate(ConfigLoader.Apply(recorded, overrides, "command line"));
        var frozen = new List<string>();
        foreach (var (key, property) in ConfigLoader.Keys)
        {
            object? before = property.GetValue(recorded), after = property.GetValue(updated);
            if (!Equals(before, after) && !ResumableKeys.Contains(key))
                frozen.Add($"--{key.Replace('_', '-')} {Format(after)} (the run has {Format(before)})");
        }
        if (frozen.Count > 0)
            throw new ConfigException($"--resume: {string.Join(", ", frozen)} cannot change when resuming, since {argsFile} defines the run; " +
                $"only {string.Join(", ", ResumableKeys.Select(k => "--" + k))} can (start a new run to change the others)");
        return updated;
    }

    static string Format(object? value) => value switch
    {
        null => "none",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };

    // SHA-256 of the options that define the run (not those that may change on resume, nor the project folder it lives in).
    static string Fingerprint(TrainConfig c)
        => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(ConfigLoader.ToYaml(c with { Epochs = 0, Plain = false, Project = "", Nproc = 1 })))).ToLowerInvariant();

    // The checkpoint records the model it holds; args.yaml names the model the run rebuilds: they must agree.
    internal static void CheckModel(CheckpointState state, TrainConfig config, string checkpointFolder, string argsFile)
    {
        if (state.Metadata.TryGetValue("model", out var model) && model != config.Model)
            throw new CheckpointException(Path.Combine(checkpointFolder, Checkpoint.JsonFile), $"holds a '{model}' model but {argsFile} names '{config.Model}'; the run's files do not belong together");
    }

    /// <summary>AdamW/Adam/SGD with two groups: weight decay on weights, none on biases and normalization parameters.</summary>
    internal static Optimizer CreateOptimizer(TrainConfig c, Module model)
    {
        // frozen parameters (a LoRA run's base) are left out, as PyTorch users pass only those that require grad
        var decay = model.Parameters().Where(p => p.RequiresGrad && p.Rank > 1).Cast<Tensor>().ToList();
        var noDecay = model.Parameters().Where(p => p.RequiresGrad && p.Rank <= 1).Cast<Tensor>().ToList();
        return c.Optimizer switch
        {
            "sgd" => new Sgd([new ParamGroup<SgdOptions>(decay), new ParamGroup<SgdOptions>(noDecay, o => o with { WeightDecay = 0 })],
                new SgdOptions
                {
                    LearningRate = c.Lr, Momentum = c.Momentum, Nesterov = c.Momentum > 0, WeightDecay = c.WeightDecay,
                    MomentumForm = c.MomentumForm == "velocity" ? SgdMomentumForm.Velocity : SgdMomentumForm.PyTorch,
                }),
            "adam" => new Adam([new ParamGroup<AdamOptions>(decay), new ParamGroup<AdamOptions>(noDecay, o => o with { WeightDecay = 0 })],
                new AdamOptions { LearningRate = c.Lr, WeightDecay = c.WeightDecay }),
            _ => new AdamW([new ParamGroup<AdamWOptions>(decay), new ParamGroup<AdamWOptions>(noDecay, o => o with { WeightDecay = 0 })],
                new AdamWOptions { LearningRate = c.Lr, WeightDecay = c.WeightDecay }),
        };
    }

    /// <summary>The normalization layer --norm asks for (channels → layer): GroupNorm with 16 channels per group, or CmBN over the accumulation window; null for bn.</summary>
    internal static Func<int, Module>? Norm(TrainConfig c) => c.Norm switch
    {
        "gn" => channels => Nn.Layers.GroupNorm.WithChannelsPerGroup(channels, 16),
        "cmbn" => channels => new Nn.Layers.CrossMiniBatchNorm2d(channels, c.Accumulate),
        _ => null,
    };

    /// <summary>
    /// The run's zoo model with the switches that change its layers: --norm, --dropout-kind (each Dropout(p) becomes
    /// GaussianDropout(p) or UniformDropout(β = p)) and --drop-block (a DropBlock2d in the cnn, which a
    /// <see cref="DropBlockSchedule"/> then drives). None of them adds state, so eval rebuilds the model from --norm alone.
    /// </summary>
    internal static Module CreateModel(TrainConfig c, int classes)
    {
        var model = c.DropBlock > 0
            ? new FashionCnn(1, classes, norm: Norm(c), dropBlock: new Nn.Layers.DropBlock2d(0, c.DropBlockSize))
            : ModelZoo.Create(c.Model, classes, inChannels: 1, Norm(c));
        if (c.DropoutKind == "standard") return model;
        int replaced = 0;
        foreach (var parent in model.Modules().ToList())
            foreach (var (name, child) in parent.NamedChildren().ToList())
                if (child is Nn.Layers.Dropout dropout)
                {
                    parent.SetModule(name, c.DropoutKind == "gaussian" ? new Nn.Layers.GaussianDropout(dropout.P) : new Nn.Layers.UniformDropout(dropout.P));
                    replaced++;
                }
        if (replaced == 0) throw new ConfigException($"dropout_kind {c.DropoutKind}: the {c.Model} model has no Dropout layer to replace");
        return model;
    }

    /// <summary>
    /// The training set without the Tomek links' members outside the minority class (--undersample tomek), found on the
    /// normalized pixels; the kept images stay in order and keep their transform.
    /// </summary>
    internal static (IDataset<(Tensor Image, long Label)> Set, long[] Labels) TomekUndersample(IDataset<(Tensor Image, long Label)> set, long[] labels, int classes)
    {
        var images = new Tensor[set.Count];
        for (int i = 0; i < set.Count; i++) images[i] = set[i].Image;
        var features = images.Length > 0 ? Torch.Stack(images).Reshape([images.Length, -1]) : Torch.Zeros([0, 1]);
        var clock = Stopwatch.StartNew();
        var kept = new TomekLinks().Resample(features, Torch.FromArray(labels, [labels.Length]), classes);
        Console.WriteLine($"undersample tomek: removed {labels.Length - kept.Length} of {labels.Length} training images (Tomek links' members outside the minority class) in {clock.Elapsed.TotalSeconds:F1} s");
        return (new Subset<(Tensor, long)>(set, kept), [.. kept.Select(i => labels[i])]);
    }

    /// <summary>The model's last Linear layer: the classifier whose bias --bias-prior sets.</summary>
    internal static Nn.Layers.Linear Classifier(Module model)
        => model.Modules().OfType<Nn.Layers.Linear>().LastOrDefault() is { Bias: not null } linear ? linear
            : throw new ConfigException($"bias_prior: the {model.GetType().Name} model has no final Linear layer with a bias to initialize");

    /// <summary>
    /// The training indices kept by --imbalance r: class k (of C) keeps its first ⌈n_k · r^(−k/(C−1))⌉ images, an
    /// exponential profile from all of class 0 down to 1/r of class C−1 (the long-tailed CIFAR construction), in file order.
    /// </summary>
    internal static int[] ImbalancedIndices(IReadOnlyList<long> labels, int classes, double ratio)
    {
        var counts = Data.Imbalance.ClassWeights.Counts(labels, classes);
        var quota = new long[classes];
        for (int k = 0; k < classes; k++)
            quota[k] = (long)Math.Ceiling(counts[k] * Math.Pow(ratio, -(double)k / Math.Max(1, classes - 1)) - 1e-9);
        var kept = new List<int>();
        for (int i = 0; i < labels.Count; i++)
            if (quota[labels[i]]-- > 0) kept.Add(i);
        return [.. kept];
    }

    /// <summary>
    /// The training images followed by SMOTE's synthetic minority images (--oversample smote): each new image is a point
    /// on the segment between an image and one of its 5 nearest same-class neighbours, in normalized pixel space. With
    /// <paramref name="tomek"/> (--oversample smote-tomek), both members of every Tomek link are then removed.
    /// </summary>
    internal static (IDataset<(Tensor Image, long Label)> Set, long[] Labels) SmoteOversample(IDataset<(Tensor Image, long Label)> set, int classes, long seed, bool tomek = false)
    {
        var images = new Tensor[set.Count];
        var labels = new long[set.Count];
        for (int i = 0; i < set.Count; i++) (images[i], labels[i]) = set[i];
        var shape = images.Length > 0 ? images[0].Shape.ToArray() : [1, 28, 28];
        var features = Torch.Stack(images).Reshape([images.Length, -1]);
        var clock = Stopwatch.StartNew();
        var (x, y) = new Smote(k: 5).FitResample(features, Torch.FromArray(labels, [labels.Length]), classes, new Generator(seed));
        Console.WriteLine($"oversample smote: {labels.Length} → {y.Size(0)} training images in {clock.Elapsed.TotalSeconds:F1} s");
        if (tomek)
        {
            // SmoteTomek's two steps, timed apart: the Tomek step searches all the oversampled images' neighbours.
            int before = (int)y.Size(0);
            clock.Restart();
            (x, y) = new TomekLinks(TomekRemoval.Both).FitResample(x, y, classes);
            Console.WriteLine($"oversample smote-tomek: removed {before - y.Size(0)} of {before} images (both members of each Tomek link) in {clock.Elapsed.TotalSeconds:F1} s");
        }
        var all = new TensorDataset(x.Reshape([x.Size(0), .. shape]), y);
        var resampled = new TransformDataset<Tensor[], (Tensor, long)>(all, (item, _) => (item[0], (long)item[1].Item()));
        return (resampled, y.ToArray<long>());
    }

    /// <summary>Optimizer steps per epoch: a last partial accumulation still steps. In long, since accumulate may be up to int.MaxValue.</summary>
    internal static int StepsPerEpoch(int batchesPerEpoch, int accumulate) => (int)((batchesPerEpoch + (long)accumulate - 1) / accumulate);

    /// <summary>
    /// The optimizer steps of the whole run, which the schedulers count in int: epochs × steps per epoch from a config
    /// could pass int.MaxValue and wrap to a negative or tiny count (a schedule that ends at once).
    /// </summary>
    internal static int TotalSteps(int epochs, int stepsPerEpoch)
    {
        long total = (long)epochs * stepsPerEpoch;
        if (total > int.MaxValue)
            throw new ConfigException($"epochs {epochs} × {stepsPerEpoch} optimizer steps per epoch = {total} steps, more than the {int.MaxValue} a schedule can count; use fewer epochs");
        return (int)total;
    }

    internal static (LRScheduler? Scheduler, ReduceLROnPlateau? Plateau, bool PerStep) CreateSchedule(TrainConfig c, Optimizer optimizer, int stepsPerEpoch)
    {
        int total = Math.Max(1, TotalSteps(c.Epochs, stepsPerEpoch));
        int warmup = Math.Min(c.WarmupSteps, total - 1);
        LRScheduler WithWarmup(Func<int, LRScheduler> main)
            => warmup <= 0 ? main(total) : new SequentialLR(optimizer, [new LinearLR(optimizer, 0.01, 1.0, warmup), main(total - warmup)], [warmup]);
        return c.Schedule switch
        {
            "onecycle" => (new OneCycleLR(optimizer, c.Lr, totalSteps: total), null, true),
            "cosine" => (WithWarmup(steps => new CosineAnnealingLR(optimizer, steps)), null, true),
            "step" => (new StepLR(optimizer, Math.Max(1, c.Epochs / 3)), null, false),
            "plateau" => (null, new ReduceLROnPlateau(optimizer, PlateauMode.Min, factor: 0.1, patience: 2), false),
            _ => warmup > 0 ? (new LinearLR(optimizer, 0.01, 1.0, warmup), null, true) : (null, null, false),
        };
    }

    // The final weights on the test set; the loss is plain cross-entropy (no label smoothing) so that runs with and without smoothing compare.
    // With --tta, the prediction is the log of the softmax averaged over EvalCommand's views, whose cross-entropy is the averaged prediction's NLL.
    static (ConfusionMatrix Confusion, double Loss, double Top5) Evaluate(Module model, ModelEma? ema, DataLoader<(Tensor, long)> loader, int classes, bool tta)
    {
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            Func<Tensor, Tensor> predict = tta
                ? images => TestTimeAugmentation.AverageProbabilities(model.Call, images, horizontalFlip: true, scales: EvalCommand.TtaScales).Clamp(min: 1e-12).Log()
                : model.Call;
            using (ema?.Apply()) return Score(predict, loader, classes);
        }
        finally { model.Train(wasTraining); }
    }

    /// <summary>
    /// Scores <paramref name="predict"/> (logits or probabilities per class) over a loader's batches under no-grad: the
    /// confusion matrix, the mean cross-entropy of its outputs taken as logits, and top-5 (shared by train's final
    /// evaluation and `ember eval`).
    /// </summary>
    internal static (ConfusionMatrix Confusion, double Loss, double Top5) Score(Func<Tensor, Tensor> predict, DataLoader<(Tensor, long)> loader, int classes)
    {
        var confusion = new ConfusionMatrix(classes);
        var loss = new MeanMetric();
        var top5 = new TopKAccuracy(5);
        using (Torch.NoGrad())
            foreach (var batch in loader.Iterate(0))
            {
                var output = predict(batch[0]);
                confusion.Update(output, batch[1]);
                top5.Update(output, batch[1]);
                loss.Update(F.CrossEntropy(output, batch[1]).Item(), batch[1].Size(0));
            }
        return (confusion, loss.Compute(), top5.Compute());
    }

    static void WriteHeader(TrainConfig c, Module model, string runDir, int trainCount, int testCount, bool plain)
    {
        var line = $"ember train: model {c.Model} ({model.ParameterCount():N0} parameters), {c.Epochs} epochs, batch {c.BatchSize}, {c.Optimizer} lr {c.Lr.ToString(CultureInfo.InvariantCulture)}, " +
            $"schedule {c.Schedule}, {trainCount} training / {testCount} test images, " +
            (c.Nproc > 1 ? $"{c.Nproc} processes × {c.BatchSize / c.Nproc} samples, {Torch.NumThreads} threads each" : $"{Torch.NumThreads} threads") + $" → {runDir}";
        Console.WriteLine(line);
    }

    static string Summary(TrainConfig c, DataSource data, Module model, TrainerState state, ConfusionMatrix confusion, ModelCheckpoint checkpoints)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# ember train: {c.Model} on {c.Data ?? DataSource.DefaultName}").AppendLine();
        sb.AppendLine($"- parameters: {model.ParameterCount():N0}");
        sb.AppendLine($"- epochs run: {state.History.Count} of {c.Epochs}{(state.StopReason is string r ? $" (stopped: {r})" : "")}");
        if (state.History.Count > 0)
        {
            var last = state.History[^1];
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- final: val loss {last.ValLoss:F4}, top-1 {100 * last.Top1:F2}%, top-5 {100 * last.Top5:F2}%"));
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- best top-1: {100 * checkpoints.Best:F2}% (checkpoint `best/`)"));
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- mean epoch time: {state.History.Average(h => h.Seconds):F1} s"));
        }
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- test accuracy of the final {(c.Ema > 0 ? "EMA " : "")}weights{(c.Tta ? " with TTA (flips, scales 0.9, 1, 1.1)" : "")}: {100 * confusion.Accuracy:F2}%, macro F1 {confusion.F1(Average.Macro):F4}"));
        sb.AppendLine().AppendLine("| class | precision | recall | F1 |").AppendLine("|---|---:|---:|---:|");
        for (int k = 0; k < confusion.NumClasses; k++)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {data.Classes[k]} | {confusion.Precision(k):F3} | {confusion.Recall(k):F3} | {confusion.F1(k):F3} |"));
        sb.AppendLine().AppendLine("## Model").AppendLine().AppendLine("```").AppendLine(model.ToString()).AppendLine("```");
        sb.AppendLine().AppendLine("## Config").AppendLine().AppendLine("```yaml").Append(ConfigLoader.ToYaml(c)).AppendLine("```");
        return sb.ToString();
    }
}
