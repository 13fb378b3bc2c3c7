using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Ember.Analysis;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Data;
using Ember.Detection.Data;
using Ember.Detection.Loss;
using Ember.Detection.Model;
using Ember.Detection.Optim;
using Ember.Interop;
using Ember.Optim.Schedulers;
using Ember.Training;
using Ember.Training.Amp;
using Ember.Training.Callbacks;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// Wires a <see cref="DetectConfig"/> to the library for `ember detect train` and `val`: the YOLO data set with YOLOv5's
/// training augmentation and rectangular validation batches, autoanchor, a <see cref="YoloV5"/> (or a <see cref="YoloModel"/>
/// from a model .yaml) trained by the project's <see cref="Trainer"/> with <see cref="YoloLoss"/> (YOLOv5's three parameter
/// groups and warm-up, cosine, linear or OneCycle ending at --lrf, EMA, AMP, the --freeze layers frozen; the last --close-mosaic epochs without
/// mosaic), per-epoch validation through <see cref="DetectMetricsLogger"/>, and the run folder of `ember train`: args.yaml, metrics.csv, results.png, best/
/// (by fitness) and last/, resume, Ctrl-C/SIGTERM stop-and-save; at the end the best weights are validated once more
/// for pr_curve.png, confusion_matrix.png and val_pred_*.png (and, with --val-augment, once more with augmented inference).
/// </summary>
public static class DetectJob
{
    /// <summary>The checkpoint metadata key naming the detector's size (its presence marks a detection checkpoint).</summary>
    public const string ModelKey = "detect_model";
    /// <summary>The checkpoint metadata key holding the class names, one per line.</summary>
    public const string NamesKey = "detect_names";
    /// <summary>The checkpoint metadata key holding the model definition's text when the detector was built from a .yaml.</summary>
    public const string ModelYamlKey = "detect_model_yaml";

    /// <summary>
    /// The detector --model describes: a built-in size, or the definition in <paramref name="yaml"/> (its text; errors
    /// name <paramref name="model"/>), with <paramref name="classes"/> classes.
    /// </summary>
    public static YoloDetector BuildDetector(string model, string? yaml, int classes, bool biasPrior = true)
        => yaml is null ? new YoloV5(classes, YoloSize.Parse(model), biasPrior: biasPrior)
            : new YoloModel(YoloModelConfig.Parse(yaml, model), classes, biasPrior: biasPrior);

    /// <summary>
    /// The text of the --model definition file <paramref name="model"/> (null for a built-in size); a missing file names
    /// --model. For `detect train` and `detect pretrain`.
    /// </summary>
    internal static string? ModelYaml(string model)
    {
        if (DetectConfig.ModelSizes.Contains(model)) return null;
        if (!File.Exists(model)) throw new FileNotFoundException($"--model: model definition not found: {model} (a YOLOv5-style .yaml; see docs/detection.md, or give a size: {string.Join(", ", DetectConfig.ModelSizes)})", model);
        return File.ReadAllText(model);
    }

    /// <summary>Test hook: a callback the next training run on this async flow adds after its own (to stop it at a chosen point).</summary>
    internal static readonly AsyncLocal<Callback?> TestCallback = new();

