using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Ember.Cli.Configuration;
using Ember.Interop;
using Ember.Training;

namespace Ember.Cli.Commands;

/// <summary>
/// The one place where a failure becomes what the user sees: a short "ember: …" message on stderr that says what was
/// wrong, where and what to do, and a distinct exit code (<see cref="ExitCodes"/>). Commands throw typed exceptions
/// and never print errors themselves; the stack trace is shown only with --verbose.
/// </summary>
public static class CliErrors
{
    static readonly AsyncLocal<bool> verbose = new();
    static readonly AsyncLocal<TextWriter?> error = new();
    static readonly AsyncLocal<string?> memoryHint = new();

    /// <summary>The key under which a progress reporter leaves the last finite loss on a <see cref="TrainingDivergedException"/>.</summary>
    public const string LastFiniteLossKey = "ember.last_finite_loss";
    /// <summary>The key under which where that loss was seen ("epoch 1, batch 0") is left.</summary>
    public const string LastFiniteAtKey = "ember.last_finite_at";

    /// <summary>Print stack traces (the --verbose option), for this invocation's flow.</summary>
    public static bool Verbose { get => verbose.Value; set => verbose.Value = value; }

    /// <summary>Where messages go (default: standard error), for this invocation's flow.</summary>
    public static TextWriter Error { get => error.Value ?? Console.Error; set => error.Value = value; }

    /// <summary>
    /// What the running command's user can lower when memory runs out, in its own options and values ("lower --hidden
    /// (100000) or --length (100)"); set by the command once its options are read; null: <see cref="DefaultMemoryHint"/>.
    /// </summary>
    public static string? MemoryHint { get => memoryHint.Value; set => memoryHint.Value = value; }

    /// <summary>The advice for memory running out in a command that set no <see cref="MemoryHint"/>.</summary>
    public const string DefaultMemoryHint = "use a smaller --batch-size or model, or fewer --workers";

    /// <summary>Runs <paramref name="action"/>; a failure is reported and becomes its exit code.</summary>
    public static int Run(Func<int> action)
    {
        Reporting.RunFolder.Made = null;
        try { return action(); }
        catch (Exception e)
        {
            // memory ran out (or a tensor would not fit) before the run's first step: the folder made for it holds nothing to keep
            var removed = Describe(e).Code == ExitCodes.OutOfMemory ? Reporting.RunFolder.RemoveUnused() : null;
            return Report(e, removed is null ? null : $"; {removed}, made for this run, was removed (nothing had been trained in it)");
        }
    }

    /// <summary>
    /// Prints "ember: warning: <paramref name="message"/>" where errors go: something the user should know that does
    /// not stop the command (results it cannot give, and why).
    /// </summary>
    public static void Warn(string message)
    {
        Error.WriteLine($"ember: warning: {message}");
        Error.Flush();
    }

    /// <summary>
    /// Prints the message for <paramref name="exception"/> (with <paramref name="note"/> after it, and its trace with
    /// --verbose) and returns the exit code.
    /// </summary>
    public static int Report(Exception exception, string? note = null)
    {
        var (code, message) = Describe(exception);
        var output = Error;
        output.WriteLine($"ember: {message}{note}");
        if (Verbose) output.WriteLine(exception.ToString());
        else if (code == ExitCodes.Internal) output.WriteLine("ember: this looks like a bug in Ember; run again with --verbose for the stack trace and report it");
        output.Flush();
        return code;
    }

