using System.Diagnostics;
using Ember.Cli.Configuration;
using Ember.Training;

namespace Ember.Cli.Commands;

/// <summary>
/// One training run of a study (an `ember evolve` trial or an `ember ablate` run): a <see cref="TrainJob"/> in its own
/// folder, optionally stopped by a time budget, reduced to the metrics a study can use.
/// </summary>
public static class StudyTrial
{
    /// <summary>
    /// The metrics a trial reports: test top-1 and top-5 accuracy, plain cross-entropy (val_loss) and macro-averaged F1 of the final weights,
    /// the epochs completed, and the wall time in seconds.
    /// </summary>
    public static readonly IReadOnlyList<string> MetricNames = ["top1", "top5", "val_loss", "macro_f1", "epochs", "time_s"];

    /// <summary>Throws a <see cref="ConfigException"/> for a metric name no trial reports, naming the closest one.</summary>
    public static void CheckMetric(string name, string source)
    {
        if (MetricNames.Contains(name)) return;
        var closest = MetricNames.MinBy(m => ConfigLoader.Distance(m, name));
        throw new ConfigException($"{source}: unknown metric '{name}'; did you mean '{closest}'? Metrics: {string.Join(", ", MetricNames)}");
    }

    /// <summary>A trial stopped by Ctrl-C or SIGTERM; <see cref="ExitCode"/> is the study's exit code (130 or 143).</summary>
    public sealed class Interrupted(string message, int exitCode) : OperationCanceledException(message)
    {
        /// <summary>130 after Ctrl-C, 143 after SIGTERM.</summary>
        public int ExitCode { get; } = exitCode;
    }

    /// <summary>
    /// What a stopped study keeps and how its `--resume` goes on, in words for the user: <see cref="Kept"/> ("RUNS/evolve.csv
    /// records 1 trial, whole; generation 1 is not recorded"), <see cref="GoesOn"/> (the command and what it does: "`ember
    /// evolve --resume STUDY` trains generation 1 again from scratch …"), <see cref="Defines"/> (where a smaller batch or
    /// model would have to come from: a new study).
    /// </summary>
    public sealed record Progress(string Kept, string GoesOn, string Defines);

    /// <summary>
    /// Runs a study's trials (<paramref name="study"/>, returning its exit code). A full disk or memory running out, in a
    /// trial or in the study's own files, ends the study: the message says what the study folder keeps and that the
    /// study's `--resume` goes on (<paramref name="progress"/>, asked then), not a trial's `ember train --resume TRIAL` or the
    /// advice to write elsewhere, which a trial's own words would give. A trial the study did not record trains again
    /// from scratch on resume (<see cref="Run"/>), so what the trial's last/ keeps is no help to the user.
    /// </summary>
    public static int Guard(Func<int> study, Func<Progress> progress)
    {
        try { return study(); }
        catch (IOException e) when (CliErrors.IsDiskFull(e))
        {
            var p = progress();
            // a training command's words for it (RunDiskFullException) name the trial's resume: keep the file system's only
            var failure = e is RunDiskFullException { InnerException: IOException inner } ? inner : e;
            throw new RunDiskFullException(failure, $"{p.Kept}: free some space, then {p.GoesOn}");
        }
        catch (OutOfMemoryException e)
        {
            var p = progress();
            // the trial's words (TrainingMemory) wrap the failure with its own resume command: the first one is what to show
            var first = e;
            while (first.InnerException is OutOfMemoryException inner) first = inner;
            CliErrors.MemoryHint = $"{p.Kept}: {p.GoesOn} when more memory is free; {p.Defines}";
            throw new OutOfMemoryException(CliErrors.OutOfMemory(first), e);
        }
    }

    /// <summary>
    /// Trains <paramref name="config"/> into <paramref name="folder"/>/exp1 (exp2, … if that exists), stopping after
    /// <paramref name="budget"/> if given, and returns the run folder and metrics in <see cref="MetricNames"/> order.
    /// A run interrupted with Ctrl-C or SIGTERM throws <see cref="Interrupted"/>. A run whose loss diverged scores NaN
    /// (evolution never picks it as a parent) instead of ending the study: a search space may well reach such settings.
    /// A study starts a trial only when none is recorded for it, so a <paramref name="folder"/> already there is what a
    /// stopped study left of the cut trial (a kill -9 leaves it half-written): it is removed and the trial trains from
    /// scratch into folder/exp1, as the uninterrupted study's did.
    /// </summary>
    /// <param name="signalled">The study's Ctrl-C or SIGTERM, if one came (<see cref="SignalCancel.Received"/>): a trial
    /// being set up when it came stops as a trial that saw it (<see cref="Interrupted"/>).</param>
    public static (string RunFolder, Dictionary<string, double> Metrics) Run(TrainConfig config, string folder, TimeSpan? budget, TextWriter? output,
        Func<System.Runtime.InteropServices.PosixSignal?>? signalled = null)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
            Console.WriteLine($"removed {folder}, the unfinished run of this trial (the study was stopped there); it trains again from scratch");
        }
        TrainOutcome? outcome = null;
        var clock = Stopwatch.StartNew();
        int code;
        try { code = TrainJob.Run(config with { Project = folder }, null, output, finished: o => outcome = o, budget: budget, signalled: signalled); }
        catch (TrainingDivergedException e)
        {
            Console.WriteLine($"diverged, scored NaN: {e.Message}");
            var nan = MetricNames.ToDictionary(m => m, _ => double.NaN, StringComparer.Ordinal);
            nan["time_s"] = Math.Round(clock.Elapsed.TotalSeconds, 2);
            return (Directory.GetDirectories(folder).OrderBy(Directory.GetCreationTimeUtc).LastOrDefault() ?? folder, nan);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        // 130 after Ctrl-C, 143 after SIGTERM: either ends the study, never scored as a finished trial
        if (code is 130 or 143 || outcome is null) throw new Interrupted($"the run in {folder} was interrupted", code is 143 ? 143 : 130);
        return (outcome.RunFolder, new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["top1"] = outcome.Top1,
            ["top5"] = outcome.Top5,
            ["val_loss"] = outcome.ValLoss,
            ["macro_f1"] = outcome.MacroF1,
            ["epochs"] = outcome.EpochsCompleted,
            ["time_s"] = Math.Round(seconds, 2),
        });
    }
}
