using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Ember.Interop;

/// <summary>Writes files so that a crash or Ctrl-C never leaves a half-written file: write a temporary file, flush, rename.</summary>
public static class AtomicFile
{
    /// <summary>Test hook: given the target path and the temporary file's stream, returns the stream to write through
    /// (a wrapper that fails part-way stands for a disk that fills up during the write).</summary>
    internal static readonly AsyncLocal<Func<string, Stream, Stream>?> FaultInjection = new();

    // Every write holds this shared until its temporary is renamed or removed; StopWrites takes it exclusively for the
    // rest of the process. (Recursive, so that a write's delegate may write another file, and the stopping thread too.)
    static readonly ReaderWriterLockSlim writes = new(LockRecursionPolicy.SupportsRecursion);

    /// <summary>
    /// Waits until every write under way has ended (its temporary renamed over the target, or removed) and holds back every
    /// later write of this process for good: what a process ending on a signal does first, so that its exit leaves no
    /// temporary and no half-written file (a write held back waits, its thread parked until the exit). For a process
    /// about to end only.
    /// </summary>
    public static void StopWrites()
    {
        if (!writes.IsWriteLockHeld) writes.EnterWriteLock();
    }

    /// <summary>
    /// Runs <paramref name="touch"/> as one write: <see cref="StopWrites"/> waits for it to end. For files that belong
    /// together (a picture and its labels, both written here) and for a short-lived file made and removed (a probe of
    /// whether a folder can be written), so that a process ending on a signal leaves neither half a pair nor a probe.
    /// </summary>
    public static void AsWrite(Action touch)
    {
        writes.EnterReadLock();
        try { touch(); }
        finally { writes.ExitReadLock(); }
    }

    /// <summary>Whether this thread is inside a write (<see cref="Write"/> or <see cref="AsWrite"/>), which a stop waits for; for tests.</summary>
    internal static bool InWrite => writes.IsReadLockHeld;

    /// <summary>Writes through <paramref name="write"/> into a temporary file beside <paramref name="path"/>, then renames it over the target.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        writes.EnterReadLock();
        try { WriteWhole(path, write); }
        finally { writes.ExitReadLock(); }
    }

    static void WriteWhole(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full) && Data.UntrustedFile.IsSpecial(full))
        {
            // A device or FIFO (--output /dev/null, /dev/full) is written in place: a rename would replace the device node itself.
            using var device = new FileStream(full, FileMode.Open, FileAccess.Write);
            write(FaultInjection.Value is { } wrapDevice ? wrapDevice(full, device) : device);
            device.Flush();
            return;
        }
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, TemporaryName(Path.GetFileName(full), Environment.ProcessId));
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(FaultInjection.Value is { } wrap ? wrap(full, stream) : stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Writes text atomically.</summary>
    public static void WriteAllText(string path, string text)
        => Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    /// <summary>The name of a temporary that process <paramref name="pid"/> writes before renaming it to <paramref name="name"/>: hidden, and unique.</summary>
    internal static string TemporaryName(string name, int pid) => $".{name}.{pid}.{Guid.NewGuid():N}.tmp";

    /// <summary>What follows the target's name in a temporary's name (<see cref="TemporaryName"/>), as a regular expression.</summary>
    internal const string TemporarySuffix = @"\.(?<pid>\d+)\.[0-9a-f]{32}\.tmp";

    static readonly Regex Temporary = new($@"^\..+{TemporarySuffix}$", RegexOptions.CultureInvariant);

    // How much later than a temporary's last write its PID's process must have started to count as another process with
    // the same PID: file times and process start times come from different clocks (a network mount's, the kernel's).
    static readonly TimeSpan ClockSlack = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Removes the temporaries (<see cref="TemporaryName"/>) under <paramref name="folder"/> and its subfolders (links not
    /// followed) whose writer is gone: a process killed outright (kill -9, a power cut) leaves its temporary behind, and
    /// nothing else would ever remove it. A writer is gone when no process has the PID in the name, or the one that has it
    /// started well after (<see cref="ClockSlack"/>) the temporary was last written (the PID was used again, as in a
    /// container where every run is PID 1).
    /// A temporary of a running writer is kept, this process's own included, and so is one that cannot be removed (a
    /// read-only folder). Returns the paths removed. With <paramref name="recursive"/> false, only <paramref name="folder"/>
    /// itself is looked at: a folder that is not the command's own (export's --output may be in a home folder).
    /// </summary>
    public static IReadOnlyList<string> RemoveStaleTemporaries(string folder, bool recursive = true)
    {
        var removed = new List<string>();
        // hidden files are what is looked for; links are skipped so that nothing outside the folder is touched
        var options = new EnumerationOptions { RecurseSubdirectories = recursive, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var path in Directory.EnumerateFiles(folder, "*.tmp", options))
        {
            var match = Temporary.Match(Path.GetFileName(path));
            if (!match.Success || !int.TryParse(match.Groups["pid"].ValueSpan, out var pid)) continue;
            try
            {
                if (!WriterGone(pid, File.GetLastWriteTimeUtc(path))) continue;
                File.Delete(path);
                removed.Add(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    static bool WriterGone(int pid, DateTime lastWriteUtc)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.StartTime.ToUniversalTime() > lastWriteUtc + ClockSlack;
        }
        catch (ArgumentException) { return true; } // no process has this PID
        // the process ended meanwhile, or its start time cannot be read (another user's, on some systems): keep the file
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException) { return false; }
    }
}
