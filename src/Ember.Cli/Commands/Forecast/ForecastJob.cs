using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Ember.Analysis;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Data;
using Ember.Interop;
using Ember.Metrics;
using Ember.Models;
using Ember.Nn.Functional;
using Ember.Optim;
using Ember.Training;
using Ember.Training.Callbacks;

namespace Ember.Cli.Commands.Forecast;

/// <summary>
/// Wires a <see cref="ForecastConfig"/> to the library: the series (<see cref="TimeSeriesCsv"/>), the chronological
/// split, the scaler fitted on the training part, a <see cref="RecurrentForecaster"/> trained by the project's
/// <see cref="Trainer"/> (MSE on the normalized series), and the test-period scores beside the naive and
/// seasonal-naive baselines.
/// </summary>
public static class ForecastJob
{
    /// <summary>The series, its split and the scaler fitted on the training part.</summary>
    public sealed record Prepared(TimeSeriesCsv Csv, TimeSeriesSplit Split, StandardScaler Scaler, Tensor Normalized, Tensor Raw);

    /// <summary>Test-period scores: the model's and the two baselines', and the non-overlapping forecasts for the plot.</summary>
    public sealed record Scores(ForecastErrors Model, ForecastErrors Naive, ForecastErrors SeasonalNaive, int Windows,
        double[] PlotActual, double[] PlotModel, double[] PlotNaive, double[] PlotSeasonal, int PlotStart);

    /// <summary>Reads and splits the series; the scaler sees only the training part.</summary>
    public static Prepared Prepare(ForecastConfig c)
    {
        var csv = TimeSeriesCsv.Read(c.Data, c.Column);
        TimeSeriesSplit split;
        try { split = new TimeSeriesSplit(csv.Values.Length, c.Val, c.Test); }
        catch (ArgumentException e) { throw new ConfigException($"{c.Data}: {e.Message} (--val {c.Val}, --test {c.Test})"); }
        var scaler = StandardScaler.Fit(csv.Values.AsSpan(0, split.TrainEnd));
        var raw = Torch.FromArray(csv.Values, [csv.Values.Length, 1]);
        var prepared = new Prepared(csv, split, scaler, scaler.Transform(csv.Values), raw);
        // a window that does not fit is a config error naming the options, caught here before any training
        try
        {
            split.TrainWindows(prepared.Normalized, c.Lookback, c.Horizon, c.Stride);
            split.TestWindows(prepared.Normalized, c.Lookback, c.Horizon);
            if (c.Val > 0) split.ValidationWindows(prepared.Normalized, c.Lookback, c.Horizon);
        }
        catch (ArgumentException e) { throw new ConfigException($"{c.Data} ({csv.Values.Length} steps): {e.Message} (--lookback {c.Lookback}, --horizon {c.Horizon}, --val {c.Val}, --test {c.Test})"); }
        return prepared;
    }

    /// <summary>The model the config describes.</summary>
    public static RecurrentForecaster BuildModel(ForecastConfig c)
        => new(c.Cell == "gru" ? RecurrentCellType.Gru : RecurrentCellType.Lstm, c.Horizon, c.Hidden, c.Layers);

    /// <summary>Test hook: a callback the next training run on this async flow adds after its own (to fail it at a chosen point).</summary>
    internal static readonly AsyncLocal<Callback?> TestCallback = new();

    /// <summary>
    /// Refuses, before anything is allocated, a forecaster whose weights, gradients and AdamW's two moments (16 bytes a
    /// parameter) would not fit the memory this process may use: a model that fits the address space but not the machine
    /// would otherwise be ended by the kernel's OOM killer, with no message (and other processes with it).
    /// </summary>
    internal static void RequireMemory(ForecastConfig c)
    {
        if (TrainingMemory.Skipped) return;
        // in double: at sizes near int.MaxValue the count overflows long
        double gates = (c.Cell == "gru" ? 3.0 : 4.0) * c.Hidden, parameters = (double)c.Hidden * c.Horizon + c.Horizon;
        parameters += gates * (1.0 + c.Hidden + 2) + (c.Layers - 1.0) * gates * (2.0 * c.Hidden + 2);
        double needed = 16.0 * parameters;
        var (process, room, over) = TrainingMemory.Room();
        if (process + needed > room)
            throw new OutOfMemoryException(string.Create(CultureInfo.InvariantCulture,
                $"the {c.Cell} of {c.Layers}×{c.Hidden} (--layers × --hidden) has {parameters:N0} parameters; with their gradients and AdamW's moments about {TrainingMemory.Size(needed)}, {over}"));
    }

