using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ember.Cli.Commands;

/// <summary>
/// Keeps a run folder to one training process at a time: an exclusive flock(2) on the folder itself, held while a
/// command trains in it (<see cref="Hold"/>: a new run, a --resume, a study) and let go by the kernel when the process
/// ends however it ends (kill -9 too), so that no stale lock can be left and nothing is written into the folder for it.
/// A second process on the folder (`--resume` of a run still training, a resume started twice) is refused before it
/// reads or writes anything (<see cref="RequireFree"/>, which every --resume runs first): two writers would each save
/// their own last/ and best/ and append their own metrics.csv rows, so that the folder's files no longer belong
/// together. Where flock cannot be had (not Linux; a file system that refuses it, as NFS does on a folder) nothing is
/// locked, as before.
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    readonly FolderHandle handle;

    RunFolderLock(FolderHandle handle) => this.handle = handle;

    /// <summary>Lets the folder go.</summary>
    public void Dispose() => handle.Dispose();

    /// <summary>
    /// Locks <paramref name="folder"/> for this process until <see cref="Dispose"/>; throws a
    /// <see cref="RunFolderBusyException"/> naming the process that holds it (<paramref name="resume"/> is the command
    /// that resumes the run once it is free, "ember train --resume"). Null where nothing can be locked.
    /// </summary>
    public static RunFolderLock? Hold(string folder, string resume) => Hold(folder, () => resume);

    /// <summary><see cref="Hold(string, string)"/> with the resume command worked out only for the refusal.</summary>
    public static RunFolderLock? Hold(string folder, Func<string> resume)
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists(folder)) return null;
        FolderHandle handle;
        try { handle = Open(folder, ReadOnly | CloseOnExec); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return null; }
        if (handle.IsInvalid)
        {
            handle.Dispose();
            return null;
        }
        if (Flock(handle, Exclusive | NonBlocking) == 0) return new RunFolderLock(handle);
        int errno = Marshal.GetLastPInvokeError();
        handle.Dispose();
        if (errno != WouldBlock) return null; // a file system without flock: unlocked, as before
        throw new RunFolderBusyException(folder, resume(), Holder(folder));
    }

    /// <summary>
    /// Throws a <see cref="RunFolderBusyException"/> when another process holds <paramref name="folder"/> (see <see cref="Hold"/>);
    /// holds nothing itself.
    /// </summary>
    public static void RequireFree(string folder, Func<string> resume) => Hold(folder, resume)?.Dispose();


    // The process that has the folder open (the lock's holder: nothing else keeps a run folder open), and how it was
    // started ("ember train --resume RUN"), looked for only once a lock is refused; null when it cannot be seen (another
    // user's process, another PID namespace).
    static (int Pid, string? Command)? Holder(string folder)
    {
        var target = Path.GetFullPath(folder).TrimEnd('/');
        IEnumerable<int> pids;
        try { pids = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Select(n => int.TryParse(n, out int p) ? p : -1).Where(p => p > 0); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        foreach (int pid in pids)
        {
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
                    if (new FileInfo(fd).LinkTarget is string linked && linked.TrimEnd('/') == target)
                        return (pid, CommandLine(pid));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return null;
    }

    // "ember train --resume RUN" from /proc/PID/cmdline (the host and Ember.Cli.dll left out), at most 200 characters.
    static string? CommandLine(int pid)
    {
        try
        {
            var parts = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
            int cli = Array.FindIndex(parts, p => p.EndsWith("Ember.Cli.dll", StringComparison.Ordinal) || Path.GetFileName(p) == "ember");
            var text = cli >= 0 ? string.Join(' ', ["ember", .. parts[(cli + 1)..]]) : string.Join(' ', parts);
            return text.Length > 200 ? text[..200] + "…" : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    const int ReadOnly = 0, CloseOnExec = 0x80000; // O_RDONLY, O_CLOEXEC (the same on x64 and arm64)
    const int Exclusive = 2, NonBlocking = 4;      // LOCK_EX, LOCK_NB
    const int WouldBlock = 11;                      // EWOULDBLOCK (EAGAIN) on Linux

    sealed class FolderHandle() : SafeHandleMinusOneIsInvalid(ownsHandle: true)
    {
        protected override bool ReleaseHandle() => CloseFd((int)handle) == 0;
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    static extern FolderHandle Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
    static extern int Flock(FolderHandle fd, int operation);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    static extern int CloseFd(int fd);
}