    /// <summary>The exit code and message for an exception (no stack trace).</summary>
    public static (int Code, string Message) Describe(Exception exception)
    {
        var e = Unwrap(exception);
        return e switch
        {
            CommandInterrupted i => (i.ExitCode, i.Message),
            ConfigException => (ExitCodes.Usage, e.Message),
            YamlDotNet.Core.YamlException y => (ExitCodes.Usage, $"invalid YAML at line {y.Start.Line}, column {y.Start.Column}: {FirstLine(y.Message)}"),
            TrainingDivergedException d => (ExitCodes.Diverged, Diverged(d)),
            OutOfMemoryException or InsufficientExecutionStackException =>
                (ExitCodes.OutOfMemory, $"out of memory ({OutOfMemory(e)}); {MemoryHint ?? DefaultMemoryHint}"),
            // an option so large that one tensor would exceed what an array can hold: the same limit, met before allocating
            ArgumentException a when TensorTooLarge.Any(words => a.Message.Contains(words, StringComparison.Ordinal)) =>
                (ExitCodes.OutOfMemory, $"too large for memory ({FirstLine(a.Message)}); {MemoryHint ?? DefaultMemoryHint}"),
            _ when IsCheckpoint(e) => (ExitCodes.Checkpoint, Checkpoint(e)),
            FileNotFoundException or DirectoryNotFoundException => (ExitCodes.Data, e.Message),
            InvalidDataException or FormatException => (ExitCodes.Data, e.Message),
            UnauthorizedAccessException => (ExitCodes.FileSystem, $"{Strip(RealNames(e.Message))}: permission denied or read-only; choose a folder you can write to (e.g. --project runs/train)"),
            PathTooLongException => (ExitCodes.FileSystem, e.Message),
            // in a run folder whose checkpoints are whole: what is safe and how the run goes on, not the advice to start elsewhere
            RunDiskFullException r => (ExitCodes.FileSystem, $"the disk is full ({RealNames(r.Failure)}); {r.Advice}"),
            IOException io when IsDiskFull(io) => (ExitCodes.FileSystem, $"the disk is full ({RealNames(FirstLine(io.Message))}); free some space or write elsewhere with --project/--output; existing runs were not changed"),
            IOException io => (ExitCodes.FileSystem, FileSystem(io)),
            ArgumentException a => (ExitCodes.Usage, FirstLine(a.ParamName is string p ? a.Message.Replace($" (Parameter '{p}')", "") : a.Message)),
            NotSupportedException => (ExitCodes.Usage, FirstLine(e.Message)),
            _ => (ExitCodes.Internal, $"unexpected error: {e.GetType().Name}: {FirstLine(e.Message)}"),
        };
    }

    /// <summary>
    /// What an <see cref="OutOfMemoryException"/> says, in one line. The runtime's own words say nothing ("Exception of type
    /// 'System.OutOfMemoryException' was thrown." at a GC heap limit, "Insufficient memory to continue the execution of
    /// the program."): the memory this process may use is what to weigh the options against.
    /// </summary>
    internal static string OutOfMemory(Exception e) => GenericOutOfMemory.Contains(e.Message)
        ? $"more memory was needed than this process could get, of the {TrainingMemory.Size(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)} it may use"
        : FirstLine(e.Message);

    // (the runtime's exception at a heap limit has no message of its own: it reads as Exception's words for the type)
    static readonly string[] GenericOutOfMemory = [new OutOfMemoryException().Message, $"Exception of type '{typeof(OutOfMemoryException).FullName}' was thrown."];

    // The library's words for a shape with more elements than a .NET array can hold (CpuBackend.Empty, DataTensors, convolution).
    static readonly string[] TensorTooLarge = ["more than a CPU tensor can hold", "is too large for one tensor", "tensors larger than 2^31 elements are not supported"];

