using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Data;
using Ember.Detection.Data;
using Ember.Detection.Model;
using Ember.Detection.Optim;
using Ember.Interop;
using Ember.Metrics;
using Ember.Nn.Functional;
using Ember.Optim.Schedulers;
using Ember.Training;
using Ember.Training.Callbacks;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// `ember detect pretrain`: YOLOv5's classify/train.py for the detector's backbone. A <see cref="YoloClassifier"/> (the
/// detector's layers model.0–8 as --model builds them, then <see cref="Classify"/>) is trained by the project's
/// <see cref="Trainer"/> on Fashion-MNIST's training split, each item rendered as make-data renders the items of a
/// detection image (<see cref="FashionMnistItemRender"/>, fresh draws every epoch), and validated on the test split
/// (top-1, top-5). The run folder is `ember train`'s: args.yaml, metrics.csv, best/ (by top-1) and last/, summary.md
/// with the best weights' per-class accuracy; Ctrl-C/SIGTERM stop and save, --resume continues. `ember detect train
/// --weights RUN/best` then starts a detector from it (<see cref="WeightTransfer"/>).
/// </summary>
public static class DetectPretrainJob
{
    /// <summary>The checkpoint metadata key naming the detector whose backbone was pre-trained (its presence marks a pre-training checkpoint).</summary>
    public const string ModelKey = "detect_pretrain_model";
    /// <summary>The checkpoint metadata key holding the class names, one per line.</summary>
    public const string NamesKey = "detect_pretrain_names";
    /// <summary>The checkpoint metadata key holding the model definition's text when --model was a .yaml.</summary>
    public const string ModelYamlKey = "detect_pretrain_model_yaml";

    /// <summary>The classifier --model describes (its definition's text in <paramref name="yaml"/>, or a built-in size), for <paramref name="classes"/> classes.</summary>
    public static YoloClassifier BuildClassifier(string model, string? yaml, int classes, double dropout = 0)
    {
        try { return new YoloClassifier(DetectJob.BuildDetector(model, yaml, classes), classes, dropout: dropout); }
        catch (ArgumentException e) { throw new ConfigException($"--model {model}: cannot be pre-trained as a classifier: {e.Message}"); }
    }

