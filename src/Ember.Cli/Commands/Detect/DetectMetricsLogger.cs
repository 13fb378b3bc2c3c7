using System.Globalization;
using Ember.Interop;
using Ember.Training;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// The detection run's per-epoch bookkeeping on the Trainer's events: the training loss parts (mean over the epoch's
/// batches, as YOLOv5's mloss), each validation batch through a <see cref="DetectionEvaluator"/>, the metrics put into
/// <see cref="TrainerState.ValidationMetrics"/> (precision, recall, map50, map50_95, fitness; a ModelCheckpoint
/// monitoring "fitness" keeps best/ by YOLOv5's fitness 0.1·mAP@0.5 + 0.9·mAP@0.5:0.95), one <see cref="DetectEpoch"/>
/// row per epoch written to metrics.csv and printed. The rows and the open epoch's loss sums are part of the checkpoint
/// (<see cref="StateDict"/>), so a resumed run's metrics.csv continues the interrupted one's, the stopped epoch's row included.
/// </summary>
public sealed class DetectMetricsLogger : Callback
{
    readonly DetectLoss loss;
    readonly DetectionEvaluator evaluator;
    readonly string? csvPath;
    readonly TextWriter? output;
    readonly List<DetectEpoch> rows = [];
    double box, obj, cls;
    int batches;
    DetectEvaluation? latest;

    /// <summary>Logs the parts of <paramref name="loss"/> and the metrics of a <paramref name="numClasses"/>-class detector; writes <paramref name="csvPath"/> when given and prints to <paramref name="output"/> when given.</summary>
    public DetectMetricsLogger(DetectLoss loss, int numClasses, string? csvPath, TextWriter? output)
    {
        this.loss = loss;
        evaluator = new DetectionEvaluator(numClasses);
        this.csvPath = csvPath;
        this.output = output;
    }

    /// <summary>The rows of the finished epochs.</summary>
    public IReadOnlyList<DetectEpoch> Rows => rows;

    /// <summary>The latest validation pass.</summary>
    public DetectEvaluation? Latest => latest;

    /// <inheritdoc/>
    public override void OnBatchEnd(TrainerState state)
    {
        if (loss.Last is not { } parts) return;
        box += parts.Box; obj += parts.Objectness; cls += parts.Class;
        batches++;
    }

    /// <inheritdoc/>
    public override void OnValidationBatch(TrainerState state, Tensor input, Tensor output, Tensor target)
        => evaluator.Update(input, output, target, loss.Last);

    /// <inheritdoc/>
    public override void OnValidationEnd(TrainerState state)
    {
        latest = evaluator.Result();
        evaluator.Reset();
        var m = latest.Scores; // NaN without labels: never a fitness of 0 that ranks the epochs
        state.ValidationMetrics["precision"] = m.Precision;
        state.ValidationMetrics["recall"] = m.Recall;
        state.ValidationMetrics["map50"] = m.Map50;
        state.ValidationMetrics["map50_95"] = m.Map50To95;
        state.ValidationMetrics["fitness"] = m.Fitness;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(TrainerState state)
    {
        var h = state.History[^1];
        double k = Math.Max(batches, 1);
        var m = latest?.Scores ?? (double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        var row = new DetectEpoch(state.Epoch, box / k, obj / k, cls / k, m.Precision, m.Recall, m.Map50, m.Map50To95, m.Fitness,
            latest?.Box ?? double.NaN, latest?.Objectness ?? double.NaN, latest?.Class ?? double.NaN, h.Lr, h.Seconds);
        rows.Add(row);
        // the sums restart here, not at the epoch's start: a run resumed mid-epoch continues the sums its checkpoint saved
        box = obj = cls = 0;
        batches = 0;
        if (csvPath is not null) AtomicFile.WriteAllText(csvPath, DetectEpoch.CsvHeader + "\n" + string.Join("\n", rows.Select(r => r.ToCsv())) + "\n");
        var scores = latest is { HasLabels: false } ? string.Create(CultureInfo.InvariantCulture, $"val: no labels, no P, R or mAP (val loss obj {row.ValObj:F4})")
            : string.Create(CultureInfo.InvariantCulture, $"val P {row.Precision:F3} R {row.Recall:F3} mAP@0.5 {row.Map50:F3} mAP@0.5:0.95 {row.Map50To95:F3}");
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {row.Epoch}/{state.Epochs}: loss box {row.TrainBox:F4} obj {row.TrainObj:F4} cls {row.TrainCls:F4} | {scores}"));
    }

    /// <inheritdoc/>
    public override Dictionary<string, double>? StateDict()
    {
        var state = new Dictionary<string, double> { ["rows"] = rows.Count, ["open.box"] = box, ["open.obj"] = obj, ["open.cls"] = cls, ["open.batches"] = batches };
        foreach (var r in rows)
        {
            var v = r.Values;
            for (int c = 0; c < v.Length; c++) state[$"{r.Epoch}.{DetectEpoch.Columns[c]}"] = v[c];
        }
        return state;
    }

    /// <inheritdoc/>
    public override void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        if (!state.TryGetValue("rows", out var count) || !(count >= 0 && count <= 1_000_000 && count == Math.Floor(count)))
            throw new ArgumentException("DetectMetricsLogger.LoadStateDict: expected a whole 'rows' count");
        var restored = new List<DetectEpoch>();
        for (int e = 1; e <= (int)count; e++)
        {
            var v = new double[DetectEpoch.Columns.Length];
            for (int c = 0; c < v.Length; c++)
                if (!state.TryGetValue($"{e}.{DetectEpoch.Columns[c]}", out v[c]))
                    throw new KeyNotFoundException($"DetectMetricsLogger.LoadStateDict: epoch {e} has no '{DetectEpoch.Columns[c]}'");
            restored.Add(DetectEpoch.FromValues(e, v));
        }
        if (!state.TryGetValue("open.box", out var b) || !state.TryGetValue("open.obj", out var o) || !state.TryGetValue("open.cls", out var c2)
            || !state.TryGetValue("open.batches", out var n) || !(n >= 0 && n <= int.MaxValue && n == Math.Floor(n)))
            throw new KeyNotFoundException("DetectMetricsLogger.LoadStateDict: expected the open epoch's loss sums 'open.box', 'open.obj', 'open.cls' and a whole 'open.batches'");
        rows.Clear();
        rows.AddRange(restored);
        (box, obj, cls, batches) = (b, o, c2, (int)n);
    }
}