    /// <summary>
    /// Refuses (exit 7) a run whose training step or validation batch cannot fit, measured as `train`'s are
    /// (<see cref="TrainingMemory.RequireFits"/>): a step of a fresh forecaster on 2 and on 4 windows, extrapolated to the
    /// batch, beside AdamW's two moments; validation's batches of 256 windows without gradients. The count of weights
    /// (<see cref="RequireMemory"/>) comes first, before a model too large to build is built.
    /// </summary>
    static void RequireStepFits(ForecastConfig c, RecurrentForecaster model, TimeSeriesWindowDataset trainSet, int validationWindows)
    {
        var (window, next) = trainSet[0];
        (Tensor, Tensor) ProbeBatch(int n) => (Torch.Zeros([n, .. window.Shape]), Torch.Zeros([n, .. next.Shape]));
        Func<Tensor, Tensor, Tensor> loss = (output, target) => F.MseLoss(output, target);
        double state = TrainingMemory.StateBytes(model.ParameterCount(), OptimizerKind.Adam, ema: false);
        string sizes = $"the {c.Cell} of {c.Layers}×{c.Hidden} (--layers × --hidden) at --batch-size {c.BatchSize} and --lookback {c.Lookback}";
        long batch = Math.Max(1, Math.Min(c.BatchSize, (long)trainSet.Count));
        TrainingMemory.RequireFits(sizes + (batch < c.BatchSize ? $" ({batch} windows a batch)" : ""), "for one training step",
            () => MemoryProbe.TrainingStep(() => (BuildModel(c), loss), ProbeBatch), null, 1, 0, batch, "windows", state, "steps of 2 and 4 windows");
        if (validationWindows > 0)
            TrainingMemory.RequireInferenceFits(sizes + $" (validated on batches of {Math.Min(ValidationBatch, validationWindows)} windows)", "for one validation batch", model,
                ProbeBatch, loss, 1, 0, Math.Min(ValidationBatch, validationWindows), "windows", state, "batches of 2 and 4 windows");
    }

    const int ValidationBatch = 256;

    /// <summary>Trains into a new run folder under <see cref="ForecastConfig.Project"/>; returns the folder.</summary>
    public static string Train(ForecastConfig c, TextWriter? plainOutput = null) => Run(c, null, plainOutput).RunDir;

    /// <summary>The options that may differ from args.yaml when resuming: more epochs, and how progress is shown.</summary>
    public static readonly IReadOnlySet<string> ResumableKeys = new HashSet<string> { "epochs", "plain" };