    static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: 1 } a: e = a.InnerExceptions[0]; continue;
                // Parallel work fails on several threads at once (make-data's image writers all meet the full disk):
                // the first real failure stands for them, not a cancellation it caused.
                case AggregateException { InnerExceptions.Count: > 1 } a:
                    e = a.Flatten().InnerExceptions.FirstOrDefault(x => x is not OperationCanceledException) ?? a.InnerExceptions[0];
                    continue;
                case TargetInvocationException { InnerException: Exception inner }: e = inner; continue;
                case TypeInitializationException { InnerException: Exception inner }: e = inner; continue;
                default: return e;
            }
        }
    }

    // Every checkpoint verification failure is a CheckpointException. Besides: a weights file refused by the safetensors
    // reader, LoadStateDict's mismatch (PyTorch's words) when a model is loaded by hand, and a checkpoint folder that is
    // not there (a DirectoryNotFoundException, so that callers catching "not found" keep working).
    static bool IsCheckpoint(Exception e)
        => e is CheckpointException
           || e is InvalidDataException && e.Message.StartsWith("safetensors:", StringComparison.Ordinal)
           || e is InvalidOperationException && e.Message.StartsWith(StateDictMismatch, StringComparison.Ordinal)
           || e is DirectoryNotFoundException && e.Message.StartsWith("checkpoint:", StringComparison.Ordinal);

    const string StateDictMismatch = "Error(s) in loading state_dict";

    // The library's advice for non-finite weights, and the same advice as the commands that load weights give it.
    const string AllowNonFiniteAdvice = "(allow non-finite weights explicitly to load it anyway)";
    const string AllowNonFiniteOption = "(--allow-non-finite loads it anyway)";

    static string Checkpoint(Exception e)
    {
        var lines = e.Message.Replace(AllowNonFiniteAdvice, AllowNonFiniteOption, StringComparison.Ordinal)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shown = string.Join("; ", lines.Take(3).Select(l => l.Length > 300 ? l[..300] + "…" : l));
        var more = lines.Length > 3 ? $" (and {lines.Length - 3} more)" : "";
        var hint = e.Message.Contains(StateDictMismatch, StringComparison.Ordinal)
            ? "; the checkpoint does not hold the model that the run's args.yaml (for --weights: the checkpoint's own checkpoint.json) describes; was one of them edited, or copied from another run?"
            : MissingCheckpoint(e);
        return shown + more + hint;
    }

    // "checkpoint: folder not found: RUN/best" where RUN/last exists, and RUN/last of a run that never saved one.
    static string MissingCheckpoint(Exception e)
    {
        const string prefix = "checkpoint: folder not found: ";
        if (e is not DirectoryNotFoundException || !e.Message.StartsWith(prefix, StringComparison.Ordinal)) return "";
        var folder = e.Message[prefix.Length..].TrimEnd('/');
        if (Path.GetDirectoryName(folder) is not string run) return "";
        var args = Path.Combine(run, "args.yaml");
        if (Path.GetFileName(folder) == "best" && Directory.Exists(Path.Combine(run, "last")))
            return $"; {run} has no best/ checkpoint (it stopped before an epoch completed); use --checkpoint last";
        if (Path.GetFileName(folder) != "last" || !File.Exists(args) || Directory.Exists(Path.Combine(run, "best"))) return "";
        // a run killed in its first epoch: its args.yaml trains it again
        var again = RunFolderCheck.Identify(run) switch
        {
            RunFolderKind.Classification => $" with `ember train --config {args}`",
            RunFolderKind.Detection => $" with `ember detect train --config {args}`",
            _ => "",
        };
        return $"; {run} has no last/ checkpoint: it stopped before its first checkpoint was saved (there is nothing to resume or evaluate); start it again{again} (into a new run folder)";
    }

    static string Diverged(TrainingDivergedException d)
    {
        var message = d.Message.StartsWith("Trainer: ", StringComparison.Ordinal) ? d.Message["Trainer: ".Length..] : d.Message;
        int cut = message.IndexOf("; lower the", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        var last = d.Data[LastFiniteLossKey] is double loss
            ? string.Create(CultureInfo.InvariantCulture, $"; the last finite loss was {loss:G6}{(d.Data[LastFiniteAtKey] is string at ? $" ({at})" : "")}")
            : "";
        return $"training diverged: {message}{last}. Usual remedies: lower --lr (e.g. 10× smaller), add --clip-grad 1.0, " +
               "add --warmup-steps 100 with --schedule cosine, try --amp none, and check the data for NaN or huge values";
    }

    // ENOSPC (28) and EDQUOT (122) on Linux; .NET keeps the errno in HResult for I/O errors it does not map to a type.
    internal static bool IsDiskFull(IOException e)
        => e.HResult is 28 or 122 || (e.HResult & 0xFFFF) == 0x70 /* ERROR_DISK_FULL */ || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
           || e.InnerException is IOException inner && IsDiskFull(inner);

    internal static string FirstLine(string message) => message.Split('\n')[0].Trim();

    // .NET names the file it could not create or write; for a file written through AtomicFile that is the hidden
    // temporary beside it (DIR/.NAME.PID.GUID.tmp), which the user knows as DIR/NAME; in a checkpoint being saved, the
    // folder is the hidden staging one (RUN/.last.new/), which the user knows as RUN/last/ (a real full disk named
    // RUN/.last.new/.optimizer.safetensors.PID.GUID.tmp, two names that were gone when the message was read).
    static readonly Regex AtomicTemporary = new(@"(^|/)\.([^/']+)" + AtomicFile.TemporarySuffix, RegexOptions.CultureInvariant);
    static readonly Regex CheckpointStaging = new(@"(^|/)\.([^/']+)" + Regex.Escape(Ember.Training.Checkpoint.StagingSuffix) + "/", RegexOptions.CultureInvariant);

    static string RealNames(string message) => CheckpointStaging.Replace(AtomicTemporary.Replace(message, "$1$2"), "$1$2/");

    static string FileSystem(IOException e)
    {
        var message = RealNames(FirstLine(e.Message));
        const string readOnly = "Read-only file system : '";
        return message.StartsWith(readOnly, StringComparison.Ordinal) && message.EndsWith('\'')
            ? $"cannot write {message[readOnly.Length..^1]}: the file system is read-only; write elsewhere (--output, --project) or copy the run folder somewhere writable"
            : message;
    }

    static string Strip(string message) => FirstLine(message).TrimEnd('.');
}