    /// <summary>
    /// Trains into a new run folder (or continues <paramref name="resumeFolder"/>); returns the exit code (130 after Ctrl-C,
    /// 143 after SIGTERM). <paramref name="interruptAfterBatches"/> behaves like Ctrl-C after that many batches (tests).
    /// </summary>
    public static int Train(DetectPretrainConfig config, string? resumeFolder = null, TextWriter? plainOutput = null, int? interruptAfterBatches = null,
        IReadOnlyDictionary<string, string?>? resumeOverrides = null)
    {
        var log = plainOutput ?? Console.Out;
        var clock = Stopwatch.StartNew();
        string? yaml;
        CheckpointState? resumeState = null;
        bool resumeChanges = false;
        var names = FashionMnist.Classes;
        if (resumeFolder is not null)
        {
            // another kind of folder, one another process trains in, or one that cannot be written is refused before it is
            // read, unless the run has nothing left to do: then the resume only says so, as it does in a writable folder
            var args = Path.Combine(resumeFolder, "args.yaml");
            var overrides = resumeOverrides ?? new Dictionary<string, string?>();
            RunFolderCheck.ForResume(resumeFolder, RunFolderKind.DetectionPretrain,
                () => RunFolderCheck.Finished(resumeFolder, ResumeConfig(args, DetectPretrainConfig.Load(args), overrides).Epochs));
            var recorded = DetectPretrainConfig.Load(args);
            config = ResumeConfig(args, recorded, overrides);
            var last = Path.Combine(resumeFolder, "last");
            resumeState = Checkpoint.ReadState(last);
            if (!resumeState.Metadata.TryGetValue(ModelKey, out var recordedModel) || recordedModel != config.Model)
                throw new CheckpointException(Path.Combine(last, Checkpoint.JsonFile), $"is not the pre-training checkpoint of the {config.Model} backbone {args} describes");
            if (config.Epochs < resumeState.Epoch)
                throw new ConfigException($"--epochs {config.Epochs} is fewer than the {resumeState.Epoch} epoch(s) {resumeFolder} has already reached");
            yaml = resumeState.Metadata.GetValueOrDefault(ModelYamlKey);
            resumeChanges = recorded != config;
        }
        else
        {
            yaml = DetectJob.ModelYaml(config.Model);
            _ = BuildClassifier(config.Model, yaml, names.Count); // a bad --model fails before a run folder is made
        }
        // the data before the run folder (the default generator is seeded after, so nothing here draws from it): a set whose
        // batches the model cannot train on is refused without leaving a folder
        var render = new FashionMnistItemRender(config.Img);
        var trainSet = Limited(new FashionMnist(train: true, transform: render), config.Limit);
        var valSet = Limited(new FashionMnist(train: false, transform: render), config.ValLimit);
        RequireTrainableBatches(config, trainSet.Count);
        string runDir = resumeFolder ?? RunFolder.Create(config.Project);
        if (resumeFolder is null) AtomicFile.WriteAllText(Path.Combine(runDir, "args.yaml"), config.ToYaml());
        string resumeCommand = $"ember detect pretrain --resume {runDir}";
        using var held = RunFolderLock.Hold(runDir, resumeCommand);
        CliErrors.MemoryHint = $"lower --img ({config.Img}), --batch-size ({config.BatchSize}) or --workers ({config.Workers}), or pre-train a smaller --model than {config.Model}";

        Torch.ManualSeed(config.Seed);
        var model = BuildClassifier(config.Model, yaml, names.Count, config.Dropout);
        var trainLoader = new DataLoader<(Tensor, long)>(trainSet, config.BatchSize, shuffle: true, numWorkers: config.Workers, seed: config.Seed);
        // the validation items are drawn by (seed, position) alone: the same renders every epoch and at any thread count
        var valLoader = new DataLoader<(Tensor, long)>(valSet, config.EffectiveValBatchSize, numWorkers: config.Workers, seed: config.Seed);

        var ema = config.Ema > 0 ? new ModelEma(model, config.Ema, config.EmaTau) : null;
        var groups = YoloParameterGroups.Of(model);
        Ember.Optim.Optimizer optimizer = config.Optimizer switch
        {
            "sgd" => groups.Sgd(config.Lr, config.Momentum, config.WeightDecay),
            "adam" => groups.Adam(config.Lr, config.WeightDecay),
            _ => groups.AdamW(config.Lr, config.WeightDecay),
        };
        int batchesPerEpoch = trainLoader.Count;
        var scheduler = new LambdaLR(optimizer, YoloLrLambda.Linear(config.Lrf, Math.Max(1, TrainJob.TotalSteps(config.Epochs, batchesPerEpoch))));
        var trainer = new Trainer(model, optimizer, (output, target) => F.CrossEntropy(output, target, labelSmoothing: config.LabelSmoothing),
            new TrainerOptions { Epochs = config.Epochs, Ema = ema, SchedulerPerStep = true }, scheduler);
        var reporter = new ProgressReporter(config.Plain, plainOutput);
        var checkpoints = new ModelCheckpoint(runDir, optimizer, scheduler, ema: ema, monitor: "top1", metadata: () =>
        {
            var meta = new Dictionary<string, string>
            {
                [ModelKey] = config.Model,
                [NamesKey] = string.Join('\n', names),
                ["seed"] = config.Seed.ToString(CultureInfo.InvariantCulture),
            };
            if (yaml is not null) meta[ModelYamlKey] = yaml;
            return meta;
        });
        trainer.Add(reporter, new CsvLogger(Path.Combine(runDir, "metrics.csv")), checkpoints);
        if (interruptAfterBatches is int limit)
        {
            int seen = 0;
            trainer.Add(new LambdaCallback { BatchEnd = s => { if (++seen == limit) { s.StopRequested = true; s.StopReason = "interrupted (simulated)"; } } });
        }

        int startEpoch = 1, skip = 0;
        if (resumeState is not null)
        {
            var last = Path.Combine(runDir, "last");
            var loaded = Checkpoint.Load(last, model, optimizer, ema);
            loaded.CheckRange(Path.Combine(last, Checkpoint.JsonFile), config.Epochs, batchesPerEpoch, 1);
            (startEpoch, skip) = ResumedRun.Restore(trainer, last, loaded, () => { if (loaded.Scheduler is not null) scheduler.LoadStateDict(loaded.Scheduler); });
            // a finished run is left as it is (its folder may be read-only: ForResume let it through for this)
            if (startEpoch > config.Epochs && File.Exists(Path.Combine(runDir, "summary.md"))) { log.WriteLine($"{runDir} already finished its {config.Epochs} epochs"); return 0; }
            log.WriteLine($"resuming {runDir} at epoch {startEpoch}" + (skip > 0 ? $", batch {skip}" : ""));
            if (resumeChanges) AtomicFile.WriteAllText(Path.Combine(runDir, "args.yaml"), config.ToYaml());
        }

        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ember detect pretrain: {model.ModelName} backbone (model.0–{model.Cutoff - 1}) + Classify ({model.ParameterCount():N0} parameters, {names.Count} classes), --img {config.Img}, " +
            $"{config.Epochs} epochs, batch {config.BatchSize}, {config.Optimizer} lr {config.Lr} linear to lr·{config.Lrf}, label smoothing {config.LabelSmoothing}, " +
            $"EMA {(ema is null ? "off" : config.Ema.ToString(CultureInfo.InvariantCulture))}, {trainSet.Count} training / {valSet.Count} validation items, {Torch.NumThreads} threads → {runDir}"));
        PosixSignal? interruptedBy;
        using (var signals = new SignalStop(trainer.State, resumeCommand))
        {
            if (startEpoch <= config.Epochs)
                reporter.Run(() => TrainingMemory.Run(() => trainer.Fit(epoch => trainLoader.Iterate(epoch - 1).Select(b => (b[0], b[1])),
                    _ => valLoader.Iterate(0).Select(b => (b[0], b[1])), startEpoch, batchesPerEpoch, skip), runDir, resumeCommand));
            interruptedBy = signals.Signal;
        }
        bool interrupted = trainer.State.StopRequested && trainer.State.StopReason?.StartsWith("interrupted", StringComparison.Ordinal) == true;
        int exitCode = interruptedBy == PosixSignal.SIGTERM ? 143 : interrupted ? 130 : 0;
        if (interrupted)
        {
            log.WriteLine($"stopped: {trainer.State.StopReason}");
            return exitCode;
        }
        TrainingMemory.Close(() =>
        {
            var best = BuildClassifier(config.Model, yaml, names.Count);
            Checkpoint.LoadForInference(checkpoints.BestPath, best);
            var confusion = Evaluate(best, valLoader, names.Count);
            var table = Summary(confusion, names);
            AtomicFile.WriteAllText(Path.Combine(runDir, "summary.md"), $"# ember detect pretrain: {model.ModelName} backbone on Fashion-MNIST items at --img {config.Img}\n\n" +
                string.Create(CultureInfo.InvariantCulture, $"best epoch {checkpoints.BestEpoch} of {trainer.State.History.Count} (top-1 {checkpoints.Best:F4}); wall time {clock.Elapsed.TotalSeconds:F0} s, {Torch.NumThreads} threads\n\n") +
                table + "\n## Config\n\n```yaml\n" + config.ToYaml() + "```\n");
            log.Write(table);
            log.WriteLine($"done: {trainer.State.History.Count} epochs; best/ is epoch {checkpoints.BestEpoch}; `ember detect train --weights {checkpoints.BestPath}` starts a detector from it");
        }, runDir, resumeCommand, config.Epochs, "the final validation and summary.md");
        return exitCode;
    }

    /// <summary>The confusion matrix of <paramref name="model"/> (eval mode, no graph) over the loader's batches.</summary>
    public static ConfusionMatrix Evaluate(YoloClassifier model, DataLoader<(Tensor, long)> loader, int classes)
    {
        model.Eval();
        var confusion = new ConfusionMatrix(classes);
        using (Torch.NoGrad())
            foreach (var batch in loader.Iterate(0))
                confusion.Update(model.Call(batch[0]), batch[1]);
        return confusion;
    }

    /// <summary>The summary's table: top-1 over all items, then each class's accuracy (recall) and items.</summary>
    public static string Summary(ConfusionMatrix m, IReadOnlyList<string> names)
    {
        var sb = new StringBuilder("| class | items | top-1 |\n|---|---:|---:|\n");
        sb.Append(string.Create(CultureInfo.InvariantCulture, $"| all | {m.Total} | {m.Accuracy:F4} |\n"));
        for (int c = 0; c < m.NumClasses; c++)
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"| {names[c]} | {m.Support(c)} | {m.Recall(c):F4} |\n"));
        return sb.ToString();
    }

    /// <summary>
    /// Refuses (a <see cref="ConfigException"/>) a training set of <paramref name="items"/> whose batches include one of a
    /// single item at --img 32: the backbone's last feature map is then 1×1, and batch norm cannot train on one value per
    /// channel (PyTorch's "expected more than 1 value per channel when training"), which would stop the first epoch part-way.
    /// </summary>
    internal static void RequireTrainableBatches(DetectPretrainConfig config, int items)
    {
        int last = items % config.BatchSize == 0 ? config.BatchSize : items % config.BatchSize;
        if (config.Img / 32 > 1 || (last > 1 && config.BatchSize > 1)) return;
        var batches = config.BatchSize == 1 ? "every batch holds one item" : $"the {items} training items{(config.Limit > 0 ? $" (--limit {config.Limit})" : "")} leave a last batch of one item";
        throw new ConfigException($"--batch-size {config.BatchSize} at --img {config.Img}: {batches}, and batch norm cannot train on a single item where the " +
            $"backbone's last feature map is 1×1; change --batch-size{(config.Limit > 0 ? " or --limit" : "")}, or use --img 64 or more");
    }

    static IDataset<(Tensor Image, long Label)> Limited(IDataset<(Tensor Image, long Label)> set, int limit)
        => limit > 0 && limit < set.Count ? new Subset<(Tensor Image, long Label)>(set, [.. Enumerable.Range(0, limit)]) : set;

    static DetectPretrainConfig ResumeConfig(string argsFile, DetectPretrainConfig recorded, IReadOnlyDictionary<string, string?> overrides)
        => ConfigKeyOptions.ApplyOnResume(argsFile, recorded, DetectPretrainConfig.Apply(recorded, overrides, "command line"), DetectPretrainConfig.Keys, DetectPretrainConfig.ResumableKeys);
}
