using System.Runtime.InteropServices;
using Ember.Interop;

namespace Ember.Cli.Commands;

/// <summary>
/// Ctrl-C and SIGTERM while a command that computes and then writes files runs (export, detect val, detect predict,
/// forecast eval and predict, variance-shift, lora-transfer). The first signal lets the file writes under way end, each
/// renamed whole over its target (<see cref="AtomicFile.StopWrites"/>), starts no other, prints "ember: interrupted
/// (SIGTERM|Ctrl-C); OUTCOME" and ends the process with 143 or 130; OUTCOME is the command's account of what is on disk
/// then (asked after the writes stopped, so it holds still). Unlike <see cref="SignalCancel"/> nothing checks a token: a
/// command that is computing has nothing half done to leave. A second signal is not cancelled and ends the process at
/// once, which is kill -9's case: a write cut short leaves its temporary, which the command's next run removes
/// (<see cref="StaleTemporaries"/>).
/// </summary>
internal sealed class SignalExit : IDisposable
{
    readonly PosixSignalRegistration interrupt, terminate;
    int signal; // 0 until the first signal, then its number

    /// <summary>Handles both signals until disposed; <paramref name="outcome"/> says what the command leaves (see <see cref="Outcome"/>).</summary>
    public SignalExit(Func<string, string> outcome)
    {
        Outcome = outcome;
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>
    /// What the command leaves if stopped now, and how to redo the rest: the argument goes before that advice ("" after a
    /// signal, "free some space, then " on a full disk). A command sets it anew once it knows where it writes.
    /// </summary>
    public Func<string, string> Outcome { get; set; }

    /// <summary>
    /// A full disk met by the command, as the user reads it: "the disk is full (the file refused); OUTCOME" with the advice
    /// to free some space first (<see cref="RunDiskFullException"/>), not the generic advice to write elsewhere.
    /// </summary>
    public RunDiskFullException DiskFull(IOException e) => new(e, Outcome(FreeSomeSpace));

    /// <summary>The redo advice's start after a full disk.</summary>
    public const string FreeSomeSpace = "free some space, then ";

    /// <summary>
    /// Runs <paramref name="action"/> (a command's whole work) under the signals' handler with <paramref name="outcome"/>
    /// as its first account, and turns a full disk it meets into <see cref="DiskFull"/>'s message; returns its exit code.
    /// The action may set <see cref="Outcome"/> anew once it knows where it writes.
    /// </summary>
    public static int Run(Func<string, string> outcome, Func<SignalExit, int> action)
    {
        using var signals = new SignalExit(outcome);
        try { return action(signals); }
        catch (IOException e) when (CliErrors.IsDiskFull(e)) { throw signals.DiskFull(e); }
    }

    /// <summary><see cref="Run(Func{string, string}, Func{SignalExit, int})"/> for an action that ends with 0 when it returns.</summary>
    public static int Run(Func<string, string> outcome, Action action) => Run(outcome, _ =>
    {
        action();
        return 0;
    });

    // Runs on a thread of its own (the runtime starts one per SIGINT or SIGTERM), so it may wait for the writes.
    void OnSignal(PosixSignalContext context)
    {
        bool term = context.Signal == PosixSignal.SIGTERM;
        if (Interlocked.CompareExchange(ref signal, term ? 15 : 2, 0) != 0) return; // the second: the default action, at once
        context.Cancel = true;
        try
        {
            AtomicFile.StopWrites();
            string said;
            try { said = Outcome(""); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { said = $"what was written could not be read back ({CliErrors.FirstLine(e.Message)})"; }
            var error = Console.Error;
            error.WriteLine($"ember: interrupted ({(term ? "SIGTERM" : "Ctrl-C")}); {said}");
            error.Flush();
            Console.Out.Flush();
        }
        // whatever goes wrong here (stderr closed), the process ends as signalled, not on an unhandled exception's trace
        catch (Exception) { }
        finally { Environment.Exit(term ? 143 : ExitCodes.Interrupted); }
    }

    /// <summary>
    /// A file's state (whether it exists, its last write and length), to tell later whether this command replaced it
    /// (<see cref="Changed"/>): every file is written through a new temporary renamed over it.
    /// </summary>
    public static (bool Exists, DateTime Written, long Length) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (true, info.LastWriteTimeUtc, info.Length) : (false, default, 0);
    }

    /// <summary>Whether <paramref name="path"/> exists and is not the file <paramref name="before"/> stamped.</summary>
    public static bool Changed(string path, (bool Exists, DateTime Written, long Length) before)
    {
        var now = Stamp(path);
        return now.Exists && now != before;
    }

    /// <summary>The stamps (<see cref="Stamp"/>) of the files in <paramref name="folder"/> itself; none when it is not there or cannot be read.</summary>
    public static Dictionary<string, (bool Exists, DateTime Written, long Length)> Stamps(string folder)
    {
        var stamps = new Dictionary<string, (bool, DateTime, long)>();
        try
        {
            if (Directory.Exists(folder))
                foreach (var file in Directory.EnumerateFiles(folder)) stamps[Path.GetFileName(file)] = Stamp(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a folder the command's own checks refuse
        return stamps;
    }

    /// <summary>The names of the files in <paramref name="folder"/> that are new or replaced since <paramref name="before"/>, in order.</summary>
    public static List<string> Written(string folder, Dictionary<string, (bool Exists, DateTime Written, long Length)> before)
    {
        var written = new List<string>();
        if (!Directory.Exists(folder)) return written;
        foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
            if (!before.TryGetValue(Path.GetFileName(file), out var stamp) || Changed(file, stamp)) written.Add(Path.GetFileName(file));
        return written;
    }

    /// <summary>
    /// What an experiment command (variance-shift, lora-transfer) leaves in its run folder: args.yaml, metrics.csv
    /// rewritten whole after each finished run, and <paramref name="table"/> at the end.
    /// </summary>
    public static string ExperimentOutcome(string folder, string table, string command, string then)
    {
        if (!File.Exists(Path.Combine(folder, "args.yaml"))) return $"nothing was written ({folder}, made for this run, is empty); {then}run `{command}` again";
        var metrics = Path.Combine(folder, "metrics.csv");
        int rows = File.Exists(metrics) ? Math.Max(0, File.ReadLines(metrics).Count() - 1) : 0;
        if (File.Exists(Path.Combine(folder, table))) return $"{folder} holds every run's rows in metrics.csv and {table}, whole, written before the stop";
        return $"{folder} holds args.yaml and {(rows == 0 ? "no finished run (no metrics.csv)" : $"the {rows} finished run(s)' rows in metrics.csv")}, whole, " +
               $"but not {table}; {then}run `{command}` again with the same options for all of it (it writes a new expN)";
    }

    public void Dispose()
    {
        // the command ended (or failed) while a signal's handler ends the process: that exit, with its code and line, is the one
        if (Volatile.Read(ref signal) != 0) Thread.Sleep(Timeout.Infinite);
        interrupt.Dispose();
        terminate.Dispose();
    }
}
