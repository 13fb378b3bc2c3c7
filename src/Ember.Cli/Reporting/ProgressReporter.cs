using System.Diagnostics;
using System.Globalization;
using Ember.Training;
using Spectre.Console;

namespace Ember.Cli.Reporting;

/// <summary>
/// Shows training progress: live bars (one per epoch, with loss, accuracy, lr, images/s and ETA) when the output is a
/// terminal, plain lines otherwise (CI, pipes, --plain): a line at each quarter of an epoch and at least every
/// <see cref="PlainInterval"/>, with images/s and the ETA. Runs the fit inside <see cref="Run"/>, and leaves the last
/// finite loss on a <see cref="TrainingDivergedException"/> for the error message.
/// </summary>
public sealed class ProgressReporter : Callback
{
    readonly bool plain;
    readonly TextWriter output;
    ProgressContext? context;
    ProgressTask? task;
    readonly Func<TimeSpan> clock;
    TimeSpan epochStart, lastPlainLine;
    int lastPlainQuarter;
    double lastFiniteLoss = double.NaN;
    string lastFiniteAt = "";

    /// <summary>The longest a plain-mode run goes without a progress line.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);

    /// <summary>Plain mode when asked, or when standard output is redirected.</summary>
    public ProgressReporter(bool plain, TextWriter? output = null) : this(plain, output, null) { }

    /// <summary>As above, with a clock to read (tests pass a fake one).</summary>
    internal ProgressReporter(bool plain, TextWriter? output, Func<TimeSpan>? clock)
    {
        this.plain = plain || Console.IsOutputRedirected || output is not null;
        this.output = output ?? Console.Out;
        if (clock is null)
        {
            var watch = Stopwatch.StartNew();
            clock = () => watch.Elapsed;
        }
        this.clock = clock;
    }

    /// <summary>True when printing plain lines.</summary>
    public bool Plain => plain;

    /// <summary>Runs <paramref name="fit"/> with live bars around it (or directly in plain mode).</summary>
    public void Run(Action fit)
    {
        try { RunInside(fit); }
        catch (TrainingDivergedException e) when (double.IsFinite(lastFiniteLoss))
        {
            e.Data[Commands.CliErrors.LastFiniteLossKey] = lastFiniteLoss;
            e.Data[Commands.CliErrors.LastFiniteAtKey] = lastFiniteAt;
            throw;
        }
    }