    /// <summary>Reads --data, with the command's own wording when it is missing.</summary>
    public static YoloDataConfig LoadData(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"--data: data set description not found: {path} (a YOLO data.yaml; `ember detect make-data` writes {MakeDataCommand.DefaultOutput}/data.yaml)", path);
        return YoloDataConfig.Load(path);
    }

    /// <summary>
    /// A split of the data set, scanned (<see cref="Scan"/>) without writing its summary, which <see cref="Report"/> writes
    /// once the images too large beside the training step are skipped too; a split without usable images is reported at once.
    /// </summary>
    static YoloDataset OpenSplit(YoloDataConfig data, bool train, bool cache, TextWriter log)
    {
        var set = Scan(data, train, cache, log: null);
        if (set.Count == 0 || (train && set.Backgrounds == set.Count)) Report(data, set, train, log);
        return set;
    }

    /// <summary>
    /// Writes a split's summary (<see cref="WriteSummary"/>); an empty split, or a training split with no labelled image,
    /// is an error naming the file.
    /// </summary>
    static void Report(YoloDataConfig data, YoloDataset set, bool train, TextWriter log)
    {
        WriteSummary(data, set, train, log);
        if (set.Count == 0) throw new InvalidDataException($"{data.Source}: the {(train ? "train" : "val")} split has no usable images ({set.Summary()})");
        // YOLOv5 refuses this too ("No labels found ..., can not start training"): every image a background teaches nothing
        if (train && set.Backgrounds == set.Count)
            throw new InvalidDataException($"{data.Source}: no training image has a label file ({set.Summary()}); YOLO's layout keeps one .txt per image under labels/ beside images/");
    }

    /// <summary>
    /// Reads a split (<see cref="YoloDataset"/>) and writes its summary to <paramref name="log"/> (<see cref="WriteSummary"/>;
    /// none without a log). An image whose decoding does not fit in the memory free now (its header's size at
    /// <see cref="TrainingMemory.DecodeBytesPerPixel"/>), or whose reading runs out of memory, is skipped as the data set's
    /// other bad samples are, and named on a line of its own.
    /// </summary>
    internal static YoloDataset Scan(YoloDataConfig data, bool train, bool cache, TextWriter? log)
    {
        long admitted = 0; // the most pixels let through so far: nothing is decoded while scanning, so a smaller image fits too
        // a process that holds more than its room already would refuse every image: no image is to blame then, and the
        // command's own check (of its training step or validation batch) says so with the options to lower
        if (TrainingMemory.HoldsMoreThanRoom()) admitted = long.MaxValue;
        var set = YoloDataset.FromConfig(data, train, cacheImages: cache, tooLarge: (image, height, width) =>
        {
            WeighingImage.Value?.Invoke(image);
            long pixels = (long)height * width;
            if (pixels <= admitted) return null;
            var reason = TrainingMemory.ImageRefusal(width, height, TrainingMemory.DecodeBytesPerPixel, "decode and resize");
            if (reason is null) admitted = pixels;
            return reason;
        });
        if (log is not null) WriteSummary(data, set, train, log);
        return set;
    }

    /// <summary>
    /// Writes a split's summary line and one line for each image skipped for memory; a split none of whose images fits
    /// is an <see cref="OutOfMemoryException"/>.
    /// </summary>
    internal static void WriteSummary(YoloDataConfig data, YoloDataset set, bool train, TextWriter log)
    {
        var split = train ? "train" : "val";
        log.WriteLine($"{split}: {set.Summary()}");
        foreach (var skipped in set.SkippedForMemory) log.WriteLine($"{split}: skipped {skipped}");
        if (set.Count == 0 && set.SkippedForMemory.Count > 0)
            throw new OutOfMemoryException($"{data.Source}: no image of the {split} split fits in the memory free now ({set.Summary()})");
    }

    /// <summary>Test seam: runs with each image's path as <see cref="Scan"/> weighs it (a test throws there).</summary>
    internal static readonly AsyncLocal<Action<string>?> WeighingImage = new();

    /// <summary>
    /// Fails, naming data.yaml and the key, when an image source of the split does not exist; for training also when
    /// every training source is a folder with no labels folder beside it. Cheap (no image is read), so a training run
    /// checks it before it makes its run folder.
    /// </summary>
    internal static void CheckSplit(YoloDataConfig data, bool train)
    {
        var sources = train ? data.Train : data.Val;
        foreach (var source in sources)
            if (!Directory.Exists(source) && !File.Exists(source))
                throw new DirectoryNotFoundException($"{data.Source}: '{(train ? "train" : "val")}' names {source}, which does not exist " +
                    $"(a folder of images, a .txt list of images, or an image file, relative to {data.Root})");
        if (!train) return;
        var labelFolders = sources.Select(s => Directory.Exists(s) ? LabelFolder(s) : null).ToList();
        if (labelFolders.All(f => f is not null && !Directory.Exists(f)))
            throw new InvalidDataException($"{data.Source}: the training images have no labels folder ({string.Join(", ", labelFolders)} does not exist); " +
                "YOLO's layout keeps one .txt per image under labels/ beside images/, and a run on background images alone learns nothing");
    }

    // Where YOLO's layout keeps the labels of a folder of images (images/val → labels/val).
    static string LabelFolder(string imageFolder) => Path.GetDirectoryName(YoloLabels.LabelPathFor(Path.Combine(imageFolder, "x.png")))!;

    /// <summary>
    /// The warning for a split without one labelled object, or null when it has some: detections cannot be scored
    /// (YOLOv5 warns "no labels found in val set, can not compute metrics without labels"). It names the labels folder
    /// when that is missing, and ends with <paramref name="consequence"/>: what the command reports instead.
    /// </summary>
    internal static string? NoLabelsWarning(YoloDataConfig data, YoloDataset set, bool train, string consequence)
    {
        if (set.Objects > 0) return null;
        var missing = (train ? data.Train : data.Val).Where(Directory.Exists).Select(LabelFolder).Where(f => !Directory.Exists(f)).ToList();
        var why = missing.Count > 0 ? $"{string.Join(", ", missing)} does not exist" : "no label file holds an object";
        return $"{data.Source}: the {(train ? "train" : "val")} split has no labels ({why}; {set.Summary()}); precision, recall and mAP need labels, so {consequence}";
    }

    /// <summary>The validation pipeline: letterboxed rectangular batches in aspect-ratio order, as val.py.</summary>
    public static DetectionDataset ValidationData(YoloDataset set, int imageSize, int batchSize)
        => new(set, imageSize, rect: true, batchSize: batchSize);

    /// <summary>
    /// Trains into a new run folder (or continues <paramref name="resumeFolder"/>); returns the exit code (130 after Ctrl-C,
    /// 143 after SIGTERM). <paramref name="interruptAfterBatches"/> behaves like Ctrl-C after that many batches (tests).
    /// A resumed last/ holding NaN or ±Inf (weights, optimizer moments, EMA) is refused unless <paramref name="allowNonFinite"/>.
    /// </summary>
    public static int Train(DetectConfig config, string? resumeFolder = null, TextWriter? plainOutput = null, int? interruptAfterBatches = null,
        IReadOnlyDictionary<string, string?>? resumeOverrides = null, bool allowNonFinite = false)
    {
        var log = plainOutput ?? Console.Out;
        var clock = Stopwatch.StartNew();
        string runDir;
        CheckpointState? resumeState = null;
        bool resumeChanges = false; // --epochs extends the run: args.yaml is rewritten once last/ has loaded
        IReadOnlyDictionary<string, Tensor>? transfer = null; // --weights of a new run
        // the --model .yaml's text (null: a built-in size), read once: a new run checks, builds from and records the same text,
        // and a resumed run rebuilds from the definition saved with it, whatever became of the file since
        string? yaml;
        if (resumeFolder is not null)
        {
            var args = Path.Combine(resumeFolder, "args.yaml");
            var overrides = resumeOverrides ?? new Dictionary<string, string?>();
            RunFolderCheck.ForResume(resumeFolder, RunFolderKind.Detection, () => RunFolderCheck.Finished(resumeFolder, ResumeConfig(args, DetectConfig.Load(args), overrides).Epochs));
            var recorded = DetectConfig.Load(args);
            config = ResumeConfig(args, recorded, overrides);
            resumeState = Checkpoint.ReadState(Path.Combine(resumeFolder, "last"));
            if (!resumeState.Metadata.TryGetValue(ModelKey, out var size) || size != config.Model)
                throw new CheckpointException(Path.Combine(resumeFolder, "last", Checkpoint.JsonFile), $"is not the {(config.ModelIsYaml ? config.Model : "YOLOv5" + config.Model)} detector {args} describes");
            if (config.Epochs < resumeState.Epoch)
                throw new ConfigException($"--epochs {config.Epochs} is fewer than the {resumeState.Epoch} epoch(s) {resumeFolder} has already reached");
            runDir = resumeFolder;
            yaml = resumeState.Metadata.GetValueOrDefault(ModelYamlKey);
            resumeChanges = recorded != config;
        }
        else
        {
            // a missing or malformed data.yaml fails before a run folder is made, and so does a split it names wrongly
            var described = LoadData(config.Data);
            CheckSplit(described, train: true);
            CheckSplit(described, train: false);
            yaml = ModelYaml(config.Model);
            // the checks below that need the detector share one, built when the first asks (the run builds its own later)
            YoloDetector? probe = null;
            YoloDetector Probe() => probe ??= BuildDetector(config.Model, yaml, described.ClassCount);
            if (yaml is { } text)
            {
                _ = YoloModelConfig.Parse(text, config.Model); // so does a bad --model .yaml
                if (config.ValAugment && Probe().Detect.Strides is var strides && !AugmentedInference.Supports(strides))
                    throw new ConfigException($"--val-augment: {config.Model} cannot be run augmented: YOLOv5's augmented inference needs {AugmentedInference.Requirement(strides)}");
            }
            // so do --weights that cannot be read or that share no tensor with the detector
            if (config.Weights is not null) transfer = ReadWeights(config.Weights, Probe());
            // and so does a --freeze the detector cannot take (a layer beyond its last, or every layer)
            if (config.Freezes) CheckFreeze(config, Probe());
            runDir = RunFolder.Create(config.Project);
            AtomicFile.WriteAllText(Path.Combine(runDir, "args.yaml"), config.ToYaml());
        }
        // no other process may train in the folder while this one does (a second --resume of it is refused)
        using var held = RunFolderLock.Hold(runDir, "ember detect train --resume");

        CliErrors.MemoryHint = $"lower --img ({config.Img}), --batch-size ({config.BatchSize}), --val-batch-size ({config.EffectiveValBatchSize}) or --workers ({config.Workers}), " +
            $"or train a smaller --model than {config.Model}" + (config.Cache ? ", or without --cache (--cache false)" : "");
        Torch.ManualSeed(config.Seed);
        var data = LoadData(config.Data);
        var trainSet = OpenSplit(data, train: true, config.Cache, log);
        var valSet = OpenSplit(data, train: false, config.Cache, log); // validation reads every image each epoch too

        var model = BuildDetector(config.Model, yaml, data.ClassCount, config.BiasPrior);
        if (transfer is not null)
            log.WriteLine($"transferred {WeightTransfer.Intersect(model, transfer).Count}/{model.StateDict().Count} tensors from {config.Weights}");
        // frozen before the optimizer's groups and the EMA are made: neither takes the frozen parameters as trained ones
        // (a resumed run freezes the same layers, so its optimizer state matches last/'s)
        if (config.Freezes) log.WriteLine(Freeze(config, model));
        var lossOptions = config.LossOptions(model.Detect.NumLevels, data.ClassCount, config.Img);
        // the step is measured once the labels are known (its probe's boxes), before the data pipeline: a training image
        // that fits alone but not beside it is left out here, and the check before the first batch counts the images kept
        int reading = ReadCount(config, trainSet);
        var step = TrainingStep(config, yaml, model, lossOptions, trainSet, reading);
        TrainingMemory.MemoryTerm[] cached = config.Cache ? [CacheTerm([(trainSet, reading), (valSet, valSet.Count)])] : [];
        bool stepFits = SkipBesideStep(trainSet, reading, config.Workers, step, cached);
        // and a validation image beside the validation batch (on the loader's workers too), unless the check is to refuse
        // the step anyway: its probe would only delay that
        var validation = ValidationProbeOf(model, lossOptions, ObjectsPerImage(valSet));
        if (stepFits) SkipBesideValidation(valSet, config.EffectiveValImg, config.EffectiveValBatchSize, config.Workers, validation, step.State, step.LoaderBytes, config.ValAugment,
            ValidationSizes(config), cached);
        Report(data, trainSet, train: true, log);
        Report(data, valSet, train: false, log);
        // without validation labels fitness is undefined: best/ follows the validation loss (objectness on background) instead
        bool valLabelled = valSet.Objects > 0;
        if (NoLabelsWarning(data, valSet, train: false, "metrics.csv records NaN for them and for fitness, and best/ keeps the epoch with the lowest validation loss") is { } noLabels)
            CliErrors.Warn(noLabels);
        int trainCount = ReadCount(config, trainSet);
        IDataset<DetectionSample> trainSource = trainCount < trainSet.Count ? new Subset<DetectionSample>(trainSet, [.. Enumerable.Range(0, trainCount)]) : trainSet;
        var trainData = new DetectionDataset(trainSource, config.Img, augment: true, hyp: config.Hyp, batchSize: config.BatchSize);
        var trainLoader = trainData.CreateLoader(shuffle: true, numWorkers: config.Workers, seed: config.Seed);
        // the last --close-mosaic epochs: the same pipeline without mosaic, from a loader with the same seed, so each
        // epoch's order and per-image draws depend on the epoch alone (a resume inside or before them replays them)
        var closedLoader = config.CloseMosaic > 0
            ? trainData.WithoutMosaic().CreateLoader(shuffle: true, numWorkers: config.Workers, seed: config.Seed) : trainLoader;
        var valData = ValidationData(valSet, config.EffectiveValImg, config.EffectiveValBatchSize);
        var valLoader = valData.CreateLoader(numWorkers: config.Workers);

        RequireTrainingFits(config, TrainingStep(config, yaml, model, lossOptions, trainSet, trainCount, step.Line), trainSet, trainCount, validation, valData,
            config.Cache ? CacheTerm([(trainSet, trainCount), (valSet, valSet.Count)]) : null, DecodeTerm(valSet, valSet.Count, config.Workers));
        // autoanchor changes the anchors buffer: before the EMA copies the model, so that its shadow holds the same anchors
        if (resumeState is null && config.Autoanchor) log.WriteLine(AutoAnchorReport(model, trainSet, trainCount, config));
        var ema = config.Ema > 0 ? new ModelEma(model, config.Ema, config.EmaTau) : null;
        var groups = YoloParameterGroups.Of(model);
        Ember.Optim.Optimizer optimizer = config.Optimizer switch
        {
            "sgd" => groups.Sgd(config.Lr, config.Momentum, config.WeightDecay),
            "adam" => groups.Adam(config.Lr, config.WeightDecay),
            _ => groups.AdamW(config.Lr, config.WeightDecay),
        };
        int batchesPerEpoch = trainLoader.Count;
        var (scheduler, perStep, warmup) = Schedule(config, optimizer, batchesPerEpoch);
        var scaler = config.Amp == "fp16" ? new GradScaler() : null;
        var loss = new DetectLoss(new YoloLoss(model.Detect, lossOptions), model.Detect);
        var trainer = new Trainer(model, optimizer, loss.Compute, new TrainerOptions
        {
            Epochs = config.Epochs,
            Ema = ema,
            SchedulerPerStep = perStep,
            Autocast = AmpDType(config.Amp),
            Scaler = scaler,
        }, scheduler);
        var reporter = new ProgressReporter(config.Plain, plainOutput);
        var metrics = new DetectMetricsLogger(loss, data.ClassCount, Path.Combine(runDir, "metrics.csv"), reporter.Plain ? log : null);
        var checkpoints = new ModelCheckpoint(runDir, optimizer, scheduler, scaler: scaler, ema: ema, monitor: valLabelled ? "fitness" : "val_loss", metadata: () =>
        {
            var meta = new Dictionary<string, string>
            {
                [ModelKey] = config.Model,
                [NamesKey] = string.Join('\n', data.Names),
                ["seed"] = config.Seed.ToString(CultureInfo.InvariantCulture),
            };
            if (yaml is not null) meta[ModelYamlKey] = yaml;
            return meta;
        });
        trainer.Add(reporter, metrics, checkpoints);
        if (interruptAfterBatches is int limit)
        {
            int seen = 0;
            trainer.Add(new LambdaCallback { BatchEnd = s => { if (++seen == limit) { s.StopRequested = true; s.StopReason = "interrupted (simulated)"; } } });
        }
        if (TestCallback.Value is { } testCallback) trainer.Add(testCallback);

        int startEpoch = 1, skip = 0;
        if (resumeState is not null)
        {
            var last = Path.Combine(runDir, "last");
            var loaded = Checkpoint.Load(last, model, optimizer, ema, allowNonFinite);
            loaded.CheckRange(Path.Combine(last, Checkpoint.JsonFile), config.Epochs, batchesPerEpoch, 1);
            (startEpoch, skip) = ResumedRun.Restore(trainer, last, loaded, () =>
            {
                if (loaded.Scheduler is not null) scheduler?.LoadStateDict(loaded.Scheduler);
                if (loaded.Scaler is { Length: 2 } s && scaler is not null) scaler.LoadStateDict((s[0], (int)s[1]));
            });
            log.WriteLine($"resuming {runDir} at epoch {startEpoch}" + (skip > 0 ? $", batch {skip}" : ""));
            // a finished run is left as it is (its folder may be read-only: ForResume let it through for this); one whose
            // closing part failed (memory ran out after the loop) has its final validation still to write
            if (startEpoch > config.Epochs && File.Exists(Path.Combine(runDir, "summary.md"))) { log.WriteLine($"{runDir} already finished its {config.Epochs} epochs"); return 0; }
            if (startEpoch > config.Epochs) log.WriteLine($"{runDir} finished its {config.Epochs} epochs without its final validation; writing it");
            // only now, with last/ loaded: a refused checkpoint leaves the run folder as it was
            else if (resumeChanges) AtomicFile.WriteAllText(Path.Combine(runDir, "args.yaml"), config.ToYaml());
        }

        string scheduleEnd = config.Lrf is double lrf ? string.Create(CultureInfo.InvariantCulture, $" to lr·{lrf}") : "";
        string closeMosaic = config.CloseMosaic > 0 && config.Hyp.Mosaic > 0 ? $"no mosaic in the last {config.CloseMosaic} epochs, " : "";
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ember detect train: {model.ModelName} ({model.ParameterCount():N0} parameters{(config.Freezes ? $", {model.ParameterCount(onlyTrainable: true):N0} trained" : "")}, {data.ClassCount} classes), --img {config.Img}{(config.ValImg > 0 ? $" (validation at {config.ValImg})" : "")}, {config.Epochs} epochs, batch {config.BatchSize}, " +
            $"{config.Optimizer} lr {config.Lr}, schedule {config.Schedule}{scheduleEnd} (warm-up {warmup} steps), {closeMosaic}AMP {config.Amp}, bias prior {(config.BiasPrior ? "on" : "off")}, EMA {(ema is null ? "off" : config.Ema.ToString(CultureInfo.InvariantCulture))}, " +
            $"{trainCount} training / {valSet.Count} validation images, {Torch.NumThreads} threads → {runDir}"));
        PosixSignal? interruptedBy;
        using (var signals = new SignalStop(trainer.State, $"ember detect train --resume {runDir}"))
        {
            if (startEpoch <= config.Epochs) reporter.Run(() => TrainingMemory.Run(() => trainer.Fit(epoch => (MosaicClosed(config, epoch) ? closedLoader : trainLoader).Iterate(epoch - 1).Select(b => (b.Images, b.Targets)),
                _ => valLoader.Iterate(0).Select(b => (b.Images, b.Targets)), startEpoch, batchesPerEpoch, skip), runDir, $"ember detect train --resume {runDir}"));
            interruptedBy = signals.Signal;
        }
        bool interrupted = trainer.State.StopRequested && trainer.State.StopReason?.StartsWith("interrupted", StringComparison.Ordinal) == true;
        int exitCode = interruptedBy == PosixSignal.SIGTERM ? 143 : interrupted ? 130 : 0;

        const string closing = "the final validation of best/, its plots and summary.md";
        if (interrupted)
        {
            TrainingMemory.AfterLoop(() => { if (metrics.Rows.Count > 0) DetectPlots.Results(metrics.Rows, Path.Combine(runDir, "results.png")); },
                runDir, $"ember detect train --resume {runDir}", config.Epochs, closing);
            log.WriteLine($"stopped: {trainer.State.StopReason}");
            return exitCode;
        }
        TrainingMemory.Close(ValidateBest, runDir, $"ember detect train --resume {runDir}", config.Epochs, closing);
        return exitCode;

        // the closing part: results.png, best/ validated once more, summary.md
        void ValidateBest()
        {
            if (metrics.Rows.Count > 0) DetectPlots.Results(metrics.Rows, Path.Combine(runDir, "results.png"));
            // the best weights validated once more, as train.py does at the end, for the pictures
            var best = BuildDetector(config.Model, yaml, data.ClassCount);
            Checkpoint.LoadForInference(checkpoints.BestPath, best);
            var bestLoss = new DetectLoss(new YoloLoss(best.Detect, lossOptions), best.Detect);
            var evaluation = Evaluate(best, valData, bestLoss, config.PlotImages, config.Workers);
            WritePictures(evaluation, data.Names, runDir);
            var summary = Summary(evaluation, data.Names);
            if (config.ValAugment)
            {
                var augmented = Evaluate(best, valData, bestLoss, 0, config.Workers, augment: true);
                summary = "Plain inference:\n\n" + summary + "\nAugmented inference (--val-augment, val.py --augment: scales 1, 0.83, 0.67; flips none, left-right, none):\n\n" + Summary(augmented, data.Names);
            }
            AtomicFile.WriteAllText(Path.Combine(runDir, "summary.md"), $"# ember detect train: {model.ModelName} on {config.Data}\n\n" +
                string.Create(CultureInfo.InvariantCulture, $"best epoch {checkpoints.BestEpoch} of {metrics.Rows.Count} ({(valLabelled ? "fitness" : "lowest validation loss; the val split has no labels")} {checkpoints.Best:F4}); wall time {clock.Elapsed.TotalSeconds:F0} s, {Torch.NumThreads} threads\n\n") +
                summary + "\n## Config\n\n```yaml\n" + config.ToYaml() + "```\n");
            log.Write(summary);
            log.WriteLine($"done: {metrics.Rows.Count} epochs; best/ is epoch {checkpoints.BestEpoch}{(valLabelled ? "" : " (by validation loss: the val split has no labels)")}; results in {runDir}");
        }
    }

    /// <summary>Refuses (a <see cref="ConfigException"/> naming --freeze) a --freeze that <paramref name="model"/> cannot take (<see cref="YoloFreeze.Check"/>).</summary>
    static void CheckFreeze(DetectConfig config, YoloDetector model)
    {
        if (YoloFreeze.Check(model, config.FreezeNumbers) is { } problem)
            throw new ConfigException($"--freeze {config.Freeze} ({model.ModelName}): {problem}");
    }

    /// <summary>
    /// Freezes the layers of --freeze in <paramref name="model"/> (<see cref="YoloFreeze"/>) and returns the line saying
    /// so, as train.py's "freezing model.0. …" lines in one: the layers, the tensors and parameters frozen.
    /// </summary>
    internal static string Freeze(DetectConfig config, YoloDetector model)
    {
        CheckFreeze(config, model);
        long total = model.ParameterCount(), tensors = model.Parameters().Count();
        var layers = YoloFreeze.Layers(config.FreezeNumbers);
        var frozen = YoloFreeze.Apply(model, config.FreezeNumbers);
        long parameters = total - model.ParameterCount(onlyTrainable: true);
        string names = layers.Length == 1 ? $"model.{layers[0]}." : $"model.{layers.Min()}. … model.{layers.Max()}.";
        return string.Create(CultureInfo.InvariantCulture,
            $"freezing layers {YoloFreeze.Describe(layers)} of 0–{YoloFreeze.LayerCount(model) - 1} ({names}): {frozen.Count} of {tensors} parameter tensors, {parameters:N0} of {total:N0} parameters; " +
            $"their BatchNorm layers still update their running statistics in train mode, as in YOLOv5");
    }

    /// <summary>What --weights takes, for its errors.</summary>
    internal const string WeightsTakes = "--weights takes a checkpoint folder: best/ or last/ of an `ember detect pretrain` or `ember detect train` run";

    /// <summary>
    /// The weights of the checkpoint folder <paramref name="folder"/> a new run starts from (the EMA weights when it has
    /// them), checked against <paramref name="detector"/>: a missing folder, a file, a run folder instead of its best/, a
    /// folder that is not a checkpoint, non-finite weights or weights sharing no tensor (name and shape) with the
    /// detector are a <see cref="CheckpointException"/>.
    /// </summary>
    internal static IReadOnlyDictionary<string, Tensor> ReadWeights(string folder, YoloDetector detector)
    {
        if (File.Exists(folder)) throw new CheckpointException(folder, $"is a file; {WeightsTakes}");
        if (!Directory.Exists(folder)) throw new CheckpointException(folder, $": no such folder; {WeightsTakes}");
        if (!File.Exists(Path.Combine(folder, Checkpoint.JsonFile)) && Directory.Exists(Path.Combine(folder, "last")))
            throw new CheckpointException(folder, $"is a run folder, not a checkpoint; --weights takes one of its checkpoint folders: {Path.Combine(folder, "best")} (or last)");
        var (_, weights, file) = Checkpoint.ReadForInference(folder);
        Checkpoint.RequireFinite(weights, file);
        var own = detector.StateDict();
        if (!own.Any(kv => weights.TryGetValue(kv.Key, out var w) && w.Shape == kv.Value.Shape))
            throw new CheckpointException(file, $"shares no tensor (name and shape) with the {detector.ModelName} detector ({weights.Count} tensors there, {own.Count} in the detector): " +
                "was it written for another --model? " + WeightsTakes);
        return weights;
    }

    /// <summary>
    /// Refuses (exit 7) a run whose training step or validation batch cannot fit (<see cref="TrainingMemory.RequireFits"/>):
    /// the step as <paramref name="step"/> measured it, the validation batch as <paramref name="validation"/> measures it
    /// (<see cref="RequireValidationFits"/>); each beside its split's images decoding (<see cref="DecodeTerm"/>) and, with
    /// --cache, the copies of both splits (<paramref name="cache"/>, full after the first epoch).
    /// </summary>
    static void RequireTrainingFits(DetectConfig config, TrainingStepNeed step, YoloDataset trainSet, int trainCount,
        ValidationProbe validation, DetectionDataset valData, TrainingMemory.MemoryTerm? cache, TrainingMemory.MemoryTerm valDecode)
    {
        TrainingMemory.RequireFits(step.Sizes, "for one training step", step.Line, null, step.Scale, step.LoaderBytes, step.Batch, "images", step.State, step.Probed,
            [DecodeTerm(trainSet, trainCount, config.Workers), .. Cached()]);
        RequireValidationFits(validation, valData, step.State, step.LoaderBytes, ValidationSizes(config), config.ValAugment, [valDecode, .. Cached()]);

        TrainingMemory.MemoryTerm[] Cached() => cache is { } c ? [c] : [];
    }

    // The options that size detect train's validation batch, as its check names them.
    static string ValidationSizes(DetectConfig config)
        => $"--model {config.Model} at --{(config.ValImg > 0 ? "val-img" : "img")} {config.EffectiveValImg} and --val-batch-size {config.EffectiveValBatchSize}" +
           (config.ValAugment ? " with --val-augment" : "");

    /// <summary>
    /// `detect train`'s training step as the memory check weighs it: <see cref="Line"/> measured once (on a fresh detector
    /// at 2 and 4 images of twice its largest stride; a convolutional model's tensors grow with the image's area, so the
    /// bytes per image scale by <see cref="Scale"/> to --img) however often it is weighed, <see cref="Batch"/> images of it,
    /// the loader's prefetched batches per image (<see cref="LoaderBytes"/>) and the optimizer's and EMA's state.
    /// </summary>
    sealed record TrainingStepNeed(string Sizes, Func<MemoryLine> Line, double Scale, double LoaderBytes, long Batch, double State, string Probed);

    /// <summary>
    /// The training step of a run reading the first <paramref name="count"/> images of <paramref name="trainSet"/>
    /// (<see cref="TrainingStepNeed"/>), with the line <paramref name="measured"/> already when given.
    /// </summary>
    static TrainingStepNeed TrainingStep(DetectConfig config, string? yaml, YoloDetector model, YoloLossOptions lossOptions, YoloDataset trainSet, int count,
        Func<MemoryLine>? measured = null)
    {
        int probe = ProbeSize(model), classes = model.NumClasses, objects = ObjectsPerImage(trainSet);
        long batch = Math.Min(config.BatchSize, (long)count);
        var line = new Lazy<MemoryLine>(measured ?? (() => MemoryProbe.TrainingStep(() =>
        {
            var fresh = BuildDetector(config.Model, yaml, classes, config.BiasPrior);
            return (fresh, new DetectLoss(new YoloLoss(fresh.Detect, lossOptions), fresh.Detect).Compute);
        }, n => ProbeBatch(n, probe, objects, classes), AmpDType(config.Amp))));
        // the loader's workers keep batches ready beside the one in the step (its prefetch factor, 2, each)
        double loaderBytes = 4.0 * 3 * config.Img * config.Img * 2 * config.Workers;
        return new($"--model {config.Model} at --img {config.Img} and --batch-size {config.BatchSize}{(batch < config.BatchSize ? $" ({batch} images a batch)" : "")}",
            () => line.Value, AreaRatio(config.Img, config.Img, probe), loaderBytes, batch,
            TrainingMemory.StateBytes(model.ParameterCount(), TrainingMemory.StateOf(config.Optimizer, config.Momentum), config.Ema > 0), $"steps of 2 and 4 images of {probe} px");
    }

    /// <summary>How many images of the training split a run reads: the first --limit, or all.</summary>
    static int ReadCount(DetectConfig config, YoloDataset trainSet) => config.Limit > 0 ? Math.Min(config.Limit, trainSet.Count) : trainSet.Count;

    /// <summary>
    /// Skips from <paramref name="trainSet"/>, as the scan skips an image too large for the memory free, each image among
    /// the first <paramref name="count"/> kept (those the run reads) whose decoding, on each of <paramref name="workers"/>
    /// loader threads at once (<see cref="DecodeTerm"/>), does not fit beside the training step: in the room the check
    /// measures less the step, the optimizer's state, <paramref name="beside"/> (the cache) and what the process holds.
    /// The scan weighed each image alone, before the model existed; the check after this counts the largest image kept.
    /// Nothing is skipped when the step does not fit without any image: no image is to blame, and the check says so; returns
    /// whether the step fits (true as well when the check is off).
    /// </summary>
    static bool SkipBesideStep(YoloDataset trainSet, int count, int workers, TrainingStepNeed step, IReadOnlyList<TrainingMemory.MemoryTerm> beside)
        => SkipBeside(trainSet, count, workers, TrainingMemory.RoomBeside(step.Line, null, step.Scale, step.LoaderBytes, step.Batch, step.State, beside),
            $"the training step of {step.Sizes}");

    // Skips the images (until count are kept) whose decoding on each of the workers at once needs more than the bytes left
    // beside what (null: the check is off; negative: what does not fit without any image, so none is to blame); returns
    // whether what it is weighed beside fits (or the check is off).
    static bool SkipBeside(YoloDataset set, int count, int workers, double? left, string what)
    {
        if (left is not double room) return true;
        if (room < 0) return false;
        int decoding = Math.Max(1, workers);
        string onWorkers = workers > 1 ? $" on each of the {workers} --workers at once" : "";
        set.SkipForMemory(count, (image, height, width) =>
        {
            double need = decoding * TrainingMemory.DecodeBytesPerPixel * height * width;
            return need <= room ? null : string.Create(CultureInfo.InvariantCulture,
                $"{width}×{height} = {(long)width * height:N0} pixels need about {TrainingMemory.Size(need)} to decode and resize{onWorkers}, more than the {TrainingMemory.Size(room)} left beside {what}");
        });
        return true;
    }

    /// <summary>
    /// What decoding a split's images holds beside the step or batch that uses them: its largest image (of the first
    /// <paramref name="count"/>, those the run reads) at <see cref="TrainingMemory.DecodeBytesPerPixel"/>, on each of
    /// <paramref name="workers"/> loader threads at once, or on the training thread alone without workers (a loader with
    /// workers loads nothing on it). The scan weighed each image alone (<see cref="Scan"/>); this weighs it beside the model.
    /// </summary>
    internal static TrainingMemory.MemoryTerm DecodeTerm(YoloDataset set, int count, int workers)
    {
        if (count == 0) return new(0, "to decode images (none)");
        int largest = Enumerable.Range(0, count).MaxBy(Pixels); // the first of the largest
        var (height, width) = set.ImageSize(largest);
        // named: an image the scan let through alone may not fit beside the model, and may be what to shrink or remove
        return new(Math.Max(1, workers) * TrainingMemory.DecodeBytesPerPixel * Pixels(largest),
            $"to decode the largest image ({width}×{height}, {set.ImagePath(largest)})" + (workers > 1 ? $" on each of the {workers} --workers at once" : ""));

        long Pixels(int i) => set.ImageSize(i) is var (h, w) ? (long)h * w : 0;
    }

    /// <summary>
    /// What --cache holds by the end of the first epoch (<see cref="TrainingMemory.CacheBytes"/>): the 8-bit copy of every
    /// image of <paramref name="splits"/> (each split's first Count, those the run reads); --cache false drops it.
    /// </summary>
    internal static TrainingMemory.MemoryTerm CacheTerm(IEnumerable<(YoloDataset Set, int Count)> splits)
    {
        long pixels = 0, images = 0;
        foreach (var (set, count) in splits)
            for (int i = 0; i < count; i++, images++)
            {
                var (h, w) = set.ImageSize(i);
                pixels += (long)h * w;
            }
        return new(TrainingMemory.CacheBytes(pixels),
            string.Create(CultureInfo.InvariantCulture, $"for the 8-bit copies --cache keeps of the {images:N0} images ({pixels:N0} pixels)"),
            "--cache false (each image is then decoded every time it is read)", "the cache");
    }

    /// <summary>
    /// Refuses (exit 7) a validation whose largest rectangular batch (the most pixels) cannot fit beside
    /// <paramref name="fixedBytes"/>: the bytes per image <paramref name="probe"/> measures, scaled by the area to the
    /// batch's shape; with <paramref name="augment"/>, besides, what augmented inference keeps (<see cref="AugmentedBytes"/>);
    /// and <paramref name="beside"/>, what the data set's images hold beside it (<see cref="DecodeTerm"/>, <see cref="CacheTerm"/>).
    /// </summary>
    internal static void RequireValidationFits(ValidationProbe probe, DetectionDataset valData, double fixedBytes, double loaderBytes, string sizes, bool augment,
        IReadOnlyList<TrainingMemory.MemoryTerm> beside)
    {
        var (images, height, width, scale, extra) = ValidationBatch(probe, valData, loaderBytes, augment);
        TrainingMemory.RequireFits(sizes + (images < valData.BatchSize ? $" ({images} images a batch)" : ""), "for one validation batch", probe.Allocated, probe.Held,
            scale, extra, images, $"images of {height}×{width}", fixedBytes, $"batches of 2 and 4 images of {probe.Size} px" + (augment ? " and the augmented passes' copies" : ""), beside);
    }

    /// <summary>
    /// A validation batch of a detector as the memory check weighs it: what a batch of <see cref="Size"/>-px images
    /// allocates and holds in eval mode without gradients, forward and loss (<see cref="MemoryProbe.Inference"/>, at 2 and 4
    /// images of twice its largest stride), each measured once, when first weighed, however often it is weighed.
    /// </summary>
    internal sealed record ValidationProbe(DetectHead Head, int Size, Func<MemoryLine> Allocated, Func<MemoryLine> Held);

    /// <summary>The <see cref="ValidationProbe"/> of <paramref name="model"/>, its probe batches with <paramref name="objects"/> boxes an image.</summary>
    internal static ValidationProbe ValidationProbeOf(YoloDetector model, YoloLossOptions lossOptions, int objects)
    {
        int size = ProbeSize(model);
        Func<int, (Tensor, Tensor)> batch = n => ProbeBatch(n, size, objects, model.NumClasses);
        var loss = new DetectLoss(new YoloLoss(model.Detect, lossOptions), model.Detect);
        var allocated = new Lazy<MemoryLine>(() => MemoryProbe.Inference(model, batch, loss.Compute, held: false));
        var held = new Lazy<MemoryLine>(() => MemoryProbe.Inference(model, batch, loss.Compute));
        return new(model.Detect, size, () => allocated.Value, () => held.Value);
    }

    // The largest batch of valData (images, shape), the scale of the probe's bytes per image to its shape, and what each
    // of its images needs besides: the loader's prefetched batches and, with augment, augmented inference's copies.
    static (int Images, int Height, int Width, double Scale, double Extra) ValidationBatch(ValidationProbe probe, DetectionDataset valData, double loaderBytes, bool augment)
    {
        var (images, height, width) = LargestBatch(valData);
        return (images, height, width, AreaRatio(height, width, probe.Size), loaderBytes + (augment ? AugmentedBytes(probe.Head, height, width) : 0));
    }

    /// <summary>
    /// Skips from <paramref name="valSet"/>, as <see cref="SkipBesideStep"/> from the training split, each image whose
    /// decoding (on each of <paramref name="workers"/> at once) does not fit beside its largest validation batch at
    /// <paramref name="imageSize"/> and <paramref name="batchSize"/> (<see cref="RequireValidationFits"/>'s sums, with
    /// <paramref name="fixedBytes"/> and <paramref name="beside"/>); <paramref name="sizes"/> names the batch.
    /// </summary>
    internal static void SkipBesideValidation(YoloDataset valSet, int imageSize, int batchSize, int workers, ValidationProbe probe, double fixedBytes, double loaderBytes,
        bool augment, string sizes, IReadOnlyList<TrainingMemory.MemoryTerm> beside)
    {
        if (valSet.Count == 0) return;
        var (images, _, _, scale, extra) = ValidationBatch(probe, ValidationData(valSet, imageSize, batchSize), loaderBytes, augment);
        _ = SkipBeside(valSet, valSet.Count, workers, TrainingMemory.RoomBeside(probe.Allocated, probe.Held, scale, extra, images, fixedBytes, beside),
            $"the validation batch of {sizes}");
    }

    /// <summary>
    /// The bytes per image of <paramref name="height"/> × <paramref name="width"/> that augmented inference
    /// (<see cref="AugmentedInference"/>) holds beyond the plain forward the probe measures: the predictions (5 + classes
    /// values a box) of the two smaller passes (0.83² + 0.67² = 1.14 of the plain ones) kept beside the plain ones, the
    /// descaled copies of all three and their concatenation (2.14 each). The smaller passes' forwards, and the scaled
    /// copies of the image they run on, come after the plain forward has let go of its layers' outputs, and are smaller.
    /// </summary>
    internal static double AugmentedBytes(DetectHead head, int height, int width)
    {
        double area = AugmentedInference.Passes.Skip(1).Sum(p => p.Scale * p.Scale);
        double boxes = head.NumAnchors * head.Strides.Sum(s => Math.Ceiling(height / s) * Math.Ceiling(width / s));
        return 4.0 * boxes * head.NumOutputs * (area + 2 * (1 + area) + 2 * (1 + area));
    }

    /// <summary>The validation batch with the most pixels: its images, height and width.</summary>
    static (int Images, int Height, int Width) LargestBatch(DetectionDataset data)
    {
        (int Images, int Height, int Width) largest = (0, 0, 0);
        var shapes = data.Rect?.Shapes ?? [(data.ImageSize, data.ImageSize)];
        for (int k = 0; k < shapes.Count; k++)
        {
            int images = (int)Math.Min(data.BatchSize, data.Count - (long)k * data.BatchSize);
            if ((double)images * shapes[k].Height * shapes[k].Width > (double)largest.Images * largest.Height * largest.Width)
                largest = (images, shapes[k].Height, shapes[k].Width);
        }
        return largest;
    }

    /// <summary>The objects per image of a split, rounded up (at least 1): the probe batches' boxes.</summary>
    internal static int ObjectsPerImage(YoloDataset set) => Math.Max(1, (int)(((long)set.Objects + set.Count - 1) / set.Count));

    /// <summary>The image size a detector's memory is measured at: twice its largest stride (its smallest map 2 × 2).</summary>
    internal static int ProbeSize(YoloDetector model) => 2 * (int)model.Detect.Strides.Max();

    /// <summary>How many times the pixels of a square <paramref name="probe"/>-px image a <paramref name="height"/> × <paramref name="width"/> one has.</summary>
    internal static double AreaRatio(int height, int width, int probe) => (double)height / probe * ((double)width / probe);

    /// <summary>A probe batch: n black images of <paramref name="size"/> px, each with <paramref name="objects"/> boxes side by side.</summary>
    internal static (Tensor Images, Tensor Targets) ProbeBatch(int n, int size, int objects, int classes)
    {
        var targets = new float[n * objects * 6];
        for (int i = 0, row = 0; i < n; i++)
            for (int k = 0; k < objects; k++, row++)
            {
                float width = 1f / objects;
                targets[6 * row] = i;
                targets[6 * row + 1] = k % classes;
                (targets[6 * row + 2], targets[6 * row + 3], targets[6 * row + 4], targets[6 * row + 5]) = ((k + 0.5f) * width, 0.5f, 0.8f * width, 0.3f);
            }
        return (Torch.Zeros(n, 3, size, size), Torch.FromArray(targets, [n * objects, 6]));
    }

    /// <summary>
    /// The run's learning-rate schedule over epochs × batches optimizer steps: --schedule ending at lr·--lrf, or without
    /// --lrf where each ends by itself (cosine as CosineAnnealingLR and linear at 0, onecycle at OneCycleLR's lr/250000),
    /// so that runs from before --lrf keep their curve; under YOLOv5's warm-up except onecycle, which warms up by itself.
    /// Returns it (null for none without warm-up), whether the Trainer steps it per optimizer step, and the warm-up steps.
    /// </summary>
    internal static (LRScheduler? Scheduler, bool PerStep, int WarmupSteps) Schedule(DetectConfig config, Ember.Optim.Optimizer optimizer, int batchesPerEpoch)
    {
        int total = Math.Max(1, TrainJob.TotalSteps(config.Epochs, batchesPerEpoch));
        const double divFactor = 25; // OneCycleLR's default: it starts at max_lr/25 and ends at that / final_div_factor
        LRScheduler? main = (config.Schedule, config.Lrf) switch
        {
            ("onecycle", double lrf) => new OneCycleLR(optimizer, config.Lr, totalSteps: total, divFactor: divFactor, finalDivFactor: 1 / (divFactor * lrf)),
            ("onecycle", null) => new OneCycleLR(optimizer, config.Lr, totalSteps: total, divFactor: divFactor),
            ("cosine", double lrf) => new LambdaLR(optimizer, YoloLrLambda.Cosine(lrf, total)),
            ("cosine", null) => new CosineAnnealingLR(optimizer, total),
            ("linear", var lrf) => new LambdaLR(optimizer, YoloLrLambda.Linear(lrf ?? 0, total)),
            _ => null,
        };
        int warmup = config.Schedule == "onecycle" ? 0 : YoloWarmup.Steps(config.WarmupEpochs, batchesPerEpoch, config.WarmupMinSteps);
        if (warmup > 0) return (new YoloWarmup(optimizer, main, warmup, YoloParameterGroups.BiasGroup, config.WarmupBiasLr, config.WarmupMomentum), true, warmup);
        return (main, main is not null, 0);
    }

    /// <summary>Whether epoch <paramref name="epoch"/> (1-based) is one of the last --close-mosaic epochs, trained without mosaic.</summary>
    internal static bool MosaicClosed(DetectConfig config, int epoch) => epoch > config.Epochs - config.CloseMosaic;

    /// <summary>The autocast precision of --amp (null: none).</summary>
    internal static AutocastDType? AmpDType(string amp) => amp switch { "bf16" => AutocastDType.BFloat16, "fp16" => AutocastDType.Float16, _ => null };

    /// <summary>
    /// Runs autoanchor on the first <paramref name="count"/> training images' labels (YOLOv5's check_anchors: sizes at
    /// --img with a ×U(0.9, 1.1) jitter per image) and returns the report line; evolved anchors replace the model's when
    /// their best possible recall is higher.
    /// </summary>
    static string AutoAnchorReport(YoloDetector model, YoloDataset set, int count, DetectConfig config)
    {
        var shapes = new List<(int Width, int Height)>();
        var labelWh = new List<float[]>();
        for (int i = 0; i < count; i++)
        {
            var (h, w) = set.ImageSize(i);
            var labels = set.LabelsOf(i).ToArray<float>();
            var wh = new float[labels.Length / 5 * 2];
            for (int b = 0; b < labels.Length / 5; b++) { wh[2 * b] = labels[5 * b + 3]; wh[2 * b + 1] = labels[5 * b + 4]; }
            shapes.Add((w, h));
            labelWh.Add(wh);
        }
        var sizes = AutoAnchor.LabelSizes(shapes, labelWh, config.Img, new Generator(config.Seed));
        if (sizes.Size(0) == 0) return "autoanchor: no labelled boxes in the training split; anchors unchanged";
        var r = AutoAnchor.Check(model.Detect, sizes, new Tuning.AnchorOptions { Seed = config.Seed });
        var text = string.Create(CultureInfo.InvariantCulture,
            $"autoanchor: {sizes.Size(0)} boxes at --img {config.Img}; default anchors: best possible recall {r.Before.BestPossibleRecall:F4}, {r.Before.AnchorsAboveThreshold:F2} anchors/box");
        if (!r.Evolved) return text + $" (above {AutoAnchor.GoodBpr.ToString(CultureInfo.InvariantCulture)}: kept)";
        return text + (r.Replaced
            ? string.Create(CultureInfo.InvariantCulture, $"; evolved anchors: best possible recall {r.After.BestPossibleRecall:F4}, {r.After.AnchorsAboveThreshold:F2} anchors/box (adopted)")
            : "; evolved anchors fit no better (kept the defaults)");
    }

    /// <summary>
    /// Validates <paramref name="model"/> as the Trainer's validation does (eval mode, no graph, each batch's decoded output
    /// and loss), keeping <paramref name="keepImages"/> images for pictures; <paramref name="singleClass"/> scores it
    /// class-agnostically (val.py's --single-cls). With <paramref name="augment"/> the metrics are those of YOLOv5's
    /// augmented inference (<see cref="AugmentedInference"/>, val.py --augment); the loss stays the plain forward's (its
    /// first pass), since the augmented passes have no targets of their own. <paramref name="nms"/> replaces val.py's NMS settings.
    /// </summary>
    public static DetectEvaluation Evaluate(YoloDetector model, DetectionDataset valData, DetectLoss loss, int keepImages, int workers = 0, bool singleClass = false,
        bool augment = false, NmsOptions? nms = null)
    {
        model.Eval();
        var evaluator = new DetectionEvaluator(model.NumClasses, keepImages, singleClass, nms);
        using (Torch.NoGrad())
            foreach (var batch in valData.CreateLoader(numWorkers: workers).Iterate(0))
            {
                var output = model.Call(batch.Images);
                loss.Compute(output, batch.Targets);
                if (augment) output = AugmentedInference.Forward(model, batch.Images, plain: output);
                evaluator.Update(batch.Images, output, batch.Targets, loss.Last);
            }
        return evaluator.Result();
    }

    /// <summary>
    /// pr_curve.png (only when there were labels: without, it has no curve), confusion_matrix.png and val_pred_N.png
    /// (detections at confidence ≥ 0.25 in colour, labels in white) into <paramref name="folder"/>.
    /// </summary>
    public static void WritePictures(DetectEvaluation evaluation, IReadOnlyList<string> names, string folder)
    {
        if (evaluation.HasLabels) DetectPlots.PrCurve(evaluation.Metrics, names, Path.Combine(folder, "pr_curve.png"));
        DetectPlots.Confusion(evaluation.Confusion, names, Path.Combine(folder, "confusion_matrix.png"));
        for (int i = 0; i < evaluation.Samples.Count; i++)
        {
            var (image, detections, labels) = evaluation.Samples[i];
            BoxDrawing.Save(image, AboveConfidence(detections, 0.25), labels, names, Path.Combine(folder, $"val_pred_{i}.png"));
        }
    }

    static Tensor AboveConfidence(Tensor detections, double confidence)
    {
        var d = detections.To(DType.Float32).Contiguous().ToArray<float>();
        var kept = new List<float>();
        for (int i = 0; i < d.Length / 6; i++) if (d[6 * i + 4] >= confidence) kept.AddRange(d.AsSpan(6 * i, 6).ToArray());
        return Torch.FromArray(kept.ToArray(), [kept.Count / 6, 6]);
    }

    /// <summary>val.py's table: all classes, then each class with labels: images, labels, P, R, mAP@0.5, mAP@0.5:0.95.</summary>
    public static string Summary(DetectEvaluation e, IReadOnlyList<string> names)
    {
        var m = e.Metrics;
        var sb = new StringBuilder("| class | labels | P | R | mAP@0.5 | mAP@0.5:0.95 |\n|---|---:|---:|---:|---:|---:|\n");
        if (!e.HasLabels) return sb.Append($"| all ({e.Images} images) | 0 | — | — | — | — |\n").ToString(); // nothing to score against
        sb.Append(string.Create(CultureInfo.InvariantCulture, $"| all ({e.Images} images) | {m.LabelCounts.Sum()} | {m.MeanPrecision:F3} | {m.MeanRecall:F3} | {m.Map50:F3} | {m.Map50To95:F3} |\n"));
        for (int k = 0; k < m.Classes.Length; k++)
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"| {DetectPlots.Name(names, m.Classes[k])} | {m.LabelCounts[k]} | {m.Precision[k]:F3} | {m.Recall[k]:F3} | {m.Ap50[k]:F3} | {m.Ap50To95[k]:F3} |\n"));
        return sb.ToString();
    }

    /// <summary>The recorded config with the resume options applied; an option that would change the run is an error naming it.</summary>
    static DetectConfig ResumeConfig(string argsFile, DetectConfig recorded, IReadOnlyDictionary<string, string?> overrides)
        => ConfigKeyOptions.ApplyOnResume(argsFile, recorded, DetectConfig.Apply(recorded, overrides, "command line"), DetectConfig.Keys, DetectConfig.ResumableKeys);

    /// <summary>
    /// A detector rebuilt from a checkpoint folder (best/ or last/ of a detection run; the EMA weights when it has them),
    /// with its class names. A folder that is not a detection checkpoint is a <see cref="CheckpointException"/>, and so
    /// are weights holding NaN or ±Inf unless <paramref name="allowNonFinite"/> is set (a diverged detector finds nothing).
    /// </summary>
    public static (YoloDetector Model, string[] Names) LoadDetector(string weights, bool allowNonFinite = false)
    {
        RunFolderCheck.ForWeights(weights);
        CheckpointState state;
        try { state = Checkpoint.ReadState(weights); }
        catch (DirectoryNotFoundException) when (!Directory.Exists(weights)) { throw RunFolderCheck.MissingWeights(weights); }
        if (!state.Metadata.TryGetValue(ModelKey, out var size) || !state.Metadata.TryGetValue(NamesKey, out var joined))
            throw new CheckpointException(Path.Combine(weights, Checkpoint.JsonFile), "is not a detection checkpoint (its metadata names no YOLOv5 size and classes); give best/ or last/ of an `ember detect train` run");
        var names = joined.Split('\n');
        var model = BuildDetector(size, state.Metadata.GetValueOrDefault(ModelYamlKey), names.Length);
        var loaded = Checkpoint.LoadForInference(weights, model);
        if (!allowNonFinite) Checkpoint.RequireFinite(model.StateDict(), Path.Combine(weights, loaded.EmaUpdates is not null ? Checkpoint.EmaFile : Checkpoint.ModelFile));
        model.Eval();
        return (model, names);
    }
}