    /// <summary>
    /// Trains into a new run folder (or continues <paramref name="resumeFolder"/>, whose args.yaml defines the run; only
    /// <see cref="ResumableKeys"/> may change through <paramref name="resumeOverrides"/>). Ctrl-C or SIGTERM stops after the
    /// current batch and saves last/; the exit code is then 130 or 143 (0 otherwise). A resumed last/ holding NaN or ±Inf
    /// is refused unless <paramref name="allowNonFinite"/> (which then lets the closing report load such weights too).
    /// </summary>
    public static (string RunDir, int ExitCode) Run(ForecastConfig c, string? resumeFolder, TextWriter? plainOutput = null,
        IReadOnlyDictionary<string, string?>? resumeOverrides = null, bool allowNonFinite = false)
    {
        var clock = Stopwatch.StartNew();
        var log = plainOutput ?? Console.Out;
        string runDir;
        CheckpointState? resumeState = null;
        bool resumeChanges = false; // --epochs extends the run: args.yaml is rewritten once last/ has loaded
        if (resumeFolder is not null)
        {
            var args = Path.Combine(resumeFolder, "args.yaml");
            var overrides = resumeOverrides ?? new Dictionary<string, string?>();
            RunFolderCheck.ForResume(resumeFolder, RunFolderKind.Forecast,
                () => Reported(resumeFolder) && RunFolderCheck.Finished(resumeFolder, ForecastConfig.Apply(ForecastConfig.Load(args), overrides, "command line").Epochs));
            var recorded = ForecastConfig.Load(args);
            c = ConfigKeyOptions.ApplyOnResume(args, recorded, ForecastConfig.Apply(recorded, overrides, "command line"), ForecastConfig.Keys, ResumableKeys);
            resumeState = Checkpoint.ReadState(Path.Combine(resumeFolder, "last"));
            if (c.Epochs < resumeState.Epoch)
                throw new ConfigException($"--epochs {c.Epochs} is fewer than the {resumeState.Epoch} epoch(s) {resumeFolder} has already reached");
            resumeChanges = recorded != c;
        }
        CliErrors.MemoryHint = $"lower --hidden ({c.Hidden}), --layers ({c.Layers}), --batch-size ({c.BatchSize}) or --lookback ({c.Lookback})";
        var data = Prepare(c);
        Torch.ManualSeed(c.Seed);
        RequireMemory(c);
        // the model before the run folder: one too large for memory (--hidden, --layers) leaves no folder behind
        var model = BuildModel(c);
        if (resumeState is null)
        {
            runDir = RunFolder.Create(c.Project);
            AtomicFile.WriteAllText(Path.Combine(runDir, "args.yaml"), c.ToYaml());
        }
        else runDir = resumeFolder!;
        // no other process may train in the folder while this one does (a second --resume of it is refused)
        using var held = RunFolderLock.Hold(runDir, "ember forecast train --resume");
        var trainSet = data.Split.TrainWindows(data.Normalized, c.Lookback, c.Horizon, c.Stride);
        var trainLoader = new DataLoader<(Tensor, Tensor)>(trainSet, c.BatchSize, shuffle: true, seed: c.Seed);
        var valSet = c.Val > 0 ? data.Split.ValidationWindows(data.Normalized, c.Lookback, c.Horizon) : null;
        var valLoader = valSet is null ? null : new DataLoader<(Tensor, Tensor)>(valSet, ValidationBatch);
        RequireStepFits(c, model, trainSet, valSet?.Count ?? 0);
        var optimizer = new AdamW(model.Parameters(), new AdamWOptions { LearningRate = c.Lr, WeightDecay = c.WeightDecay });
        var options = new TrainerOptions { Epochs = c.Epochs, ClipGradNorm = c.ClipGrad > 0 ? c.ClipGrad : null };
        var trainer = new Trainer(model, optimizer, (output, target) => F.MseLoss(output, target), options);
        var reporter = new ProgressReporter(c.Plain, plainOutput);
        var checkpoints = new ModelCheckpoint(runDir, optimizer, monitor: "val_loss", metadata: () => new Dictionary<string, string>
        {
            ["model"] = $"forecast-{c.Cell}", ["scaler_mean"] = data.Scaler.Mean.ToString("R", CultureInfo.InvariantCulture),
            ["scaler_std"] = data.Scaler.Std.ToString("R", CultureInfo.InvariantCulture),
        });
        trainer.Add(reporter, new CsvLogger(Path.Combine(runDir, "metrics.csv")), checkpoints);
        if (TestCallback.Value is { } testCallback) trainer.Add(testCallback);

        int startEpoch = 1, skip = 0, batchesPerEpoch = trainLoader.Count;
        if (resumeState is not null)
        {
            var last = Path.Combine(runDir, "last");
            var loaded = Checkpoint.Load(last, model, optimizer, allowNonFinite: allowNonFinite);
            loaded.CheckRange(Path.Combine(last, Checkpoint.JsonFile), c.Epochs, batchesPerEpoch, 1);
            if (loaded.Generators.TryGetValue("default", out var g))
            {
                try { Generator.Default.SetState(g); }
                catch (ArgumentException e) { throw new CheckpointException(Path.Combine(last, Checkpoint.JsonFile), $": {e.Message}"); }
            }
            trainer.Restore(loaded);
            startEpoch = loaded.EpochComplete ? loaded.Epoch + 1 : loaded.Epoch;
            skip = loaded.EpochComplete ? 0 : loaded.BatchesDone;
            log.WriteLine($"resuming {runDir} at epoch {startEpoch}" + (skip > 0 ? $", batch {skip}" : ""));
            // only now, with last/ loaded: a refused checkpoint leaves the run folder as it was; a finished and reported
            // run is left as it is (its folder may be read-only: ForResume let it through for this)
            if (resumeChanges && !(startEpoch > c.Epochs && Reported(runDir))) AtomicFile.WriteAllText(Path.Combine(runDir, "args.yaml"), c.ToYaml());
            if (startEpoch > c.Epochs)
            {
                // A run whose closing report failed (a full disk) has trained to the end: --resume writes the report.
                if (Reported(runDir))
                {
                    log.WriteLine($"{runDir} already finished its {c.Epochs} epochs");
                    return (runDir, 0);
                }
                log.WriteLine($"{runDir} finished its {c.Epochs} epochs without its test scores; writing them");
                // a disk still full says so as the run's own closing part does
                TrainingMemory.AfterLoop(() =>
                {
                    LoadWeights(runDir, model, data.Scaler, allowNonFinite);
                    Report(runDir, c, data, Evaluate(model, data, c), log, null);
                }, runDir, $"ember forecast train --resume {runDir}", c.Epochs, ClosingOutputs);
                return (runDir, 0);
            }
        }
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ember forecast: {c.Cell} {c.Hidden}×{c.Layers} ({model.ParameterCount():N0} parameters) on {c.Data} ({data.Csv.Values.Length} steps: " +
            $"{data.Split.TrainEnd} train, {c.Val} val, {c.Test} test), lookback {c.Lookback}, horizon {c.Horizon}, {trainSet.Count} training windows, {c.Epochs} epochs → {runDir}"));
        PosixSignal? interruptedBy;
        using (var signals = new SignalStop(trainer.State, $"ember forecast train --resume {runDir}"))
        {
            reporter.Run(() => TrainingMemory.Run(() => trainer.Fit(epoch => trainLoader.Iterate(epoch - 1).Select(b => (b[0], b[1])),
                valLoader is null ? null : _ => valLoader.Iterate(0).Select(b => (b[0], b[1])), startEpoch, batchesPerEpoch, skip),
                runDir, $"ember forecast train --resume {runDir}"));
            interruptedBy = signals.Signal;
        }
        TrainingMemory.AfterLoop(() => { if (trainer.State.History.Count > 0) Plots.Results(trainer.State.History, Path.Combine(runDir, "results.png")); },
            runDir, $"ember forecast train --resume {runDir}", c.Epochs, ClosingOutputs);
        if (interruptedBy is not null)
        {
            log.WriteLine($"stopped: {trainer.State.StopReason}");
            return (runDir, interruptedBy == PosixSignal.SIGTERM ? 143 : 130);
        }