    void RunInside(Action fit)
    {
        if (plain) { fit(); return; }
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = BarWidth(AnsiConsole.Profile.Width) },
                new PercentageColumn(), new RemainingTimeColumn(), new ElapsedTimeColumn())
            .Start(ctx => { context = ctx; fit(); });
    }

    /// <inheritdoc/>
    public override void OnEpochStart(TrainerState state)
    {
        epochStart = lastPlainLine = clock();
        lastPlainQuarter = 0;
        if (context is not null)
            task = context.AddTask($"epoch {state.Epoch}/{state.Epochs}", maxValue: state.BatchesPerEpoch ?? 1);
    }

    /// <inheritdoc/>
    public override void OnBatchEnd(TrainerState state)
    {
        if (double.IsFinite(state.BatchLoss)) { lastFiniteLoss = state.BatchLoss; lastFiniteAt = $"epoch {state.Epoch}, batch {state.BatchIndex}"; }
        var now = clock();
        double seconds = Math.Max((now - epochStart).TotalSeconds, 1e-9);
        string stats = string.Create(CultureInfo.InvariantCulture,
            $"loss {state.EpochLoss:F4}  {(double.IsNaN(state.EpochAccuracy) ? "" : $"acc {100 * state.EpochAccuracy:F2}%  ")}lr {state.Lr:0.####e+0}  {state.EpochSamples / seconds:F0} {(double.IsNaN(state.EpochAccuracy) ? "samples" : "img")}/s");
        if (task is not null)
        {
            task.Description = $"epoch {state.Epoch}/{state.Epochs}  {Markup.Escape(stats)}";
            task.Value = state.BatchIndex + 1;
            return;
        }
        if (plain && state.BatchesPerEpoch is int total && total > 0)
        {
            // a line at each quarter of the epoch, and at least every PlainInterval in between (CI logs must show life)
            int done = state.BatchIndex + 1;
            int quarter = done * 4 / total;
            if (quarter > lastPlainQuarter || now - lastPlainLine >= PlainInterval)
            {
                lastPlainQuarter = Math.Max(quarter, lastPlainQuarter);
                lastPlainLine = now;
                double perBatch = seconds / done; // this epoch's pace, validation not counted
                var epochLeft = TimeSpan.FromSeconds(perBatch * (total - done));
                var runLeft = TimeSpan.FromSeconds(perBatch * ((long)(state.Epochs - state.Epoch) * total + total - done));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {state.Epoch}/{state.Epochs} {100.0 * done / total,5:F1}%  {stats}  ETA epoch {Clock(epochLeft)}, run {Clock(runLeft)}"));
            }
        }
    }

    /// <summary>The bar's width in a terminal <paramref name="columns"/> wide: what the description (about 58 columns),
    /// percentage and the two clocks leave, between 8 and 60.</summary>
    internal static int BarWidth(int columns) => Math.Clamp(columns - 84, 8, 60);

    static string Clock(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}" : $"{t.Minutes}:{t.Seconds:D2}";

    /// <inheritdoc/>
    public override void OnEpochEnd(TrainerState state)
    {
        var row = state.History[^1];
        // a regression run (a forecaster) has no accuracies: its line shows the losses only
        string line = double.IsNaN(row.TrainAccuracy) && double.IsNaN(row.Top1)
            ? string.Create(CultureInfo.InvariantCulture,
                $"epoch {row.Epoch}/{state.Epochs}: train loss {row.TrainLoss:F4}, val loss {row.ValLoss:F4}, lr {row.Lr:0.####e+0}, {row.Seconds:F1} s")
            : string.Create(CultureInfo.InvariantCulture,
                $"epoch {row.Epoch}/{state.Epochs}: train loss {row.TrainLoss:F4}, train acc {100 * row.TrainAccuracy:F2}%, val loss {row.ValLoss:F4}, top-1 {100 * row.Top1:F2}%, top-5 {100 * row.Top5:F2}%, lr {row.Lr:0.####e+0}, {row.Seconds:F1} s");
        if (task is not null)
        {
            task.Value = task.MaxValue;
            task.Description = double.IsNaN(row.Top1) ? string.Create(CultureInfo.InvariantCulture, $"epoch {state.Epoch}/{state.Epochs}  val loss {row.ValLoss:F4}")
                : $"epoch {state.Epoch}/{state.Epochs}  val top-1 {100 * row.Top1:F2}%  loss {row.ValLoss:F4}";
            task.StopTask();
        }
        else output.WriteLine(line);
    }

    /// <summary>The end-of-run summary table.</summary>
    public void Summary(TrainerState state, string runFolder)
    {
        if (plain)
        {
            var best = state.History.Count == 0 ? "no epoch completed"
                : state.History.All(r => double.IsNaN(r.Top1)) ? string.Create(CultureInfo.InvariantCulture, $"best val loss {state.History.Min(r => r.ValLoss):F4}")
                : string.Create(CultureInfo.InvariantCulture, $"best top-1 {100 * state.History.Max(r => r.Top1):F2}%");
            output.WriteLine($"done: {state.History.Count} epoch{(state.History.Count == 1 ? "" : "s")}, {best}; results in {runFolder}");
            if (state.StopReason is string reason) output.WriteLine($"stopped early: {reason}");
            return;
        }
        var table = new Table().Title($"[bold]{Markup.Escape(runFolder)}[/]");
        foreach (var column in new[] { "epoch", "train loss", "train acc", "val loss", "top-1", "top-5", "lr", "time" }) table.AddColumn(column);
        foreach (var r in state.History)
            table.AddRow(r.Epoch.ToString(CultureInfo.InvariantCulture), F(r.TrainLoss, "F4"), P(r.TrainAccuracy), F(r.ValLoss, "F4"), P(r.Top1), P(r.Top5),
                F(r.Lr, "0.###e+0"), F(r.Seconds, "F1") + " s");
        AnsiConsole.Write(table);
        if (state.StopReason is string why) AnsiConsole.MarkupLine($"[yellow]stopped early:[/] {Markup.Escape(why)}");
    }

    static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
    static string P(double v) => double.IsNaN(v) ? "-" : (100 * v).ToString("F2", CultureInfo.InvariantCulture) + "%";
}