        TrainingMemory.Close(() =>
        {
            LoadWeights(runDir, model, data.Scaler, allowNonFinite);
            Report(runDir, c, data, Evaluate(model, data, c), log, clock.Elapsed);
        }, runDir, $"ember forecast train --resume {runDir}", c.Epochs, ClosingOutputs);
        reporter.Summary(trainer.State, runDir);
        return (runDir, 0);
    }

    // What a forecast run writes after its loop, as its messages name it.
    const string ClosingOutputs = "the test scores, forecast.png and summary.md";

    // A run that trained to the end has these; one whose closing report failed (a full disk) lacks them.
    static bool Reported(string runDir) => File.Exists(Path.Combine(runDir, "test_metrics.csv")) && File.Exists(Path.Combine(runDir, "summary.md"));

    /// <summary>
    /// Loads best/ (or last/ when the run had no validation part) and checks the run's scaler against the data's; weights
    /// holding NaN or ±Inf are refused unless <paramref name="allowNonFinite"/> is set (their forecast is NaN).
    /// </summary>
    public static string LoadWeights(string runDir, RecurrentForecaster model, StandardScaler scaler, bool allowNonFinite = false)
    {
        var folder = Path.Combine(runDir, "best");
        if (!Directory.Exists(folder)) folder = Path.Combine(runDir, "last");
        var state = Checkpoint.LoadForInference(folder, model);
        if (!allowNonFinite) Checkpoint.RequireFinite(model.StateDict(), Path.Combine(folder, state.EmaUpdates is not null ? Checkpoint.EmaFile : Checkpoint.ModelFile));
        if (state.Metadata.TryGetValue("scaler_mean", out var mean) && state.Metadata.TryGetValue("scaler_std", out var std)
            && (double.Parse(mean, CultureInfo.InvariantCulture) != scaler.Mean || double.Parse(std, CultureInfo.InvariantCulture) != scaler.Std))
            throw new ConfigException($"{folder}: the run was trained with the series normalized by mean {mean}, std {std}, but its data file now gives " +
                $"mean {scaler.Mean.ToString("R", CultureInfo.InvariantCulture)}, std {scaler.Std.ToString("R", CultureInfo.InvariantCulture)}: the data changed since training");
        return folder;
    }

    /// <summary>Scores the model and the baselines on every test window (stride 1), in the series' units.</summary>
    public static Scores Evaluate(RecurrentForecaster model, Prepared data, ForecastConfig c)
    {
        model.Eval();
        var insample = data.Raw.Narrow(0, 0, data.Split.TrainEnd).Squeeze(1);
        (Tensor Model, Tensor Naive, Tensor Seasonal, Tensor Target) Forecast(int stride)
        {
            var normalized = data.Split.TestWindows(data.Normalized, c.Lookback, c.Horizon, stride);
            var raw = data.Split.TestWindows(data.Raw, c.Lookback, c.Horizon, stride);
            var inputs = new List<Tensor>(); var rawInputs = new List<Tensor>(); var targets = new List<Tensor>();
            for (int i = 0; i < normalized.Count; i++)
            {
                inputs.Add(normalized[i].Input);
                rawInputs.Add(raw[i].Input.Squeeze(1));
                targets.Add(raw[i].Target.Squeeze(1));
            }
            Tensor output;
            using (Torch.NoGrad()) output = model.Call(Torch.Stack([.. inputs], 0)).Squeeze(2);
            var x = Torch.Stack([.. rawInputs], 0);
            return (data.Scaler.Inverse(output), NaiveForecast.Naive(x, c.Horizon), NaiveForecast.SeasonalNaive(x, c.Horizon, c.Season), Torch.Stack([.. targets], 0));
        }
        var all = Forecast(1);
        var plot = Forecast(c.Horizon); // non-overlapping origins: one continuous forecast line over the test period
        return new Scores(ForecastErrors.Of(all.Model, all.Target, insample, c.Season), ForecastErrors.Of(all.Naive, all.Target, insample, c.Season),
            ForecastErrors.Of(all.Seasonal, all.Target, insample, c.Season), all.Target.Size(0),
            plot.Target.ToDoubleArray(), plot.Model.ToDoubleArray(), plot.Naive.ToDoubleArray(), plot.Seasonal.ToDoubleArray(), data.Split.ValidationEnd);
    }

    /// <summary>Prints the score table and writes test_metrics.csv, forecast.png and summary.md into the run folder.</summary>
    public static void Report(string runDir, ForecastConfig c, Prepared data, Scores s, TextWriter output, TimeSpan? wall = null)
    {
        var rows = new[] { ("model", s.Model), ("naive", s.Naive), ("seasonal_naive", s.SeasonalNaive) };
        var csv = new StringBuilder("method,mape,smape,mase\n");
        foreach (var (name, e) in rows) csv.Append(string.Create(CultureInfo.InvariantCulture, $"{name},{e.Mape:G9},{e.Smape:G9},{e.Mase:G9}\n"));
        AtomicFile.WriteAllText(Path.Combine(runDir, "test_metrics.csv"), csv.ToString());
        var table = new StringBuilder();
        table.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"test period {data.Csv.Times[data.Split.ValidationEnd]} – {data.Csv.Times[^1]} ({c.Test} steps, {s.Windows} windows of horizon {c.Horizon}; MASE scaled by the in-sample seasonal-naive error, m = {c.Season}):"));
        table.AppendLine("| method | MAPE % | sMAPE | MASE |").AppendLine("|---|---:|---:|---:|");
        foreach (var (name, e) in rows) table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {(name == "model" ? c.Cell : name)} | {100 * e.Mape:F3} | {e.Smape:F3} | {e.Mase:F3} |"));
        output.Write(table.ToString());
        ForecastPlot.Save(data.Csv, s, c, Path.Combine(runDir, "forecast.png"));
        var summary = new StringBuilder($"# ember forecast: {c.Cell} on {c.Data}\n\n");
        summary.Append(table).AppendLine();
        if (wall is TimeSpan w) summary.AppendLine(string.Create(CultureInfo.InvariantCulture, $"wall time {w.TotalSeconds:F0} s ({Torch.NumThreads} threads)\n"));
        summary.AppendLine("## Config").AppendLine().AppendLine("```yaml").Append(c.ToYaml()).AppendLine("```");
        AtomicFile.WriteAllText(Path.Combine(runDir, "summary.md"), summary.ToString());
        output.WriteLine($"wrote {Path.Combine(runDir, "test_metrics.csv")} and {Path.Combine(runDir, "forecast.png")}");
    }

    /// <summary>Forecasts the <see cref="ForecastConfig.Horizon"/> steps after the end of <paramref name="data"/>'s series (all of it is input: known values).</summary>
    public static (string[] Times, double[] Values) PredictNext(RecurrentForecaster model, Prepared data, ForecastConfig c)
    {
        model.Eval();
        int t = data.Normalized.Size(0);
        if (t < c.Lookback) throw new ConfigException($"{data.Csv.Path}: the series has {t} steps, fewer than the lookback {c.Lookback} the model reads");
        Tensor output;
        using (Torch.NoGrad()) output = model.Call(data.Normalized.Narrow(0, t - c.Lookback, c.Lookback).Unsqueeze(0));
        return (data.Csv.NextTimes(c.Horizon), data.Scaler.Inverse(output.Reshape(c.Horizon)).ToDoubleArray());
    }
}
